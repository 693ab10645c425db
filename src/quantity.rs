//! Parsing of the two number formats resource rules meet: Kubernetes
//! resource quantities (`100m`, `0.5`, `1Gi`, `512Mi`, `1e3`, `2k`) and Go
//! durations (`720h0m0s`, `168h`, `1.5h`), as Velero writes backup TTLs.
//!
//! Both are small, fully specified grammars (apimachinery's `resource.Quantity`
//! and Go's `time.ParseDuration`); no maintained crate parses them the way the
//! API server does, so they are implemented here and tested below.

/// A resource quantity in base units (cores for CPU, bytes for memory),
/// or `None` if the text is not a valid quantity.
///
/// Grammar (apimachinery): `<sign><digits>[.<digits>]<suffix>` where suffix
/// is a binary SI suffix (`Ki`..`Ei`), a decimal SI suffix (`n u m "" k M G T
/// P E`) or a decimal exponent (`e3`, `E-2`).
pub fn parse_quantity(text: &str) -> Option<f64> {
    let s = text.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => (-1.0, &s[1..]),
        b'+' => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let num_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (num, suffix) = rest.split_at(num_len);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    let factor = suffix_factor(suffix)?;
    Some(sign * value * factor)
}

fn suffix_factor(suffix: &str) -> Option<f64> {
    Some(match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => {
            // Decimal exponent: e3, E-2, e+6.
            let exp = suffix.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let e: i32 = exp.parse().ok()?;
            10f64.powi(e)
        }
    })
}

/// A Go duration in seconds (`720h0m0s`, `168h`, `1h30m`, `1.5h`, `300ms`,
/// `0`), or `None` if the text is not a valid Go duration.
pub fn parse_go_duration(text: &str) -> Option<f64> {
    let s = text.trim();
    let (sign, mut rest) = match s.as_bytes().first()? {
        b'-' => (-1.0, &s[1..]),
        b'+' => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let (num, tail) = rest.split_at(n);
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let u = tail
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(tail.len(), |(i, _)| i);
        let (unit, next) = tail.split_at(u);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = next;
    }
    Some(sign * total)
}

/// `3600` seconds → `1h`, `604800` → `7d`: for messages.
pub fn human_seconds(secs: f64) -> String {
    if secs >= 86400.0 && (secs / 86400.0).fract() == 0.0 {
        format!("{}d", secs / 86400.0)
    } else if secs >= 3600.0 && (secs / 3600.0).fract() == 0.0 {
        format!("{}h", secs / 3600.0)
    } else if secs >= 60.0 && (secs / 60.0).fract() == 0.0 {
        format!("{}m", secs / 60.0)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= b.abs() * 1e-9 + 1e-12)
    }

    #[test]
    fn quantities() {
        assert!(close(parse_quantity("100m"), 0.1));
        assert!(close(parse_quantity("0.5"), 0.5));
        assert!(close(parse_quantity("2"), 2.0));
        assert!(close(parse_quantity("1Gi"), 1073741824.0));
        assert!(close(parse_quantity("512Mi"), 536870912.0));
        assert!(close(parse_quantity("1e3"), 1000.0));
        assert!(close(parse_quantity("1E3"), 1000.0));
        assert!(close(parse_quantity("1E"), 1e18));
        assert!(close(parse_quantity("2k"), 2000.0));
        assert!(close(parse_quantity("128M"), 128e6));
        assert!(close(parse_quantity(".5"), 0.5));
        assert!(close(parse_quantity("+1"), 1.0));
        assert!(close(parse_quantity("250u"), 250e-6));
        assert_eq!(parse_quantity(""), None);
        assert_eq!(parse_quantity("1GB"), None);
        assert_eq!(parse_quantity("abc"), None);
        assert_eq!(parse_quantity("1.2.3"), None);
        assert_eq!(parse_quantity("1e"), None);
        assert_eq!(parse_quantity("m"), None);
    }

    #[test]
    fn go_durations() {
        assert!(close(parse_go_duration("720h0m0s"), 720.0 * 3600.0));
        assert!(close(parse_go_duration("168h"), 168.0 * 3600.0));
        assert!(close(parse_go_duration("1h30m"), 5400.0));
        assert!(close(parse_go_duration("1.5h"), 5400.0));
        assert!(close(parse_go_duration("300ms"), 0.3));
        assert!(close(parse_go_duration("0"), 0.0));
        assert!(close(parse_go_duration("-1h"), -3600.0));
        assert_eq!(parse_go_duration("7d"), None);
        assert_eq!(parse_go_duration("h"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("10"), None);
    }

    #[test]
    fn human() {
        assert_eq!(human_seconds(7.0 * 86400.0), "7d");
        assert_eq!(human_seconds(36.0 * 3600.0), "36h");
        assert_eq!(human_seconds(90.0), "90s");
    }
}
