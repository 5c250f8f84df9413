//! The tool layer, shared by both brains: store lookups, caller verification and staff
//! requests. Privacy is enforced here, in code: an order's details reach the brain (and so the
//! reply) only once the caller is verified for that order; until then the result is withheld.
//! No tool ever returns a street address (the store queries never fetch one).

use super::conversation::{Conversation, MAX_FAILED_CHECKS};
use super::facts::{order_facts, product_facts};
use super::store_data::StoreData;
use super::verification::{Claim, name_tokens, verify};
use crate::integrations::shopify::ShopifyError;
use crate::integrations::shopify::store::Order;
use crate::tenancy::profile::StoreProfile;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// What a request for staff is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Cancel an unfulfilled order.
    Cancellation,
    /// Change an unfulfilled order's address.
    AddressChange,
    /// A complaint to follow up.
    Complaint,
    /// Call the shopper back (asked for a person outside support hours).
    Callback,
}

impl TaskKind {
    /// The stable label (API, storage).
    pub fn label(self) -> &'static str {
        match self {
            TaskKind::Cancellation => "cancellation",
            TaskKind::AddressChange => "address_change",
            TaskKind::Complaint => "complaint",
            TaskKind::Callback => "callback",
        }
    }

    /// The kind with this label.
    pub fn parse(label: &str) -> Option<TaskKind> {
        [
            TaskKind::Cancellation,
            TaskKind::AddressChange,
            TaskKind::Complaint,
            TaskKind::Callback,
        ]
        .into_iter()
        .find(|k| k.label() == label)
    }
}

/// A request the agent recorded for staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRequest {
    /// What it is about.
    pub kind: TaskKind,
    /// The order, when it concerns one.
    pub order: Option<String>,
    /// What the caller said.
    pub details: String,
}

/// One tool call as stored with the turn and returned by the API. `result` is `None` with
/// `withheld: true` when the caller may not see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Tool name.
    pub name: String,
    /// Its arguments.
    pub arguments: Value,
    /// What it returned, unless withheld.
    pub result: Option<Value>,
    /// True when the result was withheld from an unverified caller.
    #[serde(default)]
    pub withheld: bool,
}

/// How long prefetched orders are answered from.
pub const PREFETCH_FRESH_MINUTES: i64 = 10;

/// Failed proofs per order allowed within a day, across conversations.
pub const MAX_ORDER_FAILURES: u32 = 5;

/// Where failed proofs are counted beyond one conversation (the database in production), so a
/// new conversation does not reset the limit.
#[async_trait::async_trait]
pub trait ProofGuard: Send + Sync {
    /// Failed proofs for `order` in the recent window.
    async fn recent_failures(&self, order: &str) -> u32;
    /// Records one failed proof for `order`.
    async fn record_failure(&self, order: &str);
}

/// What a brain sees in place of a withheld result.
fn withheld_notice(order: &str) -> Value {
    json!({"found": true, "order": order, "withheld": true,
        "reason": "the caller is not verified for this order: ask for the name on the order or the shipping PIN code"})
}

/// The tools of one turn, with what they did.
pub struct Toolbox<'a> {
    store: Option<&'a dyn StoreData>,
    guard: Option<&'a dyn ProofGuard>,
    profile: Option<&'a StoreProfile>,
    now: DateTime<Utc>,
    /// Calls made, in order.
    pub calls: Vec<ToolCall>,
    /// Requests recorded for staff.
    pub tasks: Vec<TaskRequest>,
    /// Time spent waiting on the store.
    pub store_time: Duration,
    /// The first store failure (a refused token disconnects the store).
    pub store_error: Option<ShopifyError>,
    /// Whether a brain asked for a person and one is available now.
    pub handoff: bool,
}

impl<'a> Toolbox<'a> {
    /// Tools over `store` (none when no store is connected) and the store's profile.
    pub fn new(
        store: Option<&'a dyn StoreData>,
        profile: Option<&'a StoreProfile>,
        now: DateTime<Utc>,
    ) -> Self {
        Toolbox {
            store,
            guard: None,
            profile,
            now,
            calls: Vec::new(),
            tasks: Vec::new(),
            store_time: Duration::ZERO,
            store_error: None,
            handoff: false,
        }
    }

