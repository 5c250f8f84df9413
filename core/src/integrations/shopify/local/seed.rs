//! The local store's seed: Kesar Ethnic Wear, a small Indian store. Products with variants and
//! stock (one draft product that searches must not show), customers with phones, and orders in
//! every financial and fulfillment status, with carriers, tracking numbers and refunds. Dates
//! are relative to the day the store opens, so the demo's return windows stay realistic.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

/// The seeded store, as Shopify's GraphQL objects.
pub struct Seed {
    /// Customers.
    pub customers: Vec<Value>,
    /// Orders, newest first.
    pub orders: Vec<Value>,
    /// Products, with a `status` field for the search filter.
    pub products: Vec<Value>,
}

fn money(amount: &str) -> Value {
    json!({"shopMoney": {"amount": amount, "currencyCode": "INR"}})
}

fn customer(id: u32, first: &str, last: &str, phone: &str) -> Value {
    json!({"id": format!("gid://shopify/Customer/{id}"), "firstName": first, "lastName": last,
        "phone": phone})
}

fn line(title: &str, variant: &str, sku: &str, quantity: i64) -> Value {
    json!({"title": title, "variantTitle": variant, "sku": sku, "quantity": quantity})
}

fn shipment(
    status: &str,
    carrier: &str,
    number: &str,
    eta: Option<String>,
    delivered: Option<String>,
) -> Value {
    let url = match carrier {
        "Delhivery" => format!("https://www.delhivery.com/track/package/{number}"),
        "Blue Dart" => format!("https://www.bluedart.com/tracking/{number}"),
        _ => format!("https://ekartlogistics.com/shipmenttrack/{number}"),
    };
    json!({"displayStatus": status, "estimatedDeliveryAt": eta, "deliveredAt": delivered,
        "trackingInfo": [{"company": carrier, "number": number, "url": url}]})
}

/// One order; `days_ago` is when it was placed.
struct OrderSeed<'a> {
    id: u32,
    name: &'a str,
    customer: &'a Value,
    days_ago: i64,
    financial: &'a str,
    fulfillment: &'a str,
    total: &'a str,
    refunded: &'a str,
    gateway: &'a str,
    city: (&'a str, &'a str, &'a str),
    lines: Vec<Value>,
    fulfillments: Vec<Value>,
    refunds: Vec<Value>,
    cancelled: bool,
}

