//! How the local store answers the root fields Caly reads (`shop`, `currentAppInstallation`,
//! `orders`, `customers`, `products`), filtering by the `query` search string as Shopify does:
//! `name:#1001`, `customer_id:7001`, `phone:+91…`, `status:active`, and free words where
//! terms side by side must all match and `OR` separates alternatives.

use super::seed::Seed;
use serde_json::{Value, json};

/// The terms of a search string: `field:value` filters and free words, lower-cased.
struct Search {
    filters: Vec<(String, String)>,
    /// Alternatives (split by `OR`), each a list of words that must all match.
    alternatives: Vec<Vec<String>>,
}

impl Search {
    fn parse(text: &str) -> Search {
        let mut filters = Vec::new();
        let mut alternatives = vec![Vec::new()];
        for term in text.split_whitespace() {
            let term = term.trim_matches(|c| c == '(' || c == ')');
            if term == "OR" {
                alternatives.push(Vec::new());
            } else if let Some((field, value)) = term.split_once(':') {
                filters.push((field.to_lowercase(), value.to_string()));
            } else if !term.is_empty()
                && let Some(last) = alternatives.last_mut()
            {
                last.push(term.to_lowercase());
            }
        }
        alternatives.retain(|a| !a.is_empty());
        Search {
            filters,
            alternatives,
        }
    }

    fn filter(&self, field: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the free words match `text` (word prefixes, as Shopify's search does).
    fn words_match(&self, text: &str) -> bool {
        if self.alternatives.is_empty() {
            return true;
        }
        let words: Vec<String> = text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect();
        self.alternatives.iter().any(|all| {
            all.iter()
                .all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
        })
    }
}

fn nodes(list: Vec<Value>, first: usize) -> Value {
    json!({"nodes": list.into_iter().take(first).collect::<Vec<_>>()})
}

fn orders(seed: &Seed, search: &Search) -> Value {
    let found = seed.orders.iter().filter(|o| {
        let by_name = search.filter("name").is_none_or(|n| o["name"] == n);
        let by_customer = search
            .filter("customer_id")
            .is_none_or(|id| o["customer"]["id"] == format!("gid://shopify/Customer/{id}"));
        by_name && by_customer && search.words_match(o["name"].as_str().unwrap_or_default())
    });
    nodes(found.cloned().collect(), 5)
}

fn customers(seed: &Seed, search: &Search) -> Value {
    let found = seed.customers.iter().filter(|c| {
        search.filter("phone").is_none_or(|p| c["phone"] == p)
            && search.words_match(&format!("{} {}", c["firstName"], c["lastName"]))
    });
    nodes(found.cloned().collect(), 5)
}

fn products(seed: &Seed, search: &Search) -> Value {
    let found = seed.products.iter().filter(|p| {
        let status = p["status"].as_str().unwrap_or_default();
        let by_status = search
            .filter("status")
            .is_none_or(|s| s.eq_ignore_ascii_case(status));
        let text = format!("{} {}", p["title"], p["description"]);
        by_status && search.words_match(&text)
    });
    nodes(found.cloned().collect(), 5)
}

/// The value of root field `name` for search string `q`, or `None` for a field the local store
/// does not serve.
pub fn root_field(seed: &Seed, name: &str, q: &str, scopes: &[String]) -> Option<Value> {
    let search = Search::parse(q);
    Some(match name {
        "shop" => json!({"name": "Kesar Ethnic Wear", "myshopifyDomain": "kesar.myshopify.com",
            "currencyCode": "INR", "ianaTimezone": "Asia/Kolkata"}),
        "currentAppInstallation" => {
            let scopes: Vec<Value> = scopes.iter().map(|s| json!({"handle": s})).collect();
            json!({"accessScopes": scopes})
        }
        "orders" => orders(seed, &search),
        "customers" => customers(seed, &search),
        "products" => products(seed, &search),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn seed() -> Seed {
        Seed::new(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
    }

    fn titles(v: &Value, key: &str) -> Vec<String> {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n[key].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn searches_filter_as_shopify_does() {
        let s = seed();
        let scopes = Vec::new();
        let find = |field: &str, q: &str| root_field(&s, field, q, &scopes).unwrap();
        assert_eq!(titles(&find("orders", "name:#2041"), "name"), ["#2041"]);
        assert_eq!(
            titles(&find("orders", "customer_id:7001"), "name"),
            ["#1003", "#1002", "#1001"]
        );
        assert_eq!(
            titles(&find("customers", "phone:+919812345678"), "firstName"),
            ["Rahul"]
        );
        assert_eq!(
            titles(&find("products", "status:active (kurta OR saree)"), "title"),
            ["Cotton Kurta", "Silk Saree"]
        );
        assert_eq!(
            titles(&find("products", "status:active silk saree"), "title"),
            ["Silk Saree"]
        );
        // The draft shawl is never shown to shoppers.
        assert!(titles(&find("products", "status:active shawl"), "title").is_empty());
        assert!(root_field(&s, "draftOrders", "", &scopes).is_none());
    }
}
