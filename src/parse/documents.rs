//! Documents inside text and documents cut short.
//!
//! A JSON answer pasted into a shell transcript, a test log or a ticket is often cut (a chat
//! client or a web page stops mid-document) or elided (`...`). [`scan`] walks such a text once,
//! byte by byte, and reports every object that closed before the cut, at any depth, with the
//! containers still open where the text stops, so that a reader keeps what is complete and
//! says what is missing. It never fails: any bytes give an answer.

/// One complete object: its byte span in the scanned text and its depth (0 = the top).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub depth: usize,
}

/// A container still open where the text stops: `{` or `[`, where it opened, and the key it
/// is the value of (`"regions": [`), if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    pub bracket: u8,
    pub at: usize,
    pub key: Option<String>,
    /// Complete values directly inside it so far (entries of a list, members of an object).
    pub items: usize,
}

/// What [`scan`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Complete objects, in the order they close (children before their parent).
    pub objects: Vec<Span>,
    /// Where the top-level value ended, when it did.
    pub end: Option<usize>,
    /// Containers open at the cut, outermost first (empty when the document is whole).
    pub open: Vec<Open>,
    /// Closers met with nothing open: the text starts inside a document (its top is missing).
    pub top_missing: usize,
    /// A closer that does not match what is open: the text is not JSON from there on.
    pub broken_at: Option<usize>,
}

impl Scan {
    /// True when the text stops inside the document.
    pub fn is_cut(&self) -> bool {
        self.end.is_none() && !self.open.is_empty()
    }

    /// The innermost open list with its key (`regions`, `stores`, `stages`), if any.
    pub fn open_list(&self) -> Option<&Open> {
        self.open
            .iter()
            .rev()
            .find(|o| o.bracket == b'[' && o.key.is_some())
    }
}

/// Upper bound on the objects one scan records (a bounded answer for any input).
const MAX_OBJECTS: usize = 1 << 20;

/// Scans a JSON text that may be cut anywhere or start inside a document. It stops at the end
/// of the first top-level value, at a closer that does not match, or at the end of the text.
pub fn scan(s: &[u8]) -> Scan {
    let mut out = Scan::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut in_string = false;
    let mut escape = false;
    let mut string_start = 0usize;
    // The last string read and whether a `:` followed it: the key of the next value.
    let mut last_string: Option<(usize, usize)> = None;
    let mut colon_after_string = false;
    let mut i = 0usize;
    while i < s.len() {
        let c = s[i];
        if in_string {
            if escape {
                escape = false;
            } else if c == b'\\' {
                escape = true;
            } else if c == b'"' {
                in_string = false;
                last_string = Some((string_start, i));
                colon_after_string = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                string_start = i + 1;
            }
            b':' => colon_after_string = last_string.is_some(),
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.items += 1;
                }
                last_string = None;
                colon_after_string = false;
            }
            b'{' | b'[' => {
                let key = if colon_after_string {
                    last_string
                        .and_then(|(a, b)| s.get(a..b))
                        .map(|k| String::from_utf8_lossy(&k[..k.len().min(64)]).into_owned())
                } else {
                    None
                };
                stack.push(Open {
                    bracket: c,
                    at: i,
                    key,
                    items: 0,
                });
                last_string = None;
                colon_after_string = false;
            }
            b'}' | b']' => {
                let want = if c == b'}' { b'{' } else { b'[' };
                match stack.pop() {
                    Some(o) if o.bracket == want => {
                        if c == b'}' && out.objects.len() < MAX_OBJECTS {
                            out.objects.push(Span {
                                start: o.at,
                                end: i + 1,
                                depth: stack.len(),
                            });
                        }
                        if stack.is_empty() {
                            // A document that started inside another one goes on to its
                            // closers; a whole one ends here.
                            if out.top_missing == 0 && started_at_top(s, o.at) {
                                out.end = Some(i + 1);
                                return out;
                            }
                        }
                    }
                    Some(o) => {
                        stack.push(o);
                        out.broken_at = Some(i);
                        break;
                    }
                    None => out.top_missing += 1,
                }
                last_string = None;
                colon_after_string = false;
            }
            _ => {}
        }
        i += 1;
    }
    out.open = stack;
    out
}

/// True when nothing but white space precedes `at` (the value at `at` is the top one).
fn started_at_top(s: &[u8], at: usize) -> bool {
    s.get(..at)
        .is_some_and(|p| p.iter().all(u8::is_ascii_whitespace))
}

