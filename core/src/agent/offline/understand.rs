//! What the offline agent hears in one turn: the intent (with what the conversation was waiting
//! for), an order number, a PIN code, a name, and the words that may name a product.

use crate::agent::conversation::{Awaiting, Conversation};
use crate::agent::intent::{Intent, classify};
use crate::agent::slots::spoken_order_number;

/// One turn, understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    /// What the caller wants now.
    pub intent: Intent,
    /// How sure the classifier is.
    pub confidence: f32,
    /// An order number, as digits.
    pub order_number: Option<String>,
    /// A shipping PIN code.
    pub pin: Option<String>,
    /// A name given to prove the order is theirs.
    pub name: Option<String>,
    /// Words that may name a product.
    pub product_words: Vec<String>,
}

/// The caller's words, lower-cased, letters and digits only.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// The caller's words, lower-cased, apostrophes dropped ("I'm" is "im"), each with whether a
/// clause ends after it (a comma, a full stop...).
fn tokens(text: &str) -> Vec<(String, bool)> {
    text.to_lowercase()
        .replace(['\'', '\u{2019}'], "")
        .split_whitespace()
        .filter_map(|raw| {
            let word: String = raw.chars().filter(|c| c.is_alphanumeric()).collect();
            let ends = raw.ends_with([',', '.', ';', '!', '?']);
            (!word.is_empty()).then_some((word, ends))
        })
        .collect()
}

/// Where `phrase` (words) first starts in `words`.
fn find_phrase(words: &[(String, bool)], phrase: &[&str]) -> Option<usize> {
    words
        .windows(phrase.len())
        .position(|w| w.iter().zip(phrase).all(|((word, _), p)| word == p))
}

