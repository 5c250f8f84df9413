//! Redaction of what callers say: phone numbers (10 or more digits), Luhn-valid card numbers
//! (13–19 digits) and 4–8 digit codes said next to "OTP", "code", "PIN", "CVV" or "password"
//! become `[phone]`, `[card]` and `[code]`. Numbers may be digits ("98765 43210") or spoken
//! digit words ("nine eight double seven …"). Order numbers ("#2041", "order 2041"), tracking
//! numbers and the PIN codes of addresses ("pin code 110001") stay.

/// What a number run was judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    Phone,
    Card,
    Code,
}

impl Secret {
    fn label(self) -> &'static str {
        match self {
            Secret::Phone => "[phone]",
            Secret::Card => "[card]",
            Secret::Code => "[code]",
        }
    }
}

/// One piece of the text: a word, a number (digits or a digit word) or anything else.
#[derive(Debug, Clone)]
struct Token {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Digits, as written or as spoken ("double seven" is "77").
    Number(String),
    /// A lowercase word that is not a number.
    Word(String),
    /// Joins the digits of one number: spaces, `-`, `.`, `(`, `)`, `+`.
    Joiner,
    /// Ends a number: anything else.
    Other,
}

const DIGIT_WORDS: [(&str, char); 11] = [
    ("zero", '0'),
    ("oh", '0'),
    ("one", '1'),
    ("two", '2'),
    ("three", '3'),
    ("four", '4'),
    ("five", '5'),
    ("six", '6'),
    ("seven", '7'),
    ("eight", '8'),
    ("nine", '9'),
];

/// Words that make a nearby 4–8 digit number a secret.
const SECRET_WORDS: [&str; 8] = [
    "otp",
    "code",
    "pin",
    "cvv",
    "passcode",
    "password",
    "passwords",
    "codes",
];

/// Words before "code" that make it an address or an offer, not a secret.
const HARMLESS_CODE_WORDS: [&str; 7] = [
    "pin", "postal", "zip", "area", "discount", "promo", "coupon",
];

/// Words just before a number that say it is an order or a shipment, kept as it is.
const ORDER_WORDS: [&str; 7] = [
    "order",
    "orders",
    "tracking",
    "awb",
    "docket",
    "consignment",
    "shipment",
];

fn digit_of(word: &str) -> Option<char> {
    DIGIT_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, d)| *d)
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        let kind = if c.is_ascii_digit() {
            let mut digits = c.to_string();
            while let Some(&(i, d)) = chars.peek()
                && d.is_ascii_digit()
            {
                digits.push(d);
                end = i + 1;
                chars.next();
            }
            Kind::Number(digits)
        } else if c.is_alphabetic() {
            let mut word = c.to_lowercase().to_string();
            while let Some(&(i, w)) = chars.peek()
                && (w.is_alphabetic() || w == '\'')
            {
                word.extend(w.to_lowercase());
                end = i + w.len_utf8();
                chars.next();
            }
            match digit_of(&word) {
                Some(d) => Kind::Number(d.to_string()),
                None => Kind::Word(word),
            }
        } else if c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')' | '+') {
            Kind::Joiner
        } else {
            Kind::Other
        };
        tokens.push(Token { start, end, kind });
    }
    expand_repeats(tokens)
}

/// "double seven" is "77", "triple zero" is "000": the multiplier joins the number.
fn expand_repeats(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let times = match &tokens[i].kind {
            Kind::Word(w) if w == "double" => 2,
            Kind::Word(w) if w == "triple" => 3,
            _ => 0,
        };
        let next = tokens.get(i + 1).filter(|t| t.kind == Kind::Joiner);
        let digit = tokens.get(i + 2).and_then(|t| match &t.kind {
            Kind::Number(d) if d.len() == 1 => Some(d.clone()),
            _ => None,
        });
        if times > 0
            && let (Some(_), Some(digit)) = (next, digit)
        {
            out.push(Token {
                start: tokens[i].start,
                end: tokens[i + 2].end,
                kind: Kind::Number(digit.repeat(times)),
            });
            i += 3;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    out
}

/// A run of number tokens joined only by joiners: one number as spoken or written.
struct Run {
    first: usize,
    last: usize,
    digits: String,
}

fn number_runs(tokens: &[Token]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Kind::Number(d) = &tokens[i].kind else {
            i += 1;
            continue;
        };
        let mut run = Run {
            first: i,
            last: i,
            digits: d.clone(),
        };
        let mut j = i + 1;
        loop {
            while tokens.get(j).is_some_and(|t| t.kind == Kind::Joiner) {
                j += 1;
            }
            match tokens.get(j).map(|t| &t.kind) {
                Some(Kind::Number(more)) => {
                    run.digits.push_str(more);
                    run.last = j;
                    j += 1;
                }
                _ => break,
            }
        }
        i = run.last + 1;
        runs.push(run);
    }
    runs
}