    /// Whether the store's people answer now (unknown hours count as open).
    pub fn open_now(&self) -> bool {
        self.profile
            .is_none_or(|p| p.support_hours.is_open_at(self.now))
    }

    /// These tools with failed proofs counted by `guard` as well as per conversation.
    pub fn with_guard(mut self, guard: &'a dyn ProofGuard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The store profile, if set.
    pub fn profile(&self) -> Option<&'a StoreProfile> {
        self.profile
    }

    /// The time the turn is answered at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Whether the store can be read.
    pub fn store_available(&self) -> bool {
        self.store.is_some() && self.store_error.is_none()
    }

    fn record(&mut self, name: &str, arguments: Value, seen: &Value, withheld: bool) {
        self.calls.push(ToolCall {
            name: name.to_string(),
            arguments,
            result: (!withheld).then(|| seen.clone()),
            withheld,
        });
    }

    async fn timed<T>(
        &mut self,
        lookup: impl Future<Output = Result<T, ShopifyError>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = lookup.await;
        self.store_time += started.elapsed();
        match result {
            Ok(found) => Some(found),
            Err(error) => {
                tracing::warn!(%error, "store lookup failed");
                self.store_error.get_or_insert(error);
                None
            }
        }
    }

    /// Whether the conversation's prefetched orders are recent enough to answer from.
    fn prefetch_fresh(&self, conv: &Conversation) -> bool {
        conv.prefetched_at
            .is_some_and(|at| self.now - at < chrono::Duration::minutes(PREFETCH_FRESH_MINUTES))
    }

    /// The order with this number, as the store has it (no privacy applied: for the tools);
    /// from the caller's prefetched orders when it is one of them, else from the store.
    async fn order(&mut self, conv: &Conversation, number: &str) -> Option<Order> {
        let store = self.store?;
        // The prefetched copy serves callers known by caller ID, or an order already proven:
        // answering anyone else faster from it would tell them whose order it is.
        let fresh = self.prefetch_fresh(conv);
        let may_use = conv.trusted_caller().is_some() || conv.verified_for(number).is_verified();
        if fresh
            && may_use
            && let Some(known) = conv.prefetched.iter().find(|o| same_order(&o.name, number))
        {
            return Some(known.clone());
        }
        let found = self.timed(store.orders_by_number(number)).await?;
        found.into_iter().next()
    }

