//! What the agent reads from a store: orders by the number a shopper reads out, a customer by
//! caller phone and their recent orders, and products by name. Every query exists on Shopify's
//! Admin schema (the tests' fake checks each one against it).

use super::{ShopifyClient, ShopifyError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An amount as Shopify sends it (a decimal string) with its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// Decimal amount, e.g. `1499.00`.
    pub amount: String,
    /// Currency code, e.g. `INR`.
    pub currency_code: String,
}

/// A price in the shop's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    /// In the shop's currency.
    pub shop_money: Money,
}

/// Where an order ships: city, state and PIN code only (never the street).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingArea {
    /// City.
    pub city: Option<String>,
    /// State.
    pub province: Option<String>,
    /// PIN code.
    pub zip: Option<String>,
    /// Name on the address.
    pub name: Option<String>,
    /// Phone on the address.
    pub phone: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Product title.
    pub title: String,
    /// Variant, e.g. `M / Blue`.
    pub variant_title: Option<String>,
    /// SKU.
    pub sku: Option<String>,
    /// Quantity.
    pub quantity: i64,
}

/// A carrier's tracking details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tracking {
    /// Carrier.
    pub company: Option<String>,
    /// Tracking number.
    pub number: Option<String>,
    /// Tracking page.
    pub url: Option<String>,
}

/// A shipment of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfillment {
    /// Shipment status, e.g. `IN_TRANSIT`, `DELIVERED`.
    pub display_status: Option<String>,
    /// Expected delivery.
    pub estimated_delivery_at: Option<String>,
    /// When delivered.
    pub delivered_at: Option<String>,
    /// Tracking details.
    #[serde(default)]
    pub tracking_info: Vec<Tracking>,
}

/// The customer an order belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Shopify id (`gid://shopify/Customer/…`).
    pub id: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

/// Reads a GraphQL connection (`{"nodes": [...]}`) as its list.
fn nodes<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Nodes::<T>::deserialize(deserializer).map(|n| n.nodes)
}

/// Writes a list as a GraphQL connection (`{"nodes": [...]}`), as [`nodes`] reads it.
fn as_nodes<S, T>(list: &Vec<T>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    T: Serialize,
{
    #[derive(Serialize)]
    struct Borrowed<'a, T> {
        nodes: &'a [T],
    }
    Borrowed { nodes: list }.serialize(serializer)
}

/// An order as the agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Shopify id (`gid://shopify/Order/…`).
    pub id: String,
    /// What the shopper reads out, e.g. `#1004`.
    pub name: String,
    /// Order phone.
    pub phone: Option<String>,
    /// Placed at (ISO 8601).
    pub created_at: String,
    /// Cancelled at, if cancelled.
    pub cancelled_at: Option<String>,
    /// `PENDING`, `PAID`, `REFUNDED`, ...
    pub display_financial_status: Option<String>,
    /// `UNFULFILLED`, `FULFILLED`, ...
    pub display_fulfillment_status: String,
    /// Total.
    pub total_price_set: MoneyBag,
    /// Refunded so far.
    pub total_refunded_set: MoneyBag,
    /// Still to be paid (a COD order's amount due on delivery).
    #[serde(default)]
    pub total_outstanding_set: Option<MoneyBag>,
    /// Payment methods, e.g. `Cash on Delivery (COD)`.
    #[serde(default)]
    pub payment_gateway_names: Vec<String>,
    /// Where it ships.
    pub shipping_address: Option<ShippingArea>,
    /// Whose it is.
    pub customer: Option<Customer>,
    /// Lines.
    #[serde(deserialize_with = "nodes", serialize_with = "as_nodes")]
    pub line_items: Vec<LineItem>,
    /// Shipments.
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
    /// Refunds issued.
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

/// Money given back on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// When it was issued.
    pub created_at: String,
    /// Why (staff's note).
    pub note: Option<String>,
    /// How much.
    pub total_refunded_set: MoneyBag,
}

/// A product variant with its stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    /// Variant title, e.g. `M / Blue`.
    pub title: String,
    /// SKU.
    pub sku: Option<String>,
    /// Price (decimal string, shop currency).
    pub price: String,
    /// Whether it can be bought now.
    pub available_for_sale: bool,
    /// Units in stock.
    pub inventory_quantity: Option<i64>,
}