impl Seed {
    /// The store as it looks on `today`.
    pub fn new(today: NaiveDate) -> Seed {
        let at = |days_ago: i64, hour: u32| -> String {
            let day = today - Duration::days(days_ago);
            format!("{day}T{hour:02}:00:00+05:30")
        };
        let priya = customer(7001, "Priya", "Sharma", "+919876543210");
        let rahul = customer(7002, "Rahul", "Verma", "+919812345678");
        let anjali = customer(7003, "Anjali", "Iyer", "+919900112233");
        let imran = customer(7004, "Imran", "Khan", "+919811122233");
        let orders = vec![
            OrderSeed {
                id: 5010,
                name: "#1010",
                customer: &imran,
                days_ago: 0,
                financial: "PARTIALLY_PAID",
                fulfillment: "ON_HOLD",
                total: "4198.00",
                refunded: "0.00",
                gateway: "razorpay",
                city: ("Lucknow", "Uttar Pradesh", "226001"),
                lines: vec![
                    line("Silk Saree", "Green", "SAR-GRN", 1),
                    line("Block Print Dupatta", "One size", "DUP-ONE", 1),
                ],
                fulfillments: vec![],
                refunds: vec![],
                cancelled: false,
            },
            OrderSeed {
                id: 5009,
                name: "#1009",
                customer: &imran,
                days_ago: 3,
                financial: "VOIDED",
                fulfillment: "UNFULFILLED",
                total: "1299.00",
                refunded: "0.00",
                gateway: "razorpay",
                city: ("Lucknow", "Uttar Pradesh", "226001"),
                lines: vec![line("Leather Juttis", "UK 8", "JUT-8", 1)],
                fulfillments: vec![],
                refunds: vec![],
                cancelled: true,
            },
            OrderSeed {
                id: 5008,
                name: "#1008",
                customer: &anjali,
                days_ago: 1,
                financial: "AUTHORIZED",
                fulfillment: "UNFULFILLED",
                total: "899.00",
                refunded: "0.00",
                gateway: "razorpay",
                city: ("Chennai", "Tamil Nadu", "600028"),
                lines: vec![line("Block Print Dupatta", "One size", "DUP-ONE", 1)],
                fulfillments: vec![],
                refunds: vec![],
                cancelled: false,
            },
            OrderSeed {
                id: 5007,
                name: "#1007",
                customer: &anjali,
                days_ago: 14,
                financial: "PARTIALLY_REFUNDED",
                fulfillment: "PARTIALLY_FULFILLED",
                total: "3898.00",
                refunded: "999.00",
                gateway: "razorpay",
                city: ("Chennai", "Tamil Nadu", "600028"),
                lines: vec![
                    line("Silk Saree", "Red", "SAR-RED", 1),
                    line("Cotton Kurta", "L / Blue", "KRT-L-BLU", 1),
                ],
                fulfillments: vec![shipment(
                    "DELIVERED",
                    "Ekart",
                    "FMPC0123456789",
                    None,
                    Some(at(9, 13)),
                )],
                refunds: vec![
                    json!({"createdAt": at(8, 11), "note": "Kurta out of stock", "totalRefundedSet": money("999.00")}),
                ],
                cancelled: false,
            },
            OrderSeed {
                id: 5006,
                name: "#1006",
                customer: &rahul,
                days_ago: 30,
                financial: "REFUNDED",
                fulfillment: "FULFILLED",
                total: "1299.00",
                refunded: "1299.00",
                gateway: "razorpay",
                city: ("Bengaluru", "Karnataka", "560034"),
                lines: vec![line("Leather Juttis", "UK 7", "JUT-7", 1)],
                fulfillments: vec![shipment(
                    "DELIVERED",
                    "Delhivery",
                    "2233445566778",
                    None,
                    Some(at(25, 12)),
                )],
                refunds: vec![
                    json!({"createdAt": at(6, 16), "note": "Returned: size too small", "totalRefundedSet": money("1299.00")}),
                ],
                cancelled: false,
            },
            OrderSeed {
                id: 5005,
                name: "#2041",
                customer: &rahul,
                days_ago: 4,
                financial: "PAID",
                fulfillment: "FULFILLED",
                total: "1798.00",
                refunded: "0.00",
                gateway: "razorpay",
                city: ("Bengaluru", "Karnataka", "560034"),
                lines: vec![line("Cotton Kurta", "M / Blue", "KRT-M-BLU", 2)],
                fulfillments: vec![shipment(
                    "IN_TRANSIT",
                    "Blue Dart",
                    "81234567890",
                    Some(at(-2, 20)),
                    None,
                )],
                refunds: vec![],
                cancelled: false,
            },
            OrderSeed {
                id: 5004,
                name: "#1004",
                customer: &rahul,
                days_ago: 2,
                financial: "PENDING",
                fulfillment: "IN_PROGRESS",
                total: "999.00",
                refunded: "0.00",
                gateway: "Cash on Delivery (COD)",
                city: ("Bengaluru", "Karnataka", "560034"),
                lines: vec![line("Cotton Kurta", "S / Red", "KRT-S-RED", 1)],
                fulfillments: vec![],
                refunds: vec![],
                cancelled: false,
            },
            OrderSeed {
                id: 5003,
                name: "#1003",
                customer: &priya,
                days_ago: 6,
                financial: "EXPIRED",
                fulfillment: "UNFULFILLED",
                total: "2999.00",
                refunded: "0.00",
                gateway: "razorpay",
                city: ("Pune", "Maharashtra", "411001"),
                lines: vec![line("Silk Saree", "Red", "SAR-RED", 1)],
                fulfillments: vec![],
                refunds: vec![],
                cancelled: false,
            },
            OrderSeed {
                id: 5002,
                name: "#1002",
                customer: &priya,
                days_ago: 2,
                financial: "PENDING",
                fulfillment: "UNFULFILLED",
                total: "2999.00",
                refunded: "0.00",
                gateway: "Cash on Delivery (COD)",
                city: ("Pune", "Maharashtra", "411001"),
                lines: vec![line("Silk Saree", "Red", "SAR-RED", 1)],
                fulfillments: vec![],
                refunds: vec![],
                cancelled: false,
            },
            OrderSeed {
                id: 5001,
                name: "#1001",
                customer: &priya,
                days_ago: 8,
                financial: "PAID",
                fulfillment: "FULFILLED",
                total: "1499.00",
                refunded: "0.00",
                gateway: "razorpay",
                city: ("Pune", "Maharashtra", "411001"),
                lines: vec![line("Cotton Kurta", "M / Blue", "KRT-M-BLU", 1)],
                fulfillments: vec![shipment(
                    "DELIVERED",
                    "Delhivery",
                    "1234567890123",
                    None,
                    Some(at(3, 15)),
                )],
                refunds: vec![],
                cancelled: false,
            },
        ];
        let orders = orders
            .into_iter()
            .map(|o| {
                let (city, province, zip) = o.city;
                let total: f64 = o.total.parse().unwrap_or_default();
                let outstanding = match o.financial {
                    "PENDING" | "AUTHORIZED" => total,
                    "PARTIALLY_PAID" => total / 2.0,
                    _ => 0.0,
                };
                let outstanding = format!("{outstanding:.2}");
                let full_name = format!(
                    "{} {}",
                    o.customer["firstName"].as_str().unwrap_or_default(),
                    o.customer["lastName"].as_str().unwrap_or_default()
                );
                json!({"id": format!("gid://shopify/Order/{}", o.id), "name": o.name,
                    "phone": null, "createdAt": at(o.days_ago, 10),
                    "cancelledAt": if o.cancelled { Some(at(o.days_ago - 1, 9)) } else { None },
                    "displayFinancialStatus": o.financial,
                    "displayFulfillmentStatus": o.fulfillment,
                    "totalPriceSet": money(o.total), "totalRefundedSet": money(o.refunded),
                    "totalOutstandingSet": money(&outstanding),
                    "paymentGatewayNames": [o.gateway],
                    "shippingAddress": {"address1": "14 Residency Road", "city": city,
                        "province": province, "zip": zip, "name": full_name,
                        "phone": o.customer["phone"]},
                    "customer": o.customer,
                    "lineItems": {"nodes": o.lines},
                    "fulfillments": o.fulfillments,
                    "refunds": o.refunds})
            })
            .collect();
        Seed {
            customers: vec![priya.clone(), rahul.clone(), anjali.clone(), imran.clone()],
            orders,
            products: products(),
        }
    }
}

