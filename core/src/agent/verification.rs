//! Who may hear an order's details. Enforced in code, whichever brain answers: a caller is
//! verified for an order by caller ID (their phone is the order's or its customer's), or by the
//! order number plus a second fact (the name on the order, or the shipping PIN code).

use crate::calls::phone;
use crate::integrations::shopify::store::Order;
use serde::{Deserialize, Serialize};

/// How the caller proved the order is theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verified {
    /// Not verified: no status, tracking number, name, address or amount may be told.
    No,
    /// The caller's number is the order's or its customer's.
    CallerId,
    /// The order number plus the name on the order.
    OrderAndName,
    /// The order number plus the shipping PIN code.
    OrderAndPin,
}

impl Verified {
    /// True when the order's details may be told.
    pub fn is_verified(self) -> bool {
        self != Verified::No
    }
}

/// What the caller said to prove the order is theirs.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    /// The name they gave.
    pub name: Option<String>,
    /// The PIN code they gave.
    pub pin: Option<String>,
}

fn same_phone(a: &str, b: &str) -> bool {
    matches!((phone::to_e164(a), phone::to_e164(b)), (Some(x), Some(y)) if x == y)
}

/// Words callers put around their name ("my name is …", "mera naam … hai").
const FILLER: &[&str] = &[
    "name", "naam", "mera", "meri", "this", "its", "the", "and", "hai", "hoon", "speaking",
    "order", "from", "here", "yes", "haan", "calling", "sir", "madam",
];

/// The words of a name as said, without the filler around it ("my name is …").
pub fn name_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .map(str::to_lowercase)
        .filter(|t| t.chars().count() >= 3 && !FILLER.contains(&t.as_str()))
        .collect()
}

/// Whether `caller` (their number, if known) is verified for `order` given what they said.
pub fn verify(caller: Option<&str>, order: &Order, claim: &Claim) -> Verified {
    let shipping = order.shipping_address.as_ref();
    let customer = order.customer.as_ref();
    let phones = [
        order.phone.as_deref(),
        customer.and_then(|c| c.phone.as_deref()),
        shipping.and_then(|s| s.phone.as_deref()),
    ];
    if let Some(caller) = caller
        && phones.into_iter().flatten().any(|p| same_phone(caller, p))
    {
        return Verified::CallerId;
    }
    if let Some(said) = claim.name.as_deref() {
        let on_order: Vec<String> = [
            customer.and_then(|c| c.first_name.as_deref()),
            customer.and_then(|c| c.last_name.as_deref()),
            shipping.and_then(|s| s.name.as_deref()),
        ]
        .into_iter()
        .flatten()
        .flat_map(name_tokens)
        .collect();
        // The full name: every word said must be on the order, at least two of them when the
        // order has a first and a last name (one common surname must not pass), and at most
        // three (reciting many common names must not pass).
        let mut distinct = on_order.clone();
        distinct.sort();
        distinct.dedup();
        let mut said = name_tokens(said);
        said.dedup();
        let needed = distinct.len().clamp(1, 2);
        if (needed..=3).contains(&said.len()) && said.iter().all(|t| on_order.contains(t)) {
            return Verified::OrderAndName;
        }
    }
    let pin: Option<String> = claim
        .pin
        .as_deref()
        .map(|p| p.chars().filter(char::is_ascii_digit).collect());
    let zip = shipping
        .and_then(|s| s.zip.as_deref())
        .map(|z| z.replace(' ', ""));
    if let (Some(pin), Some(zip)) = (pin, zip)
        && pin.len() == 6
        && pin == zip
    {
        return Verified::OrderAndPin;
    }
    Verified::No
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::shopify::store::{Customer, MoneyBag, ShippingArea};

    fn order() -> Order {
        let money = |a: &str| {
            serde_json::from_value::<MoneyBag>(serde_json::json!(
                {"shopMoney": {"amount": a, "currencyCode": "INR"}}
            ))
            .unwrap()
        };
        Order {
            id: "gid://shopify/Order/5002".into(),
            name: "#1002".into(),
            phone: None,
            created_at: "2026-11-20T18:30:00+05:30".into(),
            cancelled_at: None,
            display_financial_status: Some("PENDING".into()),
            display_fulfillment_status: "UNFULFILLED".into(),
            total_price_set: money("2999.00"),
            total_refunded_set: money("0.00"),
            total_outstanding_set: None,
            payment_gateway_names: vec![],
            shipping_address: Some(ShippingArea {
                city: Some("Pune".into()),
                province: None,
                zip: Some("411001".into()),
                name: Some("Priya Sharma".into()),
                phone: None,
            }),
            customer: Some(Customer {
                id: "gid://shopify/Customer/7001".into(),
                first_name: Some("Priya".into()),
                last_name: Some("Sharma".into()),
                phone: Some("+919876543210".into()),
            }),
            line_items: vec![],
            fulfillments: vec![],
            refunds: vec![],
        }
    }

    #[test]
    fn callers_verify_by_their_number_or_the_order_number_and_a_second_fact() {
        let order = order();
        let none = Claim::default();
        assert_eq!(
            verify(Some("09876543210"), &order, &none),
            Verified::CallerId
        );
        assert_eq!(verify(Some("+919999999999"), &order, &none), Verified::No);
        assert_eq!(verify(None, &order, &none), Verified::No);
        let name = |n: &str| Claim {
            name: Some(n.into()),
            pin: None,
        };
        assert_eq!(
            verify(None, &order, &name("it's priya sharma")),
            Verified::OrderAndName
        );
        assert_eq!(
            verify(None, &order, &name("SHARMA")),
            Verified::No,
            "one common surname is not the name on the order"
        );
        assert_eq!(verify(None, &order, &name("Priya Priya")), Verified::No);
        assert_eq!(verify(None, &order, &name("Rahul")), Verified::No);
        assert_eq!(
            verify(None, &order, &name("pr")),
            Verified::No,
            "too short to count"
        );
        assert_eq!(
            verify(None, &order, &name("my name is Priya Sharma")),
            Verified::OrderAndName
        );
        assert_eq!(
            verify(None, &order, &name("Kumar Singh Sharma Patel Gupta")),
            Verified::No,
            "reciting names does not pass"
        );
        assert_eq!(verify(None, &order, &name("Priya Patel")), Verified::No);
        let pin = |p: &str| Claim {
            name: None,
            pin: Some(p.into()),
        };
        assert_eq!(verify(None, &order, &pin("411 001")), Verified::OrderAndPin);
        assert_eq!(verify(None, &order, &pin("411002")), Verified::No);
        assert_eq!(verify(None, &order, &pin("4110")), Verified::No);
        assert!(!Verified::No.is_verified() && Verified::CallerId.is_verified());
    }
}
