//! The order agents of the offline brain: status, tracking, refund, return, payment,
//! cancellation and address change. Each answers from the order's facts, which it gets only
//! through the verification gate.

use super::Turn;
use crate::agent::brain::Answer;
use crate::agent::intent::Intent;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// `1798.00` as `₹1,798` (Indian digit grouping; paise shown only when there are some).
pub fn rupees(amount: &str) -> String {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, "00"));
    let digits: Vec<char> = whole.chars().filter(char::is_ascii_digit).collect();
    let mut grouped = String::new();
    for (i, d) in digits.iter().enumerate() {
        let left = digits.len() - i;
        if i > 0 && (left == 3 || (left > 3 && left % 2 == 1)) {
            grouped.push(',');
        }
        grouped.push(*d);
    }
    if grouped.is_empty() {
        grouped.push('0');
    }
    match fraction.trim_end_matches('0') {
        "" => format!("₹{grouped}"),
        paise => format!("₹{grouped}.{paise:0<2}"),
    }
}

/// An ISO 8601 time as `24 Nov`.
pub fn day(at: &Value) -> Option<String> {
    let parsed = DateTime::parse_from_rfc3339(at.as_str()?).ok()?;
    Some(parsed.format("%-d %b").to_string())
}

fn items(facts: &Value) -> String {
    let list: Vec<String> = facts["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    let title = i["title"].as_str().unwrap_or("item");
                    match i["quantity"].as_i64() {
                        Some(q) if q > 1 => format!("{q} × {title}"),
                        _ => title.to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    list.join(" and ")
}

fn name(facts: &Value) -> &str {
    facts["order"].as_str().unwrap_or("your order")
}

fn latest_shipment(facts: &Value) -> Option<&Value> {
    facts["shipments"].as_array().and_then(|s| s.last())
}

fn status_words(status: &str) -> String {
    status.to_lowercase().replace('_', " ")
}

/// Where the shipment is, in one sentence.
fn shipment_news(facts: &Value, shipment: &Value) -> String {
    let carrier = shipment["carrier"].as_str().unwrap_or("our courier");
    if let Some(delivered) = day(&shipment["delivered_at"]) {
        return format!("Order {} was delivered on {delivered}.", name(facts));
    }
    let status = shipment["status"].as_str().map(status_words);
    let eta = day(&shipment["expected_delivery"])
        .map(|d| format!(", expected by {d}"))
        .unwrap_or_default();
    format!(
        "Order {} has shipped with {carrier} and is {}{eta}.",
        name(facts),
        status.unwrap_or_else(|| "on its way".into())
    )
}

/// Where an order is.
pub async fn order_status(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::OrderStatus;
    let facts = match turn.verified_order(agent).await {
        Ok(facts) => facts,
        Err(ask) => return ask,
    };
    let order = name(&facts);
    let reply = if facts["cancelled"] == json!(true) {
        format!("Order {order} ({}) was cancelled.", items(&facts))
    } else {
        match facts["fulfillment_status"].as_str().unwrap_or_default() {
            "FULFILLED" => latest_shipment(&facts)
                .map(|s| shipment_news(&facts, s))
                .unwrap_or_else(|| format!("Order {order} has been fulfilled.")),
            "PARTIALLY_FULFILLED" => format!(
                "Part of order {order} ({}) has shipped. {}",
                items(&facts),
                latest_shipment(&facts)
                    .map(|s| shipment_news(&facts, s))
                    .unwrap_or_default()
            ),
            "IN_PROGRESS" => format!(
                "Order {order} ({}) is being packed right now.",
                items(&facts)
            ),
            "ON_HOLD" => format!(
                "Order {order} ({}) is on hold. Our team will contact you about it.",
                items(&facts)
            ),
            _ => format!(
                "Order {order} ({}) is confirmed and being prepared. It hasn't shipped yet.",
                items(&facts)
            ),
        }
    };
    turn.say(agent, reply, false)
}

/// Carrier, tracking number, shipment status and delivery date.
pub async fn tracking(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Tracking;
    let facts = match turn.verified_order(agent).await {
        Ok(facts) => facts,
        Err(ask) => return ask,
    };
    if facts["cancelled"] == json!(true) {
        let reply = format!("Order {} was cancelled, so it won't ship.", name(&facts));
        return turn.say(agent, reply, false);
    }
    let Some(shipment) = latest_shipment(&facts) else {
        let reply = format!(
            "Order {} hasn't shipped yet, so there's no tracking number yet. You'll get it by SMS as soon as it ships.",
            name(&facts)
        );
        return turn.say(agent, reply, false);
    };
    let carrier = shipment["carrier"].as_str().unwrap_or("our courier");
    let number = shipment["tracking_number"]
        .as_str()
        .unwrap_or("not available");
    let reply = format!(
        "{} The {carrier} tracking number is {number}.",
        shipment_news(&facts, shipment)
    );
    turn.say(agent, reply, false)
}

/// Refund status from the order's refunds and financial status.
pub async fn refund(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Refund;
    let facts = match turn.verified_order(agent).await {
        Ok(facts) => facts,
        Err(ask) => return ask,
    };
    let order = name(&facts);
    let refunds = facts["refunds"].as_array().cloned().unwrap_or_default();
    let mut reply = if refunds.is_empty() {
        match facts["financial_status"].as_str().unwrap_or_default() {
            "VOIDED" => format!("The payment for order {order} was voided, so no money was taken."),
            "PENDING" if facts["payment"] == "cash_on_delivery" => {
                format!(
                    "Order {order} is cash on delivery and nothing has been paid yet, so there's nothing to refund."
                )
            }
            _ => format!("No refund has been issued on order {order} yet."),
        }
    } else {
        let said: Vec<String> = refunds
            .iter()
            .map(|r| {
                let when = day(&r["issued_at"]).unwrap_or_default();
                format!("{} on {when}", rupees(r["amount"].as_str().unwrap_or("0")))
            })
            .collect();
        let whole = if facts["financial_status"] == "REFUNDED" {
            "in full"
        } else {
            "in part"
        };
        format!("Order {order} was refunded {whole}: {}.", said.join(", "))
    };
    if let Some(profile) = turn.tools.profile() {
        reply.push(' ');
        reply.push_str(&profile.policies.refunds);
    }
    turn.say(agent, reply, false)
}

/// The return window in days, read from the returns policy ("7-day returns"): 7 if it names none.
fn return_window_days(policy: &str) -> i64 {
    let words: Vec<String> = policy
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    words
        .windows(2)
        .find_map(|w| {
            (w[1].starts_with("day"))
                .then(|| w[0].parse().ok())
                .flatten()
        })
        .unwrap_or(7)
}

/// Returns within the window, and how.
pub async fn return_request(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Return;
    let facts = match turn.verified_order(agent).await {
        Ok(facts) => facts,
        Err(ask) => return ask,
    };
    let order = name(&facts);
    if facts["cancelled"] == json!(true) {
        let reply = format!("Order {order} was cancelled, so there's nothing to return.");
        return turn.say(agent, reply, false);
    }
    let how = turn
        .tools
        .profile()
        .map(|p| p.policies.returns.clone())
        .unwrap_or_default();
    let window = return_window_days(&how);
    let delivered = latest_shipment(&facts)
        .and_then(|s| s["delivered_at"].as_str())
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok());
    let Some(delivered) = delivered else {
        let reply = format!(
            "Order {order} hasn't been delivered yet. You can return it within {window} days of delivery. {how}"
        );
        return turn.say(agent, reply.trim_end().into(), false);
    };
    let days = (turn.tools.now() - delivered.with_timezone(&Utc)).num_days();
    let when = delivered.format("%-d %b");
    let reply = if days <= window {
        format!(
            "Order {order} was delivered on {when}, so it's within the {window}-day return window. {how}"
        )
    } else {
        format!(
            "Order {order} was delivered on {when}, {days} days ago, which is past the {window}-day return window. I can connect you to our team if there's a problem with it."
        )
    };
    turn.say(agent, reply.trim_end().into(), false)
}

/// Whether the caller asks about one order's payment rather than payment options.
fn about_an_order(turn: &Turn<'_, '_>) -> bool {
    let words = super::understand::words(turn.text);
    let text = words.join(" ");
    turn.heard.order_number.is_some()
        || turn.conv.awaiting.is_some()
        || words
            .iter()
            .any(|w| ["due", "owe", "balance"].contains(&w.as_str()))
        || ["my order", "kitna dena"].iter().any(|p| text.contains(p))
}

/// COD and prepaid questions, amount due.
pub async fn payment(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Payment;
    if !about_an_order(turn) {
        let reply = match turn.tools.profile() {
            Some(p) => format!(
                "{} You can also pay online by UPI or card when you order.",
                p.policies.cod
            ),
            None => "You can pay online when you order. For cash on delivery, please ask our team."
                .into(),
        };
        return turn.say(agent, reply, false);
    }
    let facts = match turn.verified_order(agent).await {
        Ok(facts) => facts,
        Err(ask) => return ask,
    };
    let order = name(&facts);
    let due = facts["amount_due"].as_str().unwrap_or("0.00");
    let nothing_due = due.trim_start_matches(['0', '.']).is_empty();
    let reply = if facts["payment"] == "cash_on_delivery" && !nothing_due {
        format!(
            "Order {order} is cash on delivery: {} is due when it arrives.",
            rupees(due)
        )
    } else if nothing_due {
        format!(
            "Order {order} is paid in full ({}). Nothing is due.",
            rupees(facts["total"].as_str().unwrap_or("0"))
        )
    } else {
        format!("Order {order} has {} still to be paid.", rupees(due))
    };
    turn.say(agent, reply, false)
}

async fn request(
    turn: &mut Turn<'_, '_>,
    agent: Intent,
    kind: &str,
) -> Result<(String, Value), Answer> {
    let facts = turn.verified_order(agent).await?;
    let order = name(&facts).to_string();
    let args = json!({"kind": kind, "order_number": order, "details": turn.text});
    let recorded = turn.tools.run(turn.conv, "create_task", args).await;
    Ok((order, recorded))
}

/// Cancel an unfulfilled order: recorded as a request for staff to confirm.
pub async fn cancellation(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::Cancellation;
    let (order, recorded) = match request(turn, agent, "cancellation").await {
        Ok(done) => done,
        Err(ask) => return ask,
    };
    let reply = if recorded["recorded"] == json!(true) {
        format!(
            "I've recorded a request to cancel order {order}. Our team will confirm the cancellation shortly, and any payment will be refunded as per our policy."
        )
    } else if recorded["reason"]
        .as_str()
        .is_some_and(|r| r.contains("already cancelled"))
    {
        format!("Order {order} is already cancelled.")
    } else {
        format!(
            "Order {order} is already being packed or shipped, so it can't be cancelled now. Once it's delivered, you can return it."
        )
    };
    turn.say(agent, reply, false)
}

/// Change the address of an unfulfilled order: recorded as a request.
pub async fn address_change(turn: &mut Turn<'_, '_>) -> Answer {
    let agent = Intent::AddressChange;
    let (order, recorded) = match request(turn, agent, "address_change").await {
        Ok(done) => done,
        Err(ask) => return ask,
    };
    let reply = if recorded["recorded"] == json!(true) {
        format!(
            "I've noted a request to change the delivery address for order {order}. Our team will call you to confirm the new address before it ships."
        )
    } else if recorded["reason"]
        .as_str()
        .is_some_and(|r| r.contains("already cancelled"))
    {
        format!("Order {order} was cancelled, so there's no address to change.")
    } else {
        format!(
            "Order {order} is already being packed or shipped, so its address can't be changed now. Our team can help if you call back after delivery."
        )
    };
    turn.say(agent, reply, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_windows_read_as_people_say_them() {
        assert_eq!(rupees("1798.00"), "₹1,798");
        assert_eq!(rupees("123456.50"), "₹1,23,456.50");
        assert_eq!(rupees("999.00"), "₹999");
        assert_eq!(return_window_days("Returns within 7 days of delivery."), 7);
        assert_eq!(return_window_days("10-day easy returns"), 10);
        assert_eq!(return_window_days("Easy returns"), 7);
        assert_eq!(day(&json!("2026-11-24T20:00:00+05:30")).unwrap(), "24 Nov");
    }
}
