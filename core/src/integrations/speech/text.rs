//! Text helpers for speech: replies split into sentences (speaking starts after the first),
//! and spoken numbers normalised to digits so "one zero zero four" and "1004" compare equal.

/// Words whose dot does not end a sentence.
const ABBREVIATIONS: [&str; 6] = [" rs.", " mr.", " ms.", " dr.", " no.", " st."];

/// Splits a reply into sentences, keeping each one's punctuation; never returns an empty one.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        current.push(c);
        let ends = matches!(c, '.' | '!' | '?' | '\n');
        let next_is_space = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        // "Rs. 1,299.00" and "#1004." : a dot inside a number does not end the sentence.
        let inside_number = c == '.'
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
            && i > 0
            && chars[i - 1].is_ascii_digit();
        let abbreviation = c == '.'
            && ABBREVIATIONS
                .iter()
                .any(|a| current.trim_end().to_lowercase().ends_with(a));
        if ends
            && next_is_space
            && !inside_number
            && !abbreviation
            && current.trim().chars().count() > 1
        {
            out.push(current.trim().to_string());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

const UNITS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn word_value(word: &str) -> Option<u64> {
    if word == "oh" || word == "o" {
        return Some(0);
    }
    UNITS
        .iter()
        .position(|u| *u == word)
        .map(|v| v as u64)
        .or_else(|| {
            TENS.iter()
                .position(|t| !t.is_empty() && *t == word)
                .map(|v| v as u64 * 10)
        })
}

/// Lower-cases `text`, turns number words into digits and joins runs of digits, so a spoken
/// order number reads the same whichever way it was transcribed: "one zero zero four",
/// "ten oh four", "1 0 0 4" and "#1004" all contain "1004".
pub fn normalise_spoken_numbers(text: &str) -> String {
    let lowered = text.to_lowercase().replace(['-', ',', '#'], " ");
    let mut out: Vec<String> = Vec::new();
    let mut digits = String::new();
    let mut pending_tens: Option<u64> = None;
    let flush_tens = |digits: &mut String, pending: &mut Option<u64>| {
        if let Some(t) = pending.take() {
            digits.push_str(&t.to_string());
        }
    };
    for raw in lowered.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
            flush_tens(&mut digits, &mut pending_tens);
            digits.push_str(word);
            continue;
        }
        match word_value(word) {
            Some(v) if v >= 20 && v % 10 == 0 => {
                flush_tens(&mut digits, &mut pending_tens);
                pending_tens = Some(v);
            }
            Some(v) if v < 10 && pending_tens.is_some() => {
                let t = pending_tens.take().unwrap_or(0);
                digits.push_str(&(t + v).to_string());
            }
            Some(v) => {
                flush_tens(&mut digits, &mut pending_tens);
                digits.push_str(&v.to_string());
            }
            None => {
                flush_tens(&mut digits, &mut pending_tens);
                if !digits.is_empty() {
                    out.push(std::mem::take(&mut digits));
                }
                if !word.is_empty() {
                    out.push(word.to_string());
                }
            }
        }
    }
    flush_tens(&mut digits, &mut pending_tens);
    if !digits.is_empty() {
        out.push(digits);
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_split_into_sentences() {
        assert_eq!(
            sentences("Your order #1004 costs Rs. 1,299.00 today. It ships soon! Anything else?"),
            vec![
                "Your order #1004 costs Rs. 1,299.00 today.",
                "It ships soon!",
                "Anything else?"
            ]
        );
        assert_eq!(sentences("No stop at the end"), vec!["No stop at the end"]);
        assert!(sentences("   ").is_empty());
    }

    #[test]
    fn spoken_numbers_become_digits() {
        for heard in [
            "Where is order one zero zero four?",
            "where is order ten oh four",
            "Where is order 1 0 0 4.",
            "where is order #1004",
            "Where is order 1004?",
        ] {
            assert!(
                normalise_spoken_numbers(heard).contains("1004"),
                "{heard} -> {}",
                normalise_spoken_numbers(heard)
            );
        }
        assert_eq!(normalise_spoken_numbers("twenty forty one"), "2041");
        assert_eq!(normalise_spoken_numbers("Hello there"), "hello there");
    }
}
