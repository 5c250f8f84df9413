//! The fourteen intents, one per agent, and the offline classifier that routes a caller's words
//! (English and common Hinglish) to one of them with a confidence.

use serde::{Deserialize, Serialize};

/// What the caller wants; each has its own agent. The labels are stable (API, storage, QA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Router and small talk.
    Greeting,
    /// Where an order is.
    OrderStatus,
    /// Carrier, tracking number, shipment status, delivery date.
    Tracking,
    /// Price, variants, description.
    ProductInquiry,
    /// Availability by variant.
    Stock,
    /// Cancel an unfulfilled order (a request for staff).
    Cancellation,
    /// Return within the window.
    Return,
    /// Refund status.
    Refund,
    /// Change the address of an unfulfilled order (a request for staff).
    AddressChange,
    /// COD and prepaid questions, amount due.
    Payment,
    /// Current offers.
    Discount,
    /// Shipping, returns and hours, from the profile.
    Policy,
    /// Recorded and escalated.
    Complaint,
    /// A human, please.
    Handoff,
}

impl Intent {
    /// Every intent.
    pub const ALL: [Intent; 14] = [
        Intent::Greeting,
        Intent::OrderStatus,
        Intent::Tracking,
        Intent::ProductInquiry,
        Intent::Stock,
        Intent::Cancellation,
        Intent::Return,
        Intent::Refund,
        Intent::AddressChange,
        Intent::Payment,
        Intent::Discount,
        Intent::Policy,
        Intent::Complaint,
        Intent::Handoff,
    ];

    /// The stable label.
    pub fn label(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::OrderStatus => "order_status",
            Intent::Tracking => "tracking",
            Intent::ProductInquiry => "product_inquiry",
            Intent::Stock => "stock",
            Intent::Cancellation => "cancellation",
            Intent::Return => "return",
            Intent::Refund => "refund",
            Intent::AddressChange => "address_change",
            Intent::Payment => "payment",
            Intent::Discount => "discount",
            Intent::Policy => "policy",
            Intent::Complaint => "complaint",
            Intent::Handoff => "handoff",
        }
    }

    /// Phrases that signal the intent (lower case; English and common Hinglish). A phrase of
    /// several words must appear as written; the more specific intents come first.
    fn cues(self) -> &'static [&'static str] {
        match self {
            Intent::Handoff => &[
                "human",
                "real person",
                "agent please",
                "talk to someone",
                "speak to someone",
                "talk to a person",
                "speak to a person",
                "speak with a person",
                "customer care",
                "manager",
                "kisi insaan",
                "baat karni hai",
                "baat karao",
            ],
            Intent::Complaint => &[
                "complaint",
                "complain",
                "damaged",
                "broken",
                "defective",
                "wrong item",
                "wrong product",
                "bad quality",
                "worst",
                "fraud",
                "kharab",
                "toota",
                "tuta",
                "shikayat",
                "galat",
            ],
            Intent::Cancellation => &["cancel", "cancellation", "nahi chahiye", "band karo"],
            Intent::AddressChange => &[
                "change address",
                "change my address",
                "change the address",
                "address change",
                "wrong address",
                "new address",
                "address badal",
                "pata badal",
                "pata badalna",
                "address badalna",
            ],
            Intent::Refund => &[
                "refund",
                "money back",
                "paisa wapas",
                "paise wapas",
                "paisa kab",
                "paise kab",
                "refunded",
            ],
            Intent::Return => &["return", "exchange", "wapas karna", "wapas bhej", "replace"],
            Intent::Tracking => &[
                "track",
                "tracking",
                "courier",
                "awb",
                "shipped",
                "delivery date",
                "when will it arrive",
                "when will i get",
                "out for delivery",
                "kab aayega",
                "kab milega",
                "kab tak",
            ],
            Intent::Payment => &[
                "cod",
                "cash on delivery",
                "pay",
                "payment",
                "upi",
                "prepaid",
                "amount due",
                "how much do i owe",
                "paisa dena",
                "bhugtan",
            ],
            Intent::Discount => &[
                "discount",
                "offer",
                "coupon",
                "promo",
                "sale",
                "deal",
                "discount code",
                "promo code",
                "coupon code",
                "chhoot",
            ],
            Intent::Policy => &[
                "policy",
                "shipping charge",
                "shipping cost",
                "delivery charge",
                "how long does shipping",
                "working hours",
                "open today",
                "timings",
                "niyam",
            ],
            Intent::Stock => &[
                "in stock",
                "available",
                "availability",
                "stock",
                "size",
                "sizes",
                "milega kya",
                "hai kya",
                "uplabdh",
            ],
            Intent::ProductInquiry => &[
                "price",
                "cost",
                "how much is",
                "kitne ka",
                "kitna hai",
                "details",
                "material",
                "colour",
                "color",
                "fabric",
                "product",
            ],
            Intent::OrderStatus => &[
                "order status",
                "my order",
                "where is my order",
                "status",
                "order kahan",
                "order kaha",
                "kahan hai",
                "kaha hai",
                "mera order",
                "order",
                "placed",
            ],
            Intent::Greeting => &[
                "hello",
                "hi",
                "hey",
                "namaste",
                "namaskar",
                "good morning",
                "good evening",
                "thank you",
                "thanks",
                "dhanyavaad",
                "shukriya",
            ],
        }
    }
}

