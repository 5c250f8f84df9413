//! Order numbers as callers say them: "#2041", "hash 2041", "two zero four one",
//! "two oh four one", "twenty forty one", "double five", and Hindi digits ("do shunya char ek").

/// What one spoken word is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    /// Digits as written ("2041") or one digit word ("two", "oh", "do").
    Digits(u64, usize),
    /// "ten" … "nineteen".
    Teen(u64),
    /// "twenty" … "ninety".
    Tens(u64),
    /// "double" / "triple": the next digit repeats.
    Repeat(usize),
    /// "hundred" / "thousand".
    Scale(u64),
}

fn word(token: &str) -> Option<Word> {
    if !token.is_empty() && token.chars().all(|c| c.is_ascii_digit()) {
        return token.parse().ok().map(|n| Word::Digits(n, token.len()));
    }
    let digit = |d| Some(Word::Digits(d, 1));
    match token {
        "zero" | "oh" | "o" | "shunya" | "sunya" => digit(0),
        "one" | "ek" => digit(1),
        "two" | "do" => digit(2),
        "three" | "teen" => digit(3),
        "four" | "char" | "chaar" => digit(4),
        "five" | "paanch" | "panch" => digit(5),
        "six" | "chhe" | "che" | "chhah" => digit(6),
        "seven" | "saat" => digit(7),
        "eight" | "aath" => digit(8),
        "nine" | "nau" => digit(9),
        "ten" => Some(Word::Teen(10)),
        "eleven" => Some(Word::Teen(11)),
        "twelve" => Some(Word::Teen(12)),
        "thirteen" => Some(Word::Teen(13)),
        "fourteen" => Some(Word::Teen(14)),
        "fifteen" => Some(Word::Teen(15)),
        "sixteen" => Some(Word::Teen(16)),
        "seventeen" => Some(Word::Teen(17)),
        "eighteen" => Some(Word::Teen(18)),
        "nineteen" => Some(Word::Teen(19)),
        "twenty" => Some(Word::Tens(2)),
        "thirty" => Some(Word::Tens(3)),
        "forty" | "fourty" => Some(Word::Tens(4)),
        "fifty" => Some(Word::Tens(5)),
        "sixty" => Some(Word::Tens(6)),
        "seventy" => Some(Word::Tens(7)),
        "eighty" => Some(Word::Tens(8)),
        "ninety" => Some(Word::Tens(9)),
        "double" => Some(Word::Repeat(2)),
        "triple" => Some(Word::Repeat(3)),
        "hundred" => Some(Word::Scale(100)),
        "thousand" => Some(Word::Scale(1000)),
        _ => None,
    }
}

/// Turns a run of number words into digits: "twenty forty one" → "2041", "two oh four one" →
/// "2041", "two thousand forty one" → "2041", "double five" → "55".
fn digits_of(run: &[Word]) -> Option<String> {
    if run.iter().any(|w| matches!(w, Word::Scale(_))) {
        return Some(scaled(run)?.to_string());
    }
    let mut out = String::new();
    let mut repeat = 1;
    let mut i = 0;
    while i < run.len() {
        match run[i] {
            Word::Digits(n, width) => {
                let text = format!("{n:0width$}");
                out.push_str(&text.repeat(repeat));
                repeat = 1;
            }
            Word::Teen(n) => out.push_str(&n.to_string()),
            Word::Tens(t) => match run.get(i + 1) {
                Some(Word::Digits(d, 1)) if *d > 0 => {
                    out.push_str(&format!("{t}{d}"));
                    i += 1;
                }
                _ => out.push_str(&format!("{t}0")),
            },
            Word::Repeat(times) => repeat = times,
            Word::Scale(_) => return None,
        }
        i += 1;
    }
    (!out.is_empty()).then_some(out)
}

/// "two thousand forty one" = 2 × 1000 + 41.
fn scaled(run: &[Word]) -> Option<u64> {
    let (mut total, mut current) = (0u64, 0u64);
    for w in run {
        match *w {
            Word::Digits(n, _) | Word::Teen(n) => current = current.checked_add(n)?,
            Word::Tens(t) => current = current.checked_add(t * 10)?,
            Word::Scale(100) => current = current.max(1).checked_mul(100)?,
            Word::Scale(scale) => {
                total = total.checked_add(current.max(1).checked_mul(scale)?)?;
                current = 0;
            }
            Word::Repeat(_) => return None,
        }
    }
    total.checked_add(current)
}

/// Digit words that are also everyday words.
const AMBIGUOUS: &[&str] = &["o", "do", "teen", "char", "chaar", "che", "chhe"];

/// The first order number in what the caller said, as digits: at least three of them, so
/// "I ordered two kurtas" is not an order number.
pub fn spoken_order_number(text: &str) -> Option<String> {
    let lowered = text.to_lowercase().replace('#', " ");
    let tokens: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let mut runs: Vec<Vec<Word>> = vec![Vec::new()];
    let mut numerals_in_run = false;
    for token in tokens {
        // Hindi digit words that are also everyday words ("do you know", "char din") never
        // extend a number written in numerals.
        let ambiguous = AMBIGUOUS.contains(&token);
        match word(token) {
            Some(w) if !(ambiguous && numerals_in_run) => {
                numerals_in_run |= token.chars().all(|c| c.is_ascii_digit());
                runs.last_mut().expect("one run").push(w);
            }
            _ if runs.last().is_some_and(|r| !r.is_empty()) => {
                runs.push(Vec::new());
                numerals_in_run = false;
            }
            _ => {}
        }
    }
    // Order numbers are 3 to 8 digits; a phone number said first is not one.
    runs.iter()
        .filter_map(|run| digits_of(run))
        .find(|digits| (3..=8).contains(&digits.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_heard_however_they_are_said() {
        for (said, heard) in [
            ("my order is #2041", "2041"),
            ("hash 2041", "2041"),
            ("order number 2041 please", "2041"),
            ("two zero four one", "2041"),
            ("two oh four one", "2041"),
            ("twenty forty one", "2041"),
            ("two thousand forty one", "2041"),
            ("nineteen oh four", "1904"),
            ("one double zero four", "1004"),
            ("mera order do shunya char ek hai", "2041"),
            ("Order #1,004", "1004"),
            ("my order is 1004, do you know when it comes", "1004"),
            ("order 2041 char din pehle", "2041"),
        ] {
            assert_eq!(spoken_order_number(said).as_deref(), Some(heard), "{said}");
        }
        for said in [
            "I ordered two kurtas",
            "hello",
            "",
            "it was twenty rupees",
            "9999999999999999999 thousand thousand",
            "my number is 98765 43210",
        ] {
            assert_eq!(spoken_order_number(said), None, "{said}");
        }
    }
}
