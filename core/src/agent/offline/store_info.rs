//! The offline brain's agents that need no order: greeting, products and stock, offers,
//! policies, complaints and the way to a person.

use super::Turn;
use super::orders::rupees;
use crate::agent::brain::Answer;
use crate::agent::intent::Intent;
use serde_json::{Value, json};

/// Router and small talk.
pub fn greeting(turn: &Turn<'_, '_>) -> Answer {
    let text = turn.text.to_lowercase();
    let reply = if ["thank", "shukriya", "dhanyavaad"]
        .iter()
        .any(|w| text.contains(w))
    {
        "You're welcome! Is there anything else I can help you with?".to_string()
    } else {
        let bot = turn
            .tools
            .profile()
            .map_or("the store's assistant", |p| &p.bot_name);
        format!(
            "Hello! I'm {bot}, an AI assistant. I can help with your order, tracking, returns, refunds, payments and our products. What can I do for you?"
        )
    };
    turn.say(Intent::Greeting, reply, false)
}

/// The product the caller means: the one whose title shares most words with what they said,
/// or the one already being discussed.
async fn product(turn: &mut Turn<'_, '_>) -> Option<Value> {
    // The product already discussed, only when the caller names none ("is it in large?").
    let mut words = turn.heard.product_words.clone();
    let follow_up = words.is_empty();
    if follow_up && let Some(current) = &turn.conv.product {
        words.extend(current.to_lowercase().split_whitespace().map(String::from));
    }
    if words.is_empty() {
        return None;
    }
    let found = turn
        .tools
        .run(
            turn.conv,
            "search_products",
            json!({"query": words.join(" ")}),
        )
        .await;
    let score = |p: &Value| {
        let title = p["title"].as_str().unwrap_or_default().to_lowercase();
        turn.heard
            .product_words
            .iter()
            .filter(|w| {
                title
                    .split_whitespace()
                    .any(|t| t.starts_with(w.as_str()) || w.starts_with(t))
            })
            .count()
    };
    let products = found["products"].as_array()?;
    let best = products.iter().rev().max_by_key(|p| score(p)).filter(|p| {
        score(p) > 0 || (follow_up && turn.conv.product.as_deref() == p["title"].as_str())
    })?;
    turn.conv.product = best["title"].as_str().map(String::from);
    Some(best.clone())
}

fn no_product(turn: &Turn<'_, '_>, agent: Intent) -> Answer {
    if !turn.tools.store_available() {
        return turn.store_unavailable(agent);
    }
    turn.say(
        agent,
        "I couldn't find that product in our store. Could you tell me its name, like 'cotton kurta'?".into(),
        false,
    )
}

fn price_range(variants: &[Value]) -> String {
    let mut prices: Vec<String> = variants
        .iter()
        .filter_map(|v| v["price"].as_str().map(rupees))
        .collect();
    prices.dedup();
    match prices.as_slice() {
        [] => "price on request".into(),
        [one] => one.clone(),
        [first, .., last] => format!("{first} to {last}"),
    }
}

/// Price, variants, description.
pub async fn product_inquiry(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::ProductInquiry;
    let Some(product) = product(turn).await else {
        return no_product(turn, agent);
    };
    let variants = product["variants"].as_array().cloned().unwrap_or_default();
    let titles: Vec<&str> = variants
        .iter()
        .filter_map(|v| v["title"].as_str())
        .collect();
    let reply = format!(
        "The {} costs {}. {} It comes in {}.",
        product["title"].as_str().unwrap_or("product"),
        price_range(&variants),
        product["description"].as_str().unwrap_or_default(),
        titles.join(", ")
    );
    turn.say(agent, reply.replace("  ", " "), false)
}

