//! Units: Go durations (`30m0s`), byte sizes (`288.9MiB`), and their human forms.

/// `30m0s`, `1h0m0s`, `7h51m51.94s`, `20s` → seconds.
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push('s');
            chars.next();
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        any = true;
    }
    if !num.is_empty() {
        return None;
    }
    any.then_some(total as i64)
}

/// Seconds as a person reads them: `45s`, `3m5s`, `2h10m`, `3d4h`.
/// Strips the redaction markers and quotes CockroachDB puts around logged values.
pub fn unquote_redacted(s: &str) -> &str {
    s.trim()
        .trim_matches(|c| matches!(c, '‹' | '›' | '\'' | '"' | ' '))
}

/// A duration setting value as logged: `15m0s`, `'1s'`, `00:15:00`, `00:00:00.5`, `500ms`.
pub fn parse_setting_secs(s: &str) -> Option<f64> {
    let v = unquote_redacted(s);
    if v.contains(':') {
        let mut total = 0f64;
        for part in v.split(':') {
            total = total * 60.0 + part.trim().parse::<f64>().ok()?;
        }
        return Some(total);
    }
    if let Some(ms) = v.strip_suffix("ms")
        && let Ok(n) = ms.parse::<f64>()
    {
        return Some(n / 1000.0);
    }
    parse_go_duration(v).map(|s| s as f64)
}

pub fn human_secs(s: i64) -> String {
    let s = s.max(0);
    if s >= 86400 {
        format!("{}d{}h", s / 86400, (s % 86400) / 3600)
    } else if s >= 3600 {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// `"3.581TiB"`, `"288.9MiB"`, `"0B"`, `"17 GiB"`, `"102 GB"` → bytes.
pub fn parse_byte_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024f64.powi(2),
        "GiB" => 1024f64.powi(3),
        "TiB" => 1024f64.powi(4),
        "PiB" => 1024f64.powi(5),
        "EiB" => 1024f64.powi(6),
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        _ => return None,
    };
    Some((n * mult) as u64)
}

/// Bytes as a person reads them: `22.3GiB`.
pub fn human_bytes(b: u64) -> String {
    const U: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1}{}", U[i])
}

/// A duration as Go and Rust print it in logs, to the fraction: `1.099200359s`, `219.075167ms`,
/// `1m2.5s`, `850µs` / `850us`, `120ns`. Seconds.
pub fn parse_log_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let mut total = 0f64;
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..n_end].parse().ok()?;
        rest = &rest[n_end..];
        let (unit, len) = ["ns", "us", "µs", "ms", "h", "m", "s"]
            .iter()
            .find(|u| rest.starts_with(**u))
            .map(|u| (*u, u.len()))?;
        rest = &rest[len..];
        total += n * match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            _ => 1e-9,
        };
        any = true;
    }
    any.then_some(total)
}

#[cfg(test)]
mod log_duration_tests {
    use super::parse_log_duration;

    #[test]
    fn log_durations_to_the_fraction() {
        let near = |s: &str, want: f64| {
            let got = parse_log_duration(s).unwrap();
            assert!((got - want).abs() < 1e-9, "{s}: {got}");
        };
        near("1.099200359s", 1.099200359);
        near("219.075167ms", 0.219075167);
        near("1m2.5s", 62.5);
        near("6m0.690766s", 360.690766);
        near("850µs", 0.00085);
        near("120ns", 0.00000012);
        assert_eq!(parse_log_duration(""), None);
        assert_eq!(parse_log_duration("12"), None);
        assert_eq!(parse_log_duration("1.2x"), None);
    }
}
