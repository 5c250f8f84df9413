//! Orders and products as the brains see them: plain JSON facts, never a street address (the
//! store queries never fetch one) and no customer contact details.

use crate::integrations::shopify::store::{Order, Product};
use serde_json::{Value, json};

/// Whether the order is paid on delivery.
pub fn is_cod(order: &Order) -> bool {
    order.payment_gateway_names.iter().any(|g| {
        let g = g.to_lowercase();
        g.contains("cash on delivery") || g.contains("cod")
    })
}

/// The facts of an order a verified caller may hear.
pub fn order_facts(order: &Order) -> Value {
    let items: Vec<Value> = order
        .line_items
        .iter()
        .map(|l| json!({"title": l.title, "variant": l.variant_title, "quantity": l.quantity}))
        .collect();
    let shipments: Vec<Value> = order
        .fulfillments
        .iter()
        .map(|f| {
            let tracking = f.tracking_info.first();
            json!({"status": f.display_status,
                "carrier": tracking.and_then(|t| t.company.clone()),
                "tracking_number": tracking.and_then(|t| t.number.clone()),
                "tracking_url": tracking.and_then(|t| t.url.clone()),
                "expected_delivery": f.estimated_delivery_at,
                "delivered_at": f.delivered_at})
        })
        .collect();
    let refunds: Vec<Value> = order
        .refunds
        .iter()
        .map(|r| {
            json!({"amount": r.total_refunded_set.shop_money.amount, "issued_at": r.created_at,
            "note": r.note})
        })
        .collect();
    let area = order.shipping_address.as_ref();
    json!({
        "order": order.name,
        "placed_at": order.created_at,
        "cancelled": order.cancelled_at.is_some(),
        "financial_status": order.display_financial_status,
        "fulfillment_status": order.display_fulfillment_status,
        "items": items,
        "total": order.total_price_set.shop_money.amount,
        "currency": order.total_price_set.shop_money.currency_code,
        "amount_due": order.total_outstanding_set.as_ref().map(|m| m.shop_money.amount.clone()),
        "refunded": order.total_refunded_set.shop_money.amount,
        "payment": if is_cod(order) { "cash_on_delivery" } else { "prepaid" },
        "ships_to_city": area.and_then(|a| a.city.clone()),
        "shipments": shipments,
        "refunds": refunds,
    })
}

/// The facts of a product anyone may hear.
pub fn product_facts(product: &Product) -> Value {
    let variants: Vec<Value> = product
        .variants
        .iter()
        .map(|v| {
            json!({"title": v.title, "price": v.price, "in_stock": v.available_for_sale,
            "quantity": v.inventory_quantity})
        })
        .collect();
    json!({"title": product.title, "description": product.description, "variants": variants})
}
