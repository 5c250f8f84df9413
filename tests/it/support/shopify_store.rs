//! The fake Shopify's seeded store (a small Indian store) and how it answers the lookups Caly
//! sends, filtering by the `query` search string as Shopify does.

use serde_json::{Value, json};

fn money(amount: &str) -> Value {
    json!({"shopMoney": {"amount": amount, "currencyCode": "INR"}})
}

fn priya() -> Value {
    json!({"id": "gid://shopify/Customer/7001", "firstName": "Priya", "lastName": "Sharma",
        "phone": "+919876543210"})
}

/// The seeded orders.
pub fn orders() -> Vec<Value> {
    let line = |title: &str, variant: &str, sku: &str| json!({"title": title, "variantTitle": variant, "sku": sku, "quantity": 1});
    vec![
        json!({"id": "gid://shopify/Order/5001", "name": "#1001", "phone": null,
            "createdAt": "2026-11-02T10:00:00+05:30", "cancelledAt": null,
            "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "FULFILLED",
            "totalPriceSet": money("1499.00"), "totalRefundedSet": money("0.00"),
            "paymentGatewayNames": ["razorpay"],
            "shippingAddress": {"city": "Pune", "province": "Maharashtra", "zip": "411001",
                "name": "Priya Sharma", "phone": "+919876543210"},
            "customer": priya(),
            "lineItems": {"nodes": [line("Cotton Kurta", "M / Blue", "KRT-M-BLU")]},
            "fulfillments": [{"displayStatus": "DELIVERED", "estimatedDeliveryAt": null,
                "deliveredAt": "2026-11-06T15:00:00+05:30",
                "trackingInfo": [{"company": "Delhivery", "number": "1234567890123",
                    "url": "https://www.delhivery.com/track/package/1234567890123"}]}]}),
        json!({"id": "gid://shopify/Order/5002", "name": "#1002", "phone": null,
            "createdAt": "2026-11-20T18:30:00+05:30", "cancelledAt": null,
            "displayFinancialStatus": "PENDING", "displayFulfillmentStatus": "UNFULFILLED",
            "totalPriceSet": money("2999.00"), "totalRefundedSet": money("0.00"),
            "paymentGatewayNames": ["Cash on Delivery (COD)"],
            "shippingAddress": {"city": "Pune", "province": "Maharashtra", "zip": "411001",
                "name": "Priya Sharma", "phone": "+919876543210"},
            "customer": priya(),
            "lineItems": {"nodes": [line("Silk Saree", "Red", "SAR-RED")]},
            "fulfillments": []}),
    ]
}

fn products() -> Vec<Value> {
    let variant = |title: &str, sku: &str, qty: i64| {
        json!({"title": title, "sku": sku, "price": "999.00", "availableForSale": qty > 0,
            "inventoryQuantity": qty})
    };
    vec![
        json!({"title": "Cotton Kurta", "description": "Hand-block printed cotton kurta.",
            "totalInventory": 4, "variants": {"nodes": [
                variant("M / Blue", "KRT-M-BLU", 4), variant("L / Blue", "KRT-L-BLU", 0)]}}),
        json!({"title": "Silk Saree", "description": "Banarasi silk saree.", "totalInventory": 2,
            "variants": {"nodes": [variant("Red", "SAR-RED", 2)]}}),
    ]
}

/// The `data` for one of Caly's lookups, or `None` when the query is not one of them.
pub fn answer(query: &str, variables: &Value) -> Option<Value> {
    let search = variables
        .get("q")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if query.contains("OrderLookup") {
        let found: Vec<Value> = orders()
            .into_iter()
            .filter(|o| match search.split_once(':') {
                Some(("name", name)) => o["name"] == name,
                Some(("customer_id", id)) => {
                    o["customer"]["id"] == format!("gid://shopify/Customer/{id}")
                }
                _ => false,
            })
            .collect();
        return Some(json!({"orders": {"nodes": found}}));
    }
    if query.contains("CustomerByPhone") {
        let phone = search.strip_prefix("phone:").unwrap_or_default();
        let found: Vec<Value> = [priya()]
            .into_iter()
            .filter(|c| c["phone"] == phone)
            .collect();
        return Some(json!({"customers": {"nodes": found}}));
    }
    if query.contains("ProductSearch") {
        let words: Vec<String> = search
            .split_whitespace()
            .filter(|w| !w.contains(':'))
            .map(str::to_lowercase)
            .collect();
        let found: Vec<Value> = products()
            .into_iter()
            .filter(|p| {
                let title = p["title"].as_str().unwrap_or_default().to_lowercase();
                words.iter().any(|w| title.contains(w.as_str()))
            })
            .collect();
        return Some(json!({"products": {"nodes": found}}));
    }
    None
}
