//! `df` output: `-h`, `-k`, `-T`, `-hT`, `-P`, and the illumos/BSD `Capacity` header; a
//! device name too long for its column wraps the rest of the row onto the next line.

use super::shell;
use crate::model::host::Mount;
use crate::model::{InputId, Location};

#[derive(Debug, Default)]
pub struct DfOutput {
    pub mounts: Vec<Mount>,
    pub unparsed_lines: u64,
    /// Line of a row cut short at the end of the text.
    pub cut_row: Option<u64>,
    /// The host the first prompt names.
    pub host: Option<String>,
}

/// How a table's size columns are counted.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Header {
    has_type: bool,
    /// Bytes per unit for plain numbers (`1K-blocks` → 1024); `-h` sizes carry their unit.
    block: u64,
}

/// Whether a line is a `df` header (`Filesystem ... Mounted on`).
fn header(line: &str) -> Option<Header> {
    let t = line.trim();
    if !t.starts_with("Filesystem") || !t.ends_with("Mounted on") || t.contains("Inodes") {
        return None;
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let has_type = words.get(1) == Some(&"Type");
    let size = words.get(if has_type { 2 } else { 1 })?;
    let block = match *size {
        "Size" => 1,
        s => {
            let n = s.strip_suffix("-blocks")?;
            let (num, unit) = n.split_at(n.find(|c: char| !c.is_ascii_digit()).unwrap_or(n.len()));
            let num: u64 = if num.is_empty() { 1 } else { num.parse().ok()? };
            num.checked_mul(unit_bytes(unit)?)?
        }
    };
    let pct = words.iter().any(|w| *w == "Use%" || *w == "Capacity");
    pct.then_some(Header { has_type, block })
}

fn unit_bytes(u: &str) -> Option<u64> {
    Some(match u {
        "" | "B" => 1,
        "K" | "k" | "KB" | "KiB" => 1 << 10,
        "M" | "MB" | "MiB" => 1 << 20,
        "G" | "GB" | "GiB" => 1 << 30,
        "T" | "TB" | "TiB" => 1 << 40,
        "P" | "PB" | "PiB" => 1 << 50,
        "E" | "EB" | "EiB" => 1 << 60,
        _ => return None,
    })
}

/// A size cell: `8.0G`, `432K`, `0`, `649.21M`, or a number of blocks; `-` is unknown.
fn size(cell: &str, block: u64) -> Option<Option<u64>> {
    if cell == "-" {
        return Some(None);
    }
    let split = cell
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(cell.len());
    let (num, unit) = cell.split_at(split);
    let n: f64 = num.replace(',', ".").parse().ok()?;
    let mult = if unit.is_empty() {
        block as f64
    } else {
        unit_bytes(unit)? as f64
    };
    Some(Some((n * mult) as u64))
}

fn pct(cell: &str) -> Option<Option<f64>> {
    if cell == "-" {
        return Some(None);
    }
    cell.strip_suffix('%')?.parse().ok().map(Some)
}

/// Whether the text holds a `df` table.
pub fn looks_like(text: &str) -> bool {
    text.lines().take(2000).any(|l| header(l).is_some())
}

/// Reads every `df` table of a text.
pub fn parse(text: &str, input: InputId) -> DfOutput {
    let mut out = DfOutput::default();
    let mut table: Option<Header> = None;
    let mut host: Option<String> = None;
    // A device name alone on its line: the rest of its row is on the next line.
    let mut wrapped: Option<(u64, String)> = None;
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    let ends_cut = !text.ends_with('\n');
    for (i, raw) in lines.iter().enumerate() {
        let n = i as u64 + 1;
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        if let Some(c) = shell::command_line(line, &["df"]) {
            if c.host.is_some() {
                host = c.host;
                out.host = out.host.take().or_else(|| host.clone());
            }
            table = None;
            continue;
        }
        if let Some(h) = header(line) {
            table = Some(h);
            continue;
        }
        let Some(h) = table else {
            // Text around the tables (a prompt, prose) is not a df row.
            out.unparsed_lines += 1;
            continue;
        };
        let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let mut at = n;
        if let Some((wl, fs)) = wrapped.take() {
            words.insert(0, fs);
            at = wl;
        }
        let want = if h.has_type { 6 } else { 5 };
        if words.len() == 1 && !line.starts_with(char::is_whitespace) {
            wrapped = Some((n, words.remove(0)));
            if Some(i) == last {
                out.cut_row = Some(n);
            }
            continue;
        }
        let row = (words.len() >= want).then(|| row(&words, h)).flatten();
        match row {
            Some(mut m) => {
                m.loc = Location { input, line: at };
                m.host = host.clone();
                out.mounts.push(m);
                if Some(i) == last && ends_cut {
                    out.cut_row = Some(n);
                }
            }
            None if Some(i) == last => out.cut_row = Some(n),
            None => {
                out.unparsed_lines += 1;
                table = None;
            }
        }
    }
    out
}

fn row(words: &[String], h: Header) -> Option<Mount> {
    let mut it = words.iter();
    let filesystem = it.next()?.clone();
    let fstype = if h.has_type {
        Some(it.next()?.clone())
    } else {
        None
    };
    let size_v = size(it.next()?, h.block)?;
    let used = size(it.next()?, h.block)?;
    let available = size(it.next()?, h.block)?;
    let use_pct = pct(it.next()?)?;
    let mount = it.map(String::as_str).collect::<Vec<_>>().join(" ");
    if mount.is_empty() {
        return None;
    }
    Some(Mount {
        loc: Location {
            input: InputId(0),
            line: 0,
        },
        filesystem,
        fstype,
        size: size_v,
        used,
        available,
        use_pct,
        mount,
        host: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_types_and_wrapped_devices() {
        let t = "$ df -hT\nFilesystem     Type   Size  Used Avail Use% Mounted on\n/dev/md0       xfs    550G  262G  261G  51% /mnt/disk\n/dev/mapper/very-long-volume-name\n               ext4   2.0G  1.9G  100M  95% /data\n";
        let o = parse(t, InputId(0));
        assert_eq!(o.mounts.len(), 2);
        assert_eq!(o.mounts[0].size, Some(550 << 30));
        assert_eq!(o.mounts[0].fstype.as_deref(), Some("xfs"));
        assert_eq!(o.mounts[1].filesystem, "/dev/mapper/very-long-volume-name");
        assert_eq!(o.mounts[1].use_pct, Some(95.0));
        assert_eq!(o.mounts[1].loc.line, 4);
        assert_eq!(o.cut_row, None);
        let k = "Filesystem     1K-blocks    Used Available Use% Mounted on\n/dev/sda1       8065444 1042968   7006092  13% /\n";
        let o = parse(k, InputId(0));
        assert_eq!(o.mounts[0].available, Some(7006092 * 1024));
        let cut = &k[..k.len() - 10];
        assert_eq!(parse(cut, InputId(0)).cut_row, Some(2));
    }
}