/// The value a JSON text starts with when the text may be cut (or elided with `...`) anywhere:
/// every complete member of its objects, every complete entry of its lists, and an object or
/// list member cut short with what it holds so far (a cut `"store": {` keeps the fields read).
/// A cut entry of a list is left out (a list keeps whole records only). The flag is true when
/// the value was whole.
pub fn prefix_value(s: &str) -> Option<(serde_json::Value, bool)> {
    let mut p = Prefix {
        s: s.as_bytes(),
        i: 0,
        keep_cut: true,
    };
    p.ws();
    p.value(0)
}

/// Like [`prefix_value`], but a member cut short is left out whatever its type: only whole
/// members (the fields of a log line cut in the middle).
pub fn whole_members(s: &str) -> Option<serde_json::Value> {
    let mut p = Prefix {
        s: s.as_bytes(),
        i: 0,
        keep_cut: false,
    };
    p.ws();
    p.value(0).map(|(v, _)| v)
}

/// Nesting deeper than this is not followed (a bounded stack for any input).
const MAX_DEPTH: usize = 128;

struct Prefix<'a> {
    s: &'a [u8],
    i: usize,
    /// Keep an object member cut short (with what it holds so far).
    keep_cut: bool,
}

impl Prefix<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    /// Skips white space and commas; true when the container's closer follows (consumed).
    fn at_close(&mut self, close: u8) -> bool {
        loop {
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// A value and whether it is whole; `None` when nothing usable starts here.
    fn value(&mut self, depth: usize) -> Option<(serde_json::Value, bool)> {
        use serde_json::Value;
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => {
                self.i += 1;
                let mut m = serde_json::Map::new();
                loop {
                    if self.at_close(b'}') {
                        return Some((Value::Object(m), true));
                    }
                    if self.peek() != Some(b'"') {
                        return Some((Value::Object(m), false));
                    }
                    let Some(key) = self.string() else {
                        return Some((Value::Object(m), false));
                    };
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Some((Value::Object(m), false));
                    }
                    self.i += 1;
                    self.ws();
                    match self.value(depth + 1) {
                        Some((v, true)) => {
                            m.insert(key, v);
                        }
                        Some((v @ (Value::Object(_) | Value::Array(_)), false)) => {
                            if self.keep_cut {
                                m.insert(key, v);
                            }
                            return Some((Value::Object(m), false));
                        }
                        _ => return Some((Value::Object(m), false)),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                loop {
                    if self.at_close(b']') {
                        return Some((Value::Array(a), true));
                    }
                    if self.peek().is_none() {
                        return Some((Value::Array(a), false));
                    }
                    match self.value(depth + 1) {
                        Some((v, true)) => a.push(v),
                        _ => return Some((Value::Array(a), false)),
                    }
                }
            }
            b'"' => self.string().map(|s| (Value::String(s), true)),
            _ => self.scalar(),
        }
    }

    /// A whole string (unescaped), or `None` when the text stops inside it.
    fn string(&mut self) -> Option<String> {
        let start = self.i;
        let mut j = start + 1;
        let mut escape = false;
        while let Some(&c) = self.s.get(j) {
            if escape {
                escape = false;
            } else if c == b'\\' {
                escape = true;
            } else if c == b'"' {
                let raw = self.s.get(start..=j)?;
                let v = serde_json::from_slice::<String>(raw).ok()?;
                self.i = j + 1;
                return Some(v);
            }
            j += 1;
        }
        None
    }

    /// A number or literal that the text shows whole (something follows it).
    fn scalar(&mut self) -> Option<(serde_json::Value, bool)> {
        let start = self.i;
        let mut j = start;
        while self
            .s
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
        {
            j += 1;
        }
        // A number at the very end may have lost digits.
        if j >= self.s.len() || j == start {
            return None;
        }
        let v = serde_json::from_slice(self.s.get(start..j)?).ok()?;
        self.i = j;
        Some((v, true))
    }
}

/// `"count": N` before `until`: the size a listing announces.
pub fn announced_count(s: &str, until: usize) -> Option<u64> {
    let hay = s.get(..until.min(s.len()))?;
    let p = hay.find("\"count\"")?;
    let rest = hay[p + 7..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The pd-ctl arguments a PD HTTP API URL stands for (`curl …/pd/api/v1/stores` is `store`),
/// so that its answer gets the same coverage as the pd-ctl command would.
pub fn pd_api_command(line: &str) -> Option<String> {
    let p = line.find("/pd/api/v1/")?;
    let path = line[p + "/pd/api/v1/".len()..]
        .split(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '?' | '|' | ')' | ']'))
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let parts: Vec<&str> = path.split('/').collect();
    let cmd = match parts.as_slice() {
        ["stores"] => "store".to_string(),
        ["store", id] => format!("store {id}"),
        ["regions"] => "region".to_string(),
        ["region", "id", id] => format!("region {id}"),
        ["regions", "store", id] => format!("region store {id}"),
        ["regions", "check", what] => format!("region check {what}"),
        ["config"] => "config show".to_string(),
        ["config", what] => format!("config show {what}"),
        _ => format!("api {path}"),
    };
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_document_ends_at_its_closer() {
        let s = br#"{"a": {"b": 1}, "c": [ {"d": 2} ]} trailing"#;
        let sc = scan(s);
        assert_eq!(sc.end, Some(34));
        assert!(!sc.is_cut());
        assert_eq!(sc.objects.len(), 3);
        assert_eq!(sc.objects[2].depth, 0);
    }

    #[test]
    fn cut_document_keeps_complete_objects_and_open_list() {
        let s = br#"{ "count": 3, "regions": [ {"id": 1, "peers": []}, {"id": 2, "pe"#;
        let sc = scan(s);
        assert!(sc.is_cut());
        assert_eq!(sc.objects.len(), 1);
        let l = sc.open_list().unwrap();
        assert_eq!(l.key.as_deref(), Some("regions"));
        assert_eq!(l.items, 1);
        assert_eq!(
            announced_count(std::str::from_utf8(s).unwrap(), l.at),
            Some(3)
        );
    }

    #[test]
    fn excerpt_starting_inside_goes_on_to_its_closers() {
        let s = b"\"id\": 3 }, {\"store\": {\"id\": 1}}\n  ]\n}\n";
        let sc = scan(s);
        assert_eq!(sc.objects.len(), 2);
        assert_eq!(sc.top_missing, 3);
        assert_eq!(sc.end, None);
    }

    #[test]
    fn braces_inside_strings_do_not_count() {
        let sc = scan(br#"{"m": "a } ] { \" x"}"#);
        assert_eq!(sc.objects.len(), 1);
        assert!(sc.end.is_some());
    }

    #[test]
    fn mismatched_closer_stops() {
        let sc = scan(b"{ [ } ]");
        assert_eq!(sc.broken_at, Some(4));
    }

    #[test]
    fn prefix_of_a_cut_document() {
        let (v, whole) =
            prefix_value(r#"{ "store": { "id": 3, "state": 1, "last_heartbeat": 1624"#).unwrap();
        assert!(!whole);
        assert_eq!(v["store"]["id"], 3);
        assert_eq!(v["store"]["state"], 1);
        assert!(v["store"].get("last_heartbeat").is_none());
        let (v, _) =
            prefix_value(r#"{"count": 3, "regions": [ {"id": 1}, {"id": 2, "peers": ["#).unwrap();
        assert_eq!(v["regions"].as_array().map(Vec::len), Some(1));
        let (v, whole) = prefix_value(r#"{"a": "x\"y", "b": [1, 2]} tail"#).unwrap();
        assert!(whole);
        assert_eq!(v["a"], "x\"y");
        let (v, whole) = prefix_value("{\"a\": 1,\n\t...\n").unwrap();
        assert!(!whole);
        assert_eq!(v["a"], 1);
        assert!(prefix_value(&"[".repeat(10_000)).is_some());
    }

    #[test]
    fn pd_api_urls() {
        assert_eq!(
            pd_api_command("$ curl http://127.0.0.1:2379/pd/api/v1/stores").as_deref(),
            Some("store")
        );
        assert_eq!(
            pd_api_command("curl -s 'http://pd:2379/pd/api/v1/region/id/5'").as_deref(),
            Some("region 5")
        );
        assert_eq!(
            pd_api_command("curl 127.0.0.1:2379/pd/api/v1/schedulers").as_deref(),
            Some("api schedulers")
        );
        assert_eq!(pd_api_command("curl http://x:10080/regions/1"), None);
    }
}