/// Order in which intents are tried: the specific before the general.
const PRECEDENCE: [Intent; 14] = [
    Intent::Handoff,
    Intent::Complaint,
    Intent::Cancellation,
    Intent::AddressChange,
    Intent::Refund,
    Intent::Return,
    Intent::Tracking,
    Intent::Payment,
    Intent::Discount,
    Intent::Policy,
    Intent::Stock,
    Intent::ProductInquiry,
    Intent::OrderStatus,
    Intent::Greeting,
];

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let wanted: Vec<&str> = phrase.split(' ').collect();
    words
        .windows(wanted.len())
        .any(|window| window.iter().zip(&wanted).all(|(w, p)| w == p))
}

/// The caller's intent with a confidence in 0–1: more matching cues and longer phrases give
/// more confidence. Nothing recognised is small talk (`greeting`) at low confidence.
pub fn classify(text: &str) -> (Intent, f32) {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    for intent in PRECEDENCE {
        let matched: Vec<&&str> = intent
            .cues()
            .iter()
            .filter(|cue| contains_phrase(&words, cue))
            .collect();
        if let Some(longest) = matched.iter().map(|c| c.split(' ').count()).max() {
            let confidence = (0.55 + 0.1 * matched.len() as f32 + 0.1 * longest as f32).min(0.95);
            return (intent, confidence);
        }
    }
    (Intent::Greeting, 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_intent_is_recognised_in_english_and_hinglish() {
        for (said, intent) in [
            ("hello", Intent::Greeting),
            ("where is my order", Intent::OrderStatus),
            ("mera order kahan hai", Intent::OrderStatus),
            ("what's the tracking number", Intent::Tracking),
            ("parcel kab aayega", Intent::Tracking),
            ("how much is the cotton kurta", Intent::ProductInquiry),
            ("is the blue kurta available in large", Intent::Stock),
            ("I want to cancel my order", Intent::Cancellation),
            ("order cancel karna hai", Intent::Cancellation),
            ("how do I return this", Intent::Return),
            ("paisa wapas kab milega", Intent::Refund),
            ("where is my refund", Intent::Refund),
            ("I need to change my address", Intent::AddressChange),
            ("can I pay cash on delivery", Intent::Payment),
            ("any discount code", Intent::Discount),
            ("my pin code is 411001", Intent::Greeting),
            ("what are your working hours", Intent::Policy),
            ("the saree arrived damaged", Intent::Complaint),
            ("let me talk to a human", Intent::Handoff),
        ] {
            assert_eq!(classify(said).0, intent, "{said}");
        }
        let labels: std::collections::HashSet<&str> =
            Intent::ALL.iter().map(|i| i.label()).collect();
        assert_eq!(labels.len(), 14);
        assert_eq!(classify("blah blah"), (Intent::Greeting, 0.2));
        assert!(classify("where is my order, what is the order status").1 > classify("order").1);
        assert_eq!(
            serde_json::to_string(&Intent::AddressChange).unwrap(),
            "\"address_change\""
        );
    }
}