/// The words within `reach` words before token `first` (nearest first).
fn words_before(tokens: &[Token], first: usize, reach: usize) -> Vec<&str> {
    tokens[..first]
        .iter()
        .rev()
        .filter_map(|t| match &t.kind {
            Kind::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .take(reach)
        .collect()
}

fn words_after(tokens: &[Token], last: usize, reach: usize) -> Vec<&str> {
    tokens[last + 1..]
        .iter()
        .filter_map(|t| match &t.kind {
            Kind::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .take(reach)
        .collect()
}

/// True when the number is an order or shipment: `#2041`, "order 2041", "tracking number …".
fn is_order_number(text: &str, tokens: &[Token], run: &Run) -> bool {
    let hashed = text[..tokens[run.first].start].trim_end().ends_with('#');
    let before = words_before(tokens, run.first, 3);
    hashed || before.iter().any(|w| ORDER_WORDS.contains(w))
}

/// True when a secret word is near: "OTP is 4821", "4821 is my PIN"; not "pin code 110001".
fn near_secret_word(tokens: &[Token], run: &Run) -> bool {
    let before = words_before(tokens, run.first, 4);
    let after = words_after(tokens, run.last, 3);
    let secret_at = |words: &[&str], i: usize, reversed: bool| {
        let word = words[i];
        if !SECRET_WORDS.contains(&word) {
            return false;
        }
        // The word read in text order before "code"/"codes", and after "pin".
        let (previous, next) = if reversed {
            (
                words.get(i + 1),
                i.checked_sub(1).and_then(|k| words.get(k)),
            )
        } else {
            (
                i.checked_sub(1).and_then(|k| words.get(k)),
                words.get(i + 1),
            )
        };
        let is_code = word == "code" || word == "codes";
        let harmless_code = is_code && previous.is_some_and(|p| HARMLESS_CODE_WORDS.contains(p));
        let pin_code = word == "pin" && next.is_some_and(|n| *n == "code" || *n == "codes");
        !harmless_code && !pin_code
    };
    (0..before.len()).any(|i| secret_at(&before, i, true))
        || (0..after.len()).any(|i| secret_at(&after, i, false))
}

fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let mut d = c.to_digit(10).unwrap_or(0);
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn judge(text: &str, tokens: &[Token], run: &Run) -> Option<Secret> {
    let n = run.digits.len();
    if n < 4 || is_order_number(text, tokens, run) {
        return None;
    }
    if (13..=19).contains(&n) && luhn_valid(&run.digits) {
        return Some(Secret::Card);
    }
    if n >= 10 {
        return Some(Secret::Phone);
    }
    (n <= 8 && near_secret_word(tokens, run)).then_some(Secret::Code)
}

/// `text` with phone numbers, card numbers and spoken codes replaced by `[phone]`, `[card]` and
/// `[code]`; everything else as it was.
pub fn redact(text: &str) -> String {
    let tokens = tokenize(text);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for run in number_runs(&tokens) {
        if let Some(secret) = judge(text, &tokens, &run) {
            let (mut start, end) = (tokens[run.first].start, tokens[run.last].end);
            // "+91 98765 43210": the country code's plus goes with the number.
            if text[..start].ends_with('+') {
                start -= 1;
            }
            out.push_str(&text[copied..start]);
            out.push_str(secret.label());
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn phone_numbers_of_ten_or_more_digits_go() {
        assert_eq!(redact("call me on 9876543210"), "call me on [phone]");
        assert_eq!(
            redact("my number is +91 98765-43210, thanks"),
            "my number is [phone], thanks"
        );
        assert_eq!(
            redact("it's nine eight seven six five four three two one zero"),
            "it's [phone]"
        );
        assert_eq!(
            redact("nine eight double seven six five four three two one"),
            "[phone]"
        );
    }

    #[test]
    fn luhn_valid_cards_go_and_other_long_numbers_are_phones() {
        assert_eq!(
            redact("card 4111 1111 1111 1111 expires"),
            "card [card] expires"
        );
        assert_eq!(redact("4111111111111112"), "[phone]");
    }

    #[test]
    fn codes_go_only_next_to_secret_words() {
        assert_eq!(redact("the OTP is 482913"), "the OTP is [code]");
        assert_eq!(redact("my pin is four eight two one"), "my pin is [code]");
        assert_eq!(redact("4821 is the code I got"), "[code] is the code I got");
        assert_eq!(redact("the CVV is 123"), "the CVV is 123");
        assert_eq!(redact("I paid 4821 rupees"), "I paid 4821 rupees");
    }

    #[test]
    fn orders_tracking_and_address_pin_codes_stay() {
        assert_eq!(redact("where is order #2041"), "where is order #2041");
        assert_eq!(
            redact("order 2041, the code is 7712"),
            "order 2041, the code is [code]"
        );
        assert_eq!(
            redact("tracking number 1234567890123"),
            "tracking number 1234567890123"
        );
        assert_eq!(redact("my pin code is 110001"), "my pin code is 110001");
        assert_eq!(redact("pincode 560034"), "pincode 560034");
        assert_eq!(redact("use discount code 2024"), "use discount code 2024");
    }

    #[test]
    fn text_without_numbers_is_untouched() {
        let text = "Namaste! Where is my kurta? It's been a week.";
        assert_eq!(redact(text), text);
        assert_eq!(redact(""), "");
    }
}