/// A six-digit Indian PIN code: said after "pin" (as a word), or as the answer the agent
/// waited for.
fn pin_code(text: &str, awaiting_proof: bool) -> Option<String> {
    let words = tokens(text);
    let after_pin = ["pincode", "pin", "zip", "zipcode"]
        .iter()
        .filter_map(|k| find_phrase(&words, &[k]))
        .min();
    let rest = |from: usize| -> String {
        words[from..]
            .iter()
            .map(|(w, _)| w.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let candidate = match after_pin {
        Some(at) => spoken_order_number(&rest(at + 1)),
        None if awaiting_proof => spoken_order_number(&rest(0)),
        None => None,
    }?;
    (candidate.len() == 6 && !candidate.starts_with('0')).then_some(candidate)
}

/// Words that introduce a name ("my name is …", "mera naam … hai", "I'm …").
const NAME_MARKERS: &[&[&str]] = &[
    &["name", "is"],
    &["naam"],
    &["this", "is"],
    &["i", "am"],
    &["im"],
    &["its"],
];

/// Words after a marker that show no name follows ("I'm calling about…", "It's been a week").
const NOT_A_NAME: &[&str] = &[
    "calling",
    "about",
    "waiting",
    "looking",
    "here",
    "from",
    "been",
    "my",
    "a",
    "an",
    "the",
    "not",
    "very",
    "so",
    "just",
    "having",
    "trying",
    "going",
    "asking",
    "still",
    "regarding",
    "really",
    "already",
    "ok",
    "okay",
    "fine",
    "sorry",
    "upset",
    "angry",
    "your",
    "our",
];

/// A name the caller gave: after a marker, or (while the agent waits for a proof) the whole
/// answer; it ends where the sentence moves on ("Rahul Verma, track order 2041").
fn name_given(text: &str, awaiting_proof: bool) -> Option<String> {
    let words = tokens(text);
    let marked = NAME_MARKERS
        .iter()
        .filter_map(|m| find_phrase(&words, m).map(|at| at + m.len()))
        .min();
    let from = match marked {
        Some(at) => at,
        None if awaiting_proof => 0,
        None => return None,
    };
    let mut name = Vec::new();
    for (word, ends_clause) in &words[from.min(words.len())..] {
        let is_word = word.chars().all(char::is_alphabetic);
        if !is_word || word == "and" || word == "aur" || word == "hai" {
            break;
        }
        if name.is_empty() && NOT_A_NAME.contains(&word.as_str()) {
            return None;
        }
        name.push(word.as_str());
        if *ends_clause || name.len() == 3 {
            break;
        }
    }
    (!name.is_empty()).then(|| name.join(" "))
}

/// Words that never name a product.
const NOT_PRODUCT: &[&str] = &[
    "the",
    "and",
    "for",
    "you",
    "your",
    "have",
    "has",
    "how",
    "much",
    "what",
    "which",
    "does",
    "is",
    "are",
    "available",
    "availability",
    "stock",
    "price",
    "cost",
    "costs",
    "size",
    "sizes",
    "colour",
    "color",
    "details",
    "about",
    "tell",
    "want",
    "need",
    "buy",
    "kitne",
    "kitna",
    "hai",
    "kya",
    "milega",
    "mein",
    "main",
    "ka",
    "ki",
    "ke",
    "this",
    "that",
    "there",
    "any",
    "still",
    "please",
    "can",
    "get",
    "with",
    "large",
    "medium",
    "small",
    "blue",
    "red",
    "green",
    "material",
    "fabric",
    "product",
    "products",
    "uplabdh",
    "do",
    "in",
    "of",
    "it",
    "a",
    "an",
    "me",
];

/// Understands `text` in the light of what `conv` was waiting for.
pub fn hear(text: &str, conv: &Conversation) -> Heard {
    let (mut intent, confidence) = classify(text);
    let awaiting_proof = conv.awaiting == Some(Awaiting::SecondFact);
    let pin = pin_code(text, awaiting_proof);
    let order_number = spoken_order_number(text).filter(|n| pin.as_deref() != Some(n.as_str()));
    let has_digits = text.chars().any(|c| c.is_ascii_digit()) || order_number.is_some();
    // While a proof is awaited, a bare answer is a name, unless it plainly asks something else.
    let bare_answer =
        awaiting_proof && !has_digits && (intent == Intent::Greeting || confidence < 0.6);
    let name = if !(awaiting_proof && has_digits && order_number.is_some()) {
        name_given(text, bare_answer)
    } else {
        None
    };
    // "What is your return policy?" asks about the policy, not about an order.
    let lowered = text.to_lowercase();
    if matches!(intent, Intent::Return | Intent::Refund | Intent::Payment)
        && order_number.is_none()
        && (lowered.contains("policy") || lowered.contains("niyam"))
    {
        intent = Intent::Policy;
    }
    // A bare answer (a number, a name, a PIN) continues the question it answers.
    let answers_something = order_number.is_some() || pin.is_some() || name.is_some();
    if intent == Intent::Greeting && confidence < 0.5 && answers_something {
        intent = conv.pending.unwrap_or(Intent::OrderStatus);
    }
    let product_words = words(text)
        .into_iter()
        .filter(|w| w.len() >= 3 && !NOT_PRODUCT.contains(&w.as_str()))
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    Heard {
        intent,
        confidence,
        order_number,
        pin,
        name,
        product_words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_continue_the_question_they_answer() {
        let mut conv = Conversation::default();
        let heard = hear("where is my order", &conv);
        assert_eq!(heard.intent, Intent::OrderStatus);
        conv.pending = Some(Intent::Tracking);
        conv.awaiting = Some(Awaiting::OrderNumber);
        let heard = hear("two oh four one", &conv);
        assert_eq!(
            (heard.intent, heard.order_number.as_deref()),
            (Intent::Tracking, Some("2041"))
        );
        conv.awaiting = Some(Awaiting::SecondFact);
        let heard = hear("Rahul Verma", &conv);
        assert_eq!(
            (heard.intent, heard.name.as_deref()),
            (Intent::Tracking, Some("rahul verma"))
        );
        let heard = hear("five six zero zero three four", &conv);
        assert_eq!(
            (heard.pin.as_deref(), heard.order_number),
            (Some("560034"), None)
        );
        conv.awaiting = None;
        let heard = hear("order 2041, my pin code is 560034", &conv);
        assert_eq!(heard.order_number.as_deref(), Some("2041"));
        assert_eq!(heard.pin.as_deref(), Some("560034"));
        let heard = hear("my name is Rahul Verma and my order is 2041", &conv);
        assert_eq!(heard.name.as_deref(), Some("rahul verma"));
        // Everyday phrases are not names; "pin" inside a word is not a PIN code.
        for said in [
            "Hi, I'm calling about order 2041",
            "It's been a week since I ordered",
            "This is my second call",
            "I am waiting for 2041",
        ] {
            assert_eq!(hear(said, &conv).name, None, "{said}");
        }
        assert_eq!(
            hear("I am Rahul, this is about 2041", &conv)
                .name
                .as_deref(),
            Some("rahul")
        );
        assert_eq!(hear("shipping for order 560034", &conv).pin, None);
        assert_eq!(
            hear("what is your return policy", &conv).intent,
            Intent::Policy
        );
        conv.awaiting = Some(Awaiting::SecondFact);
        assert_eq!(
            hear("where is my refund", &conv).name,
            None,
            "a question is not a name"
        );
        assert_eq!(
            hear("how much is the silk saree", &conv).product_words,
            ["silk", "saree"]
        );
    }
}