/// A product as the agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Title.
    pub title: String,
    /// Description (plain text).
    #[serde(default)]
    pub description: String,
    /// Units in stock across variants.
    pub total_inventory: Option<i64>,
    /// Its variants.
    #[serde(deserialize_with = "nodes", serialize_with = "as_nodes")]
    pub variants: Vec<Variant>,
}

const ORDER_FIELDS: &str = "id name phone createdAt cancelledAt \
    displayFinancialStatus displayFulfillmentStatus \
    totalPriceSet { shopMoney { amount currencyCode } } \
    totalRefundedSet { shopMoney { amount currencyCode } } \
    totalOutstandingSet { shopMoney { amount currencyCode } } \
    paymentGatewayNames \
    shippingAddress { city province zip name phone } \
    customer { id firstName lastName phone } \
    lineItems(first: 20) { nodes { title variantTitle sku quantity } } \
    fulfillments(first: 10) { displayStatus estimatedDeliveryAt deliveredAt \
      trackingInfo { company number url } } \
    refunds(first: 5) { createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }";

fn orders_query() -> String {
    format!(
        "query OrderLookup($q: String!) {{ orders(first: 5, query: $q, sortKey: PROCESSED_AT, \
         reverse: true) {{ nodes {{ {ORDER_FIELDS} }} }} }}"
    )
}

fn connection<T: serde::de::DeserializeOwned>(
    data: &Value,
    name: &str,
) -> Result<Vec<T>, ShopifyError> {
    let list = data
        .get(name)
        .cloned()
        .ok_or_else(|| ShopifyError::Unusable(format!("no {name}")))?;
    serde_json::from_value::<Nodes<T>>(list)
        .map(|n| n.nodes)
        .map_err(|e| ShopifyError::Unusable(e.to_string()))
}

async fn orders_where(client: &ShopifyClient, search: &str) -> Result<Vec<Order>, ShopifyError> {
    let data = client.query(&orders_query(), json!({"q": search})).await?;
    connection(&data, "orders")
}

/// Orders by the number a shopper reads out (`1004`, `#1004`): tried with Shopify's `#`
/// prefix, then bare (stores may change the prefix).
pub async fn orders_by_number(
    client: &ShopifyClient,
    number: &str,
) -> Result<Vec<Order>, ShopifyError> {
    let digits = number.trim().trim_start_matches('#');
    if digits.is_empty()
        || !digits
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Ok(Vec::new());
    }
    let found = orders_where(client, &format!("name:#{digits}")).await?;
    if !found.is_empty() {
        return Ok(found);
    }
    orders_where(client, &format!("name:{digits}")).await
}

/// Customers with this phone (E.164).
pub async fn customers_by_phone(
    client: &ShopifyClient,
    e164: &str,
) -> Result<Vec<Customer>, ShopifyError> {
    if !e164.starts_with('+') || !e164[1..].chars().all(|c| c.is_ascii_digit()) {
        return Ok(Vec::new());
    }
    let query = "query CustomerByPhone($q: String!) { customers(first: 5, query: $q) { \
                 nodes { id firstName lastName phone } } }";
    let data = client
        .query(query, json!({"q": format!("phone:{e164}")}))
        .await?;
    connection(&data, "customers")
}

/// A customer's recent orders, newest first.
pub async fn orders_of_customer(
    client: &ShopifyClient,
    customer_gid: &str,
) -> Result<Vec<Order>, ShopifyError> {
    let Some(id) = customer_gid
        .rsplit('/')
        .next()
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
    else {
        return Ok(Vec::new());
    };
    orders_where(client, &format!("customer_id:{id}")).await
}

/// Active products matching any of the shopper's `words` (product names, not sentences).
pub async fn search_products(
    client: &ShopifyClient,
    words: &[&str],
) -> Result<Vec<Product>, ShopifyError> {
    // Lower case, letters and digits only: Shopify reads upper-case AND/OR/NOT as operators,
    // and a shopper's words must never lift the `status:active` filter. Caly alone writes OR.
    let words: Vec<String> = words
        .iter()
        .map(|w| {
            w.to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let query = "query ProductSearch($q: String!) { products(first: 5, query: $q) { nodes { \
                 title description totalInventory \
                 variants(first: 20) { nodes { title sku price availableForSale inventoryQuantity } } \
                 } } }";
    let search = format!("status:active ({})", words.join(" OR "));
    let data = client.query(query, json!({"q": search})).await?;
    connection(&data, "products")
}