fn products() -> Vec<Value> {
    let variant = |title: &str, sku: &str, price: &str, qty: i64| {
        json!({"title": title, "sku": sku, "price": price, "availableForSale": qty > 0,
            "inventoryQuantity": qty})
    };
    let product = |title: &str, description: &str, status: &str, variants: Vec<Value>| {
        let total: i64 = variants
            .iter()
            .filter_map(|v| v["inventoryQuantity"].as_i64())
            .sum();
        json!({"title": title, "description": description, "status": status,
            "totalInventory": total, "variants": {"nodes": variants}})
    };
    vec![
        product(
            "Cotton Kurta",
            "Hand-block printed cotton kurta from Jaipur.",
            "ACTIVE",
            vec![
                variant("M / Blue", "KRT-M-BLU", "999.00", 4),
                variant("L / Blue", "KRT-L-BLU", "999.00", 0),
                variant("S / Red", "KRT-S-RED", "999.00", 6),
            ],
        ),
        product(
            "Silk Saree",
            "Banarasi silk saree with zari border.",
            "ACTIVE",
            vec![
                variant("Red", "SAR-RED", "2999.00", 2),
                variant("Green", "SAR-GRN", "3299.00", 0),
            ],
        ),
        product(
            "Block Print Dupatta",
            "Soft mulmul dupatta, 2.25 m.",
            "ACTIVE",
            vec![variant("One size", "DUP-ONE", "899.00", 10)],
        ),
        product(
            "Leather Juttis",
            "Handmade Punjabi juttis.",
            "ACTIVE",
            vec![
                variant("UK 6", "JUT-6", "1299.00", 3),
                variant("UK 7", "JUT-7", "1299.00", 1),
                variant("UK 8", "JUT-8", "1299.00", 0),
            ],
        ),
        product(
            "Pashmina Shawl",
            "Winter collection, not yet launched.",
            "DRAFT",
            vec![variant("Grey", "SHL-GRY", "4999.00", 5)],
        ),
    ]
}