    /// Runs tool `name` with `arguments`; returns what the brain may see.
    pub async fn run(&mut self, conv: &mut Conversation, name: &str, arguments: Value) -> Value {
        let text = |key: &str| {
            arguments
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let (seen, withheld) = match name {
            "find_order" => self.find_order(conv, text("order_number")).await,
            "verify_caller" => {
                let claim = Claim {
                    name: text("name"),
                    pin: text("pin"),
                };
                (
                    self.verify_caller(conv, text("order_number"), claim).await,
                    false,
                )
            }
            "caller_orders" => (self.caller_orders(conv).await, false),
            "search_products" => (self.search_products(text("query")).await, false),
            "create_task" => {
                let kind = text("kind").and_then(|k| TaskKind::parse(&k));
                let details = text("details").unwrap_or_default();
                self.create_task(conv, kind, text("order_number"), details)
                    .await
            }
            "store_policy" => (self.store_policy(text("topic")), false),
            "transfer_to_human" => (self.transfer(conv, text("reason")).await, false),
            _ => (json!({"error": format!("no tool named '{name}'")}), false),
        };
        self.record(name, arguments.clone(), &seen, withheld);
        seen
    }

    async fn find_order(
        &mut self,
        conv: &mut Conversation,
        number: Option<String>,
    ) -> (Value, bool) {
        let Some(number) = number else {
            return (json!({"error": "order_number is required"}), false);
        };
        if self.store.is_none() {
            return (json!({"error": "no store is connected"}), false);
        }
        let Some(order) = self.order(conv, &number).await else {
            if self.store_error.is_some() {
                return (json!({"error": "the store could not be reached"}), false);
            }
            return (json!({"found": false, "order_number": number}), false);
        };
        conv.order = Some(order.name.clone());
        let by_caller_id = verify(conv.trusted_caller(), &order, &Claim::default());
        conv.mark_verified(&order.name, by_caller_id);
        if conv.verified_for(&order.name).is_verified() {
            let mut facts = order_facts(&order);
            facts["found"] = json!(true);
            (facts, false)
        } else {
            (withheld_notice(&order.name), true)
        }
    }

    async fn verify_caller(
        &mut self,
        conv: &mut Conversation,
        number: Option<String>,
        claim: Claim,
    ) -> Value {
        let locked = || {
            json!({"verified": false, "locked": true,
                "reason": "too many failed attempts: offer a human"})
        };
        if conv.is_locked() {
            return locked();
        }
        let Some(number) = number.or_else(|| conv.order.clone()) else {
            return json!({"verified": false, "error": "order_number is required"});
        };
        let Some(order) = self.order(conv, &number).await else {
            if self.store_error.is_some() {
                return json!({"verified": false, "error": "the store could not be reached"});
            }
            return json!({"verified": false, "found": false});
        };
        conv.order = Some(order.name.clone());
        if let Some(guard) = self.guard
            && guard.recent_failures(&order.name).await >= MAX_ORDER_FAILURES
        {
            conv.failed_checks = conv.failed_checks.max(MAX_FAILED_CHECKS);
            return locked();
        }
        let how = verify(conv.trusted_caller(), &order, &claim);
        if how.is_verified() {
            conv.mark_verified(&order.name, how);
            return json!({"verified": true, "order": order.name, "method": how});
        }
        // Each fact that was really offered and was wrong counts: a name and a PIN are two.
        let offered_name = claim
            .name
            .as_deref()
            .is_some_and(|n| !name_tokens(n).is_empty());
        let offered_pin = claim
            .pin
            .as_deref()
            .is_some_and(|p| p.chars().filter(char::is_ascii_digit).count() == 6);
        for _ in 0..(u32::from(offered_name) + u32::from(offered_pin)) {
            conv.failed_checks += 1;
            if let Some(guard) = self.guard {
                guard.record_failure(&order.name).await;
            }
        }
        let left = MAX_FAILED_CHECKS.saturating_sub(conv.failed_checks);
        json!({"verified": false, "attempts_left": left, "locked": left == 0})
    }

    async fn caller_orders(&mut self, conv: &mut Conversation) -> Value {
        let Some(caller) = conv.trusted_caller().map(String::from) else {
            return json!({"orders": [], "reason": "the caller's number is not caller ID"});
        };
        let orders = if conv.prefetch_done && self.prefetch_fresh(conv) && self.store.is_some() {
            conv.prefetched.clone()
        } else {
            let Some(store) = self.store else {
                return json!({"orders": [], "error": "no store is connected"});
            };
            let Some(found) = self.timed(store.orders_of_phone(&caller)).await else {
                return json!({"orders": [], "error": "the store could not be reached"});
            };
            conv.prefetched = found.clone();
            conv.prefetch_done = true;
            conv.prefetched_at = Some(self.now);
            found
        };
        let mut listed = Vec::new();
        for order in &orders {
            let how = verify(Some(&caller), order, &Claim::default());
            if how.is_verified() {
                conv.mark_verified(&order.name, how);
                listed.push(order_facts(order));
            }
        }
        json!({ "orders": listed })
    }

    async fn search_products(&mut self, query: Option<String>) -> Value {
        let Some(store) = self.store else {
            return json!({"error": "no store is connected"});
        };
        let query = query.unwrap_or_default();
        let words: Vec<&str> = query.split_whitespace().collect();
        match self.timed(store.search_products(&words)).await {
            Some(products) => {
                json!({"products": products.iter().map(product_facts).collect::<Vec<_>>()})
            }
            None => json!({"error": "the store could not be reached"}),
        }
    }

    async fn create_task(
        &mut self,
        conv: &mut Conversation,
        kind: Option<TaskKind>,
        number: Option<String>,
        details: String,
    ) -> (Value, bool) {
        let Some(kind) = kind else {
            let error = "kind must be cancellation, address_change, complaint or callback";
            return (json!({"recorded": false, "error": error}), false);
        };
        let number = number.or_else(|| conv.order.clone());
        let mut order_name = None;
        if matches!(kind, TaskKind::Cancellation | TaskKind::AddressChange) {
            let Some(number) = number else {
                return (
                    json!({"recorded": false, "error": "order_number is required"}),
                    false,
                );
            };
            let Some(order) = self.order(conv, &number).await else {
                if self.store_error.is_some() {
                    let error = "the store could not be reached";
                    return (json!({"recorded": false, "error": error}), false);
                }
                return (json!({"recorded": false, "found": false}), false);
            };
            if !conv.verified_for(&order.name).is_verified() {
                return (withheld_notice(&order.name), true);
            }
            if order.cancelled_at.is_some() {
                let reason = "the order is already cancelled";
                return (json!({"recorded": false, "reason": reason}), false);
            }
            if order.display_fulfillment_status != "UNFULFILLED" {
                let reason = "the order is no longer unfulfilled, so it cannot be changed";
                return (json!({"recorded": false, "reason": reason}), false);
            }
            order_name = Some(order.name);
        } else if let Some(number) = number {
            order_name = conv
                .verified
                .iter()
                .find(|v| same_order(&v.order, &number))
                .map(|v| v.order.clone());
        }
        // One request of a kind per turn (the database keeps one per turn and kind).
        if let Some(existing) = self.tasks.iter().find(|t| t.kind == kind) {
            let seen = json!({"recorded": true, "kind": existing.kind, "order": existing.order});
            return (seen, false);
        }
        let task = TaskRequest {
            kind,
            order: order_name,
            details,
        };
        let seen = json!({"recorded": true, "kind": task.kind, "order": task.order});
        self.tasks.push(task);
        (seen, false)
    }

    /// A person now, in support hours; outside them a callback request.
    async fn transfer(&mut self, conv: &mut Conversation, reason: Option<String>) -> Value {
        if self.open_now() {
            self.handoff = true;
            return json!({"transferring": true});
        }
        let details = reason.unwrap_or_else(|| "asked for a person".into());
        self.create_task(conv, Some(TaskKind::Callback), None, details)
            .await;
        let hours = self.profile.map(|p| p.support_hours.describe());
        json!({"transferring": false, "callback_recorded": true, "hours": hours})
    }

    fn store_policy(&self, topic: Option<String>) -> Value {
        let Some(profile) = self.profile else {
            return json!({"error": "the store has not set its policies"});
        };
        let policies = &profile.policies;
        let hours = &profile.support_hours;
        let text = match topic.as_deref().unwrap_or("shipping") {
            "shipping" => policies.shipping.clone(),
            "returns" => policies.returns.clone(),
            "refunds" => policies.refunds.clone(),
            "cod" => policies.cod.clone(),
            "offers" => policies.offers.clone(),
            "hours" => hours.describe(),
            other => return json!({"error": format!("no policy on '{other}'")}),
        };
        json!({"topic": topic, "text": text, "open_now": hours.is_open_at(self.now)})
    }
}

/// `2041` or `#2041` as an order name (`#2041`).
pub fn number_to_name(number: &str) -> String {
    format!("#{}", number.trim().trim_start_matches('#'))
}

/// Whether two spellings name the same order (`#2041`, `2041`).
pub fn same_order(a: &str, b: &str) -> bool {
    let bare = |s: &str| s.trim().trim_start_matches('#').to_ascii_lowercase();
    bare(a) == bare(b)
}
