//! Money as people read it: rupees with Indian digit grouping (lakhs and crores), from integer
//! paise, never through a float.

/// `₹1,23,456.00` for 12,345,600 paise; `-₹30.00` for -3,000.
pub fn inr(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    let (rupees, rest) = (abs / 100, abs % 100);
    format!("{sign}₹{}.{rest:02}", group_indian(rupees))
}

/// `1,23,45,678`: the last three digits, then groups of two.
pub fn group_indian(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let (head, tail) = digits.split_at(digits.len() - 3);
    let mut groups: Vec<&str> = Vec::new();
    let mut end = head.len();
    while end > 0 {
        let start = end.saturating_sub(2);
        groups.push(&head[start..end]);
        end = start;
    }
    groups.reverse();
    format!("{},{tail}", groups.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupees_are_grouped_the_indian_way() {
        assert_eq!(inr(0), "₹0.00");
        assert_eq!(inr(5), "₹0.05");
        assert_eq!(inr(3000), "₹30.00");
        assert_eq!(inr(99_999), "₹999.99");
        assert_eq!(inr(100_000), "₹1,000.00");
        assert_eq!(inr(12_345_600), "₹1,23,456.00");
        assert_eq!(inr(1_234_567_899), "₹1,23,45,678.99");
        assert_eq!(inr(-3000), "-₹30.00");
        assert_eq!(inr(i64::MIN), "-₹92,23,37,20,36,85,47,758.08");
    }

    #[test]
    fn counts_group_too() {
        assert_eq!(group_indian(999), "999");
        assert_eq!(group_indian(1000), "1,000");
        assert_eq!(group_indian(100_000), "1,00,000");
        assert_eq!(group_indian(10_000_000), "1,00,00,000");
    }
}