/// How callers name sizes, as variant titles spell them.
fn size_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .to_lowercase()
        .replace(['\'', '\u{2019}'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let aliases = [
        ("small", "s"),
        ("medium", "m"),
        ("large", "l"),
        ("chhota", "s"),
        ("bada", "l"),
    ];
    for (said, size) in aliases {
        if words.iter().any(|w| w == said) {
            words.push(size.into());
        }
    }
    words
}

/// Availability by variant.
pub async fn stock(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Stock;
    let Some(product) = product(turn).await else {
        return no_product(turn, agent);
    };
    let title = product["title"].as_str().unwrap_or("product").to_string();
    let said = size_words(turn.text);
    let variants = product["variants"].as_array().cloned().unwrap_or_default();
    let score = |v: &Value| {
        v["title"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty() && said.iter().any(|w| w == t))
            .count()
    };
    let describe = |v: &Value| {
        let name = v["title"].as_str().unwrap_or_default();
        match (v["in_stock"].as_bool(), v["quantity"].as_i64()) {
            (Some(true), Some(q)) if q > 0 && q <= 5 => format!("{name}: only {q} left"),
            (Some(true), _) => format!("{name}: in stock"),
            _ => format!("{name}: out of stock"),
        }
    };
    let best = variants
        .iter()
        .rev()
        .max_by_key(|v| score(v))
        .filter(|v| score(v) > 0);
    let reply = match best {
        Some(v) if v["in_stock"] == json!(true) => {
            format!(
                "Yes, the {title} in {} is available ({}).",
                v["title"].as_str().unwrap_or_default(),
                describe(v)
            )
        }
        Some(v) => {
            let others: Vec<String> = variants
                .iter()
                .filter(|o| o["in_stock"] == json!(true))
                .map(describe)
                .collect();
            let rest = if others.is_empty() {
                "No other option is in stock right now.".to_string()
            } else {
                format!("Available now: {}.", others.join("; "))
            };
            format!(
                "Sorry, the {title} in {} is out of stock. {rest}",
                v["title"].as_str().unwrap_or_default()
            )
        }
        None => {
            let all: Vec<String> = variants.iter().map(describe).collect();
            format!("The {title}: {}.", all.join("; "))
        }
    };
    turn.say(agent, reply, false)
}

/// Current offers, from the profile.
pub fn discount(turn: &mut Turn<'_, '_>) -> Answer {
    let reply = match turn.tools.profile() {
        Some(p) => format!("Here's what's on right now: {}", p.policies.offers),
        None => "There are no offers I can share right now.".into(),
    };
    turn.say(Intent::Discount, reply, false)
}

/// Shipping, returns, refunds, COD and hours, from the profile.
pub fn policy(turn: &mut Turn<'_, '_>) -> Answer {
    let words = super::understand::words(turn.text);
    let said = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let topic = if said(&["return", "returns", "exchange", "wapas"]) {
        "returns"
    } else if said(&["refund", "refunds"]) {
        "refunds"
    } else if said(&["cod", "cash"]) {
        "cod"
    } else if said(&["shipping", "delivery", "courier", "ship"]) {
        "shipping"
    } else if said(&[
        "hours", "hour", "timings", "timing", "open", "close", "closed",
    ]) {
        "hours"
    } else {
        "shipping"
    };
    let Some(profile) = turn.tools.profile() else {
        let reply =
            "The store hasn't shared its policies with me yet. Let me connect you to our team.";
        return turn.say(Intent::Policy, reply.into(), true);
    };
    let reply = if topic == "hours" {
        format!(
            "Our team is available {}.",
            profile.support_hours.describe()
        )
    } else {
        let seen = serde_json::to_value(&profile.policies).unwrap_or_default();
        seen[match topic {
            "returns" => "returns",
            "refunds" => "refunds",
            "cod" => "cod",
            _ => "shipping",
        }]
        .as_str()
        .unwrap_or_default()
        .to_string()
    };
    turn.say(Intent::Policy, reply, false)
}

/// Recorded and escalated to a person (a callback outside support hours).
pub async fn complaint(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Complaint;
    let args =
        json!({"kind": "complaint", "order_number": turn.heard.order_number, "details": turn.text});
    turn.tools.run(turn.conv, "create_task", args).await;
    if turn.tools.open_now() {
        let reply = "I'm sorry about that. I've recorded your complaint and I'm connecting you to someone from our team now.";
        turn.say(agent, reply.into(), true)
    } else {
        let reply = "I'm sorry about that. I've recorded your complaint and escalated it; our team will call you back as soon as they're in.";
        turn.say(agent, reply.into(), false)
    }
}

/// To a person; outside support hours a callback request instead.
pub async fn handoff(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Handoff;
    if turn.tools.open_now() {
        return turn.say(
            agent,
            "Sure, connecting you to someone from our team now.".into(),
            true,
        );
    }
    let args = json!({"kind": "callback", "details": turn.text});
    turn.tools.run(turn.conv, "create_task", args).await;
    let hours = turn
        .tools
        .profile()
        .map(|p| format!(" Our team is available {}.", p.support_hours.describe()))
        .unwrap_or_default();
    let reply =
        format!("Our team isn't available right now, so I've asked them to call you back.{hours}");
    turn.say(agent, reply, false)
}
