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

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// A six-digit Indian PIN code: said after "pin", or as the answer the agent waited for.
fn pin_code(text: &str, awaiting_proof: bool) -> Option<String> {
    let lowered = text.to_lowercase();
    let after_pin = ["pincode", "pin code", "pin", "zip"]
        .iter()
        .find_map(|k| lowered.find(k).map(|at| &lowered[at + k.len()..]));
    let candidate = match after_pin {
        Some(rest) => spoken_order_number(rest),
        None if awaiting_proof => spoken_order_number(&lowered),
        None => None,
    }?;
    (candidate.len() == 6 && !candidate.starts_with('0')).then_some(candidate)
}

/// Words that surround a name ("my name is …", "mera naam … hai").
const NAME_MARKERS: &[&str] = &["name is", "naam", "this is", "i am", "i'm", "it's"];

fn name_given(text: &str, awaiting_proof: bool) -> Option<String> {
    let lowered = text.to_lowercase();
    let marked = NAME_MARKERS.iter().find_map(|m| {
        lowered
            .find(m)
            .map(|at| lowered[at + m.len()..].to_string())
    });
    let said = match marked {
        Some(rest) => rest,
        None if awaiting_proof => lowered,
        None => return None,
    };
    // The name ends where the sentence moves on: "Rahul Verma, track order 2041".
    let clause = said
        .split([',', '.', ';', '!', '?'])
        .next()
        .unwrap_or_default()
        .split(" and ")
        .next()
        .unwrap_or_default()
        .split(" aur ")
        .next()
        .unwrap_or_default();
    let letters: String = clause
        .chars()
        .map(|c| if c.is_alphabetic() { c } else { ' ' })
        .collect();
    let name = letters
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
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
    let name = if pin.is_none() && !(awaiting_proof && has_digits && order_number.is_some()) {
        name_given(text, awaiting_proof && !has_digits)
    } else {
        None
    };
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
        assert_eq!(
            hear("how much is the silk saree", &conv).product_words,
            ["silk", "saree"]
        );
    }
}
