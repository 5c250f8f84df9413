//! Phone numbers: Exotel sends `0XXXXXXXXXX`, `XXXXXXXXXX`, `91XXXXXXXXXX` or `+91…`; we store E.164.

/// Normalises an Indian (or already international) number to E.164 (`+919876543210`).
/// Returns `None` for values that do not look like a phone number; callers keep those raw.
pub fn to_e164(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            '+' if digits.is_empty() => {}
            _ => return None,
        }
    }
    let national = |d: &str| (d.len() == 10 && !d.starts_with('0')).then(|| format!("+91{d}"));
    if plus {
        return (8..=15)
            .contains(&digits.len())
            .then(|| format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return (8..=15).contains(&rest.len()).then(|| format!("+{rest}"));
    }
    match digits.len() {
        10 => national(&digits),
        11 if digits.starts_with('0') => national(&digits[1..]),
        12 if digits.starts_with("91") => national(&digits[2..]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::to_e164;

    #[test]
    fn exotel_forms_normalise() {
        assert_eq!(to_e164("09876543210").as_deref(), Some("+919876543210"));
        assert_eq!(to_e164("8040000000").as_deref(), Some("+918040000000"));
        assert_eq!(to_e164("919876543210").as_deref(), Some("+919876543210"));
        assert_eq!(to_e164("+91 98765-43210").as_deref(), Some("+919876543210"));
        assert_eq!(to_e164("+14155550100").as_deref(), Some("+14155550100"));
    }

    #[test]
    fn odd_values_are_not_numbers() {
        assert_eq!(to_e164(""), None);
        assert_eq!(to_e164("anonymous"), None);
        assert_eq!(to_e164("12345"), None);
        assert_eq!(to_e164("0012"), None);
    }
}
