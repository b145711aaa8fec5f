//! The one place text from a bundle is made safe for a terminal or a markdown file: control
//! characters (and the invisible ones that reorder or hide text) are shown, never sent. An
//! ESC becomes `\x1b`, a BEL `\x07`, a C1 or bidi control `\u{9b}` / `\u{202e}`. JSON output
//! does not use this: it stays exact.

use std::borrow::Cow;
use std::fmt::Write;

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c as u32,
            // zero-width and direction marks, bidi embeddings/overrides/isolates, BOM,
            // interlinear annotations
            0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF | 0xFFF9..=0xFFFB
        )
}

/// `s` with every control character shown as an escape (`\x1b`, `\t`, `\u{9b}`). Newlines
/// are escaped too: use [`escape_lines`] for text of several lines.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`] of each line, the line ends kept.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for (k, line) in s.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        out.push_str(&escape(line));
    }
    Cow::Owned(out)
}

/// The colours the table itself writes (and only those pass [`escape_output`] with colour on).
pub(crate) const SGR: &[&str] = &[
    "\x1b[0m",
    "\x1b[1m",
    "\x1b[2m",
    "\x1b[1;31m",
    "\x1b[1;33m",
    "\x1b[1;36m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[35m",
];

/// A whole report, escaped line by line; with `colour`, the table's own colour codes
/// ([`SGR`]) are kept and every other escape sequence is shown.
pub fn escape_output(s: &str, colour: bool) -> Cow<'_, str> {
    if !colour {
        return escape_lines(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&escape_lines(&rest[..at]));
        let tail = &rest[at..];
        if let Some(code) = SGR.iter().find(|c| tail.starts_with(**c)) {
            out.push_str(code);
            rest = &tail[code.len()..];
        } else {
            out.push_str("\\x1b");
            rest = &tail[1..];
        }
    }
    out.push_str(&escape_lines(rest));
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown() {
        assert_eq!(
            escape("\x1b]0;X\x07\x1b[2J.log"),
            "\\x1b]0;X\\x07\\x1b[2J.log"
        );
        assert_eq!(escape("a\tb\nc"), "a\\tb\\nc");
        assert_eq!(
            escape("\u{9b}2J \u{202e}gol.txt"),
            "\\u{9b}2J \\u{202e}gol.txt"
        );
        assert_eq!(escape("tidb-deploy/…/pd.log"), "tidb-deploy/…/pd.log");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape_lines("a\x1b\nb\n"), "a\\x1b\nb\n");
    }

    #[test]
    fn only_the_tables_own_colours_survive() {
        let s = "\x1b[1;31mcritical\x1b[0m \x1b[2J\x1b]0;X\x07";
        assert_eq!(
            escape_output(s, true),
            "\x1b[1;31mcritical\x1b[0m \\x1b[2J\\x1b]0;X\\x07"
        );
        assert_eq!(
            escape_output(s, false),
            "\\x1b[1;31mcritical\\x1b[0m \\x1b[2J\\x1b]0;X\\x07"
        );
    }
}
