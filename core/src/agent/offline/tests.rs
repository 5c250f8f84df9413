//! The fourteen agents of the offline brain against the local Shopify contract server (every
//! query checked against Shopify's published schema): the right intent and the right facts,
//! in English, Hinglish and with order numbers spoken as words; verification on every path.

use super::OfflineBrain;
use crate::agent::brain::{Answer, Brain};
use crate::agent::conversation::Conversation;
use crate::agent::intent::Intent;
use crate::agent::tools::{TaskKind, ToolCall, Toolbox};
use crate::integrations::shopify::local::{ALL_SCOPES, LocalShopify, LocalShopifyOptions, Schema};
use crate::integrations::shopify::{ShopifyClient, ShopifyOrigin};
use crate::platform::egress::EgressSettings;
use crate::tenancy::profile::{Policies, StoreProfile, SupportHours};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, OnceLock};

const TOKEN: &str = "shpat_agent_tests";
/// Monday 23 Nov 2026, 11:30 in Kolkata: the store's people are in.
const OPEN: &str = "2026-11-23T06:00:00Z";
/// Sunday 22 Nov 2026, 11:30 in Kolkata: closed.
const CLOSED: &str = "2026-11-22T06:00:00Z";
const RAHUL: &str = "+919812345678";
const PRIYA: &str = "+919876543210";

fn schema() -> Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/specs/shopify-admin-2025-01.json.gz"
            );
            Arc::new(Schema::load(std::path::Path::new(path)).expect("Shopify's schema"))
        })
        .clone()
}

pub(crate) fn profile() -> StoreProfile {
    StoreProfile {
        policies: Policies {
            shipping: "Free shipping over ₹999; delivery in 3–5 days.".into(),
            returns: "Returns within 7 days of delivery: request a pickup from your order page."
                .into(),
            refunds: "Refunds reach your account in 5–7 working days.".into(),
            cod: "Cash on delivery is available on orders up to ₹5,000.".into(),
            offers: "FESTIVE10 gives 10% off orders above ₹1,999.".into(),
        },
        support_hours: SupportHours {
            timezone: "Asia/Kolkata".into(),
            days: ["mon", "tue", "wed", "thu", "fri", "sat"]
                .map(String::from)
                .to_vec(),
            open: "10:00".into(),
            close: "19:00".into(),
        },
        escalation_number: "+919800000000".into(),
        bot_name: "Meera".into(),
        greeting: "Namaste! I'm Meera, Kesar's AI assistant. This call is recorded.".into(),
        send_all_to_human: false,
        redact_transcripts: true,
    }
}

/// A conversation with the offline brain over the local store.
pub(crate) struct Chat {
    pub store: LocalShopify,
    pub client: ShopifyClient,
    pub conv: Conversation,
    pub profile: StoreProfile,
    pub now: DateTime<Utc>,
    pub calls: Vec<ToolCall>,
    pub tasks: Vec<crate::agent::tools::TaskRequest>,
}

impl Chat {
    /// A text conversation (the number is not caller ID).
    pub async fn text(caller: Option<&str>) -> Chat {
        Chat::start(caller, false).await
    }

    /// A phone call whose caller ID is `caller`.
    pub async fn call(caller: &str) -> Chat {
        Chat::start(Some(caller), true).await
    }

    async fn start(caller: Option<&str>, trusted: bool) -> Chat {
        let store = LocalShopify::start(LocalShopifyOptions {
            token: TOKEN.into(),
            scopes: ALL_SCOPES.map(String::from).to_vec(),
            schema: Some(schema()),
            today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        })
        .await
        .unwrap();
        let egress = EgressSettings::loopback();
        let origin = ShopifyOrigin::new("kesar.myshopify.com", Some(&store.base), &egress).unwrap();
        let client = ShopifyClient::new(
            reqwest::Client::new(),
            egress,
            origin,
            TOKEN.to_string().into(),
            "2026-10",
        );
        Chat {
            store,
            client,
            conv: Conversation::new(caller.map(String::from), trusted),
            profile: profile(),
            now: OPEN.parse().unwrap(),
            calls: Vec::new(),
            tasks: Vec::new(),
        }
    }

    /// One turn; its tool calls and tasks are kept in `calls` and `tasks`.
    pub async fn say(&mut self, text: &str) -> Answer {
        let mut tools = Toolbox::new(Some(&self.client), Some(&self.profile), self.now);
        let answer = OfflineBrain
            .answer(text, &mut self.conv, &mut tools)
            .await
            .unwrap();
        self.calls.extend(tools.calls);
        self.tasks.extend(tools.tasks);
        answer
    }
}

/// Says each of `turns` in a new conversation; checks the last answer's agent and facts.
async fn check(mut chat: Chat, turns: &[&str], agent: Intent, facts: &[&str]) -> Chat {
    let mut last = None;
    for said in turns {
        last = Some(chat.say(said).await);
    }
    let answer = last.expect("at least one turn");
    assert_eq!(answer.agent, agent, "{turns:?} → {}", answer.reply);
    assert_eq!(answer.intent, agent, "{turns:?}");
    for fact in facts {
        assert!(
            answer.reply.contains(fact),
            "{turns:?}: '{fact}' missing from: {}",
            answer.reply
        );
    }
    chat
}

#[tokio::test]
async fn greeting_and_small_talk() {
    for said in ["hello", "namaste ji", "hi there, good morning"] {
        check(
            Chat::text(None).await,
            &[said],
            Intent::Greeting,
            &["Meera"],
        )
        .await;
    }
    check(
        Chat::text(None).await,
        &["shukriya"],
        Intent::Greeting,
        &["welcome"],
    )
    .await;
}

#[tokio::test]
async fn order_status_in_every_phrasing() {
    check(
        Chat::call(RAHUL).await,
        &["where is my order 2041"],
        Intent::OrderStatus,
        &["#2041", "Blue Dart", "in transit", "25 Nov"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["mera order kahan hai", "do shunya char ek", "Rahul Verma"],
        Intent::OrderStatus,
        &["#2041", "in transit"],
    )
    .await;
    check(
        Chat::text(None).await,
        &[
            "what is the status of order number two oh four one",
            "my pin code is 560034",
        ],
        Intent::OrderStatus,
        &["#2041", "Blue Dart"],
    )
    .await;
    check(
        Chat::call(PRIYA).await,
        &["order status please, hash 1002"],
        Intent::OrderStatus,
        &["#1002", "Silk Saree", "hasn't shipped"],
    )
    .await;
    check(
        Chat::call(RAHUL).await,
        &["status of #1004"],
        Intent::OrderStatus,
        &["being packed"],
    )
    .await;
    check(
        Chat::call("+919811122233").await,
        &["order status of 1009"],
        Intent::OrderStatus,
        &["cancelled"],
    )
    .await;
    check(
        Chat::call("+919811122233").await,
        &["order status of 1010"],
        Intent::OrderStatus,
        &["on hold"],
    )
    .await;
}

#[tokio::test]
async fn tracking_in_every_phrasing() {
    check(
        Chat::call(RAHUL).await,
        &["what's the tracking number for #2041"],
        Intent::Tracking,
        &["Blue Dart", "81234567890", "25 Nov"],
    )
    .await;
    check(
        Chat::text(None).await,
        &[
            "mera parcel kab aayega",
            "twenty forty one",
            "pin code five six zero zero three four",
        ],
        Intent::Tracking,
        &["81234567890"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["track order two zero four one", "Rahul Verma"],
        Intent::Tracking,
        &["Blue Dart"],
    )
    .await;
    check(
        Chat::call(PRIYA).await,
        &["tracking for 1002"],
        Intent::Tracking,
        &["hasn't shipped yet"],
    )
    .await;
}

#[tokio::test]
async fn products_and_stock_from_the_catalogue() {
    check(
        Chat::text(None).await,
        &["how much is the cotton kurta"],
        Intent::ProductInquiry,
        &["₹999", "Hand-block", "L / Blue"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["silk saree kitne ka hai"],
        Intent::ProductInquiry,
        &["₹2,999 to ₹3,299", "Banarasi"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["tell me the price of the dupatta"],
        Intent::ProductInquiry,
        &["₹899"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["is the cotton kurta available in large"],
        Intent::Stock,
        &["out of stock", "M / Blue: only 4 left"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["kurta medium size milega kya"],
        Intent::Stock,
        &["Yes", "M / Blue"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["juttis in stock?"],
        Intent::Stock,
        &["UK 8: out of stock", "UK 6: only 3 left"],
    )
    .await;
    // Memory: the product asked about stays the subject.
    let chat = check(
        Chat::text(None).await,
        &["how much is the silk saree"],
        Intent::ProductInquiry,
        &["₹2,999"],
    )
    .await;
    check(
        chat,
        &["is green available?"],
        Intent::Stock,
        &["Green is out of stock", "Red"],
    )
    .await;
    // A draft product is not for sale.
    let chat = check(
        Chat::text(None).await,
        &["price of the pashmina shawl"],
        Intent::ProductInquiry,
        &["couldn't find"],
    )
    .await;
    assert!(chat.calls.iter().all(|c| {
        !c.result
            .as_ref()
            .is_some_and(|r| r.to_string().contains("Pashmina"))
    }));
}

#[tokio::test]
async fn cancellation_is_a_request_for_staff_and_only_while_unfulfilled() {
    let chat = check(
        Chat::call(PRIYA).await,
        &["I want to cancel order 1002"],
        Intent::Cancellation,
        &["request to cancel order #1002"],
    )
    .await;
    assert_eq!(chat.tasks.len(), 1);
    assert_eq!(
        (chat.tasks[0].kind, chat.tasks[0].order.as_deref()),
        (TaskKind::Cancellation, Some("#1002"))
    );
    let chat = check(
        Chat::text(None).await,
        &[
            "order cancel karna hai",
            "one double zero two",
            "Priya Sharma",
        ],
        Intent::Cancellation,
        &["#1002"],
    )
    .await;
    assert_eq!(chat.tasks[0].kind, TaskKind::Cancellation);
    let chat = check(
        Chat::call(RAHUL).await,
        &["please cancel two oh four one"],
        Intent::Cancellation,
        &["can't be cancelled"],
    )
    .await;
    assert!(chat.tasks.is_empty());
    check(
        Chat::call("+919811122233").await,
        &["cancel order 1009"],
        Intent::Cancellation,
        &["already cancelled"],
    )
    .await;
}

#[tokio::test]
async fn returns_follow_the_window() {
    check(
        Chat::call(PRIYA).await,
        &["how do I return order 1001"],
        Intent::Return,
        &["within the 7-day return window", "pickup"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["mujhe wapas karna hai", "one zero zero one", "pin 411001"],
        Intent::Return,
        &["#1001", "within"],
    )
    .await;
    check(
        Chat::call(RAHUL).await,
        &["I want to return order one zero zero six"],
        Intent::Return,
        &["past the 7-day return window"],
    )
    .await;
    check(
        Chat::call(RAHUL).await,
        &["exchange for 2041"],
        Intent::Return,
        &["hasn't been delivered yet"],
    )
    .await;
}

#[tokio::test]
async fn refunds_from_the_order() {
    check(
        Chat::call(RAHUL).await,
        &["where is my refund for 1006"],
        Intent::Refund,
        &["refunded in full", "₹1,299 on 17 Nov", "5–7 working days"],
    )
    .await;
    check(
        Chat::text(None).await,
        &[
            "paisa wapas kab milega",
            "one zero zero seven",
            "Anjali Iyer",
        ],
        Intent::Refund,
        &["refunded in part", "₹999"],
    )
    .await;
    check(
        Chat::call(PRIYA).await,
        &["money back for order one double zero one"],
        Intent::Refund,
        &["No refund has been issued"],
    )
    .await;
    check(
        Chat::call("+919811122233").await,
        &["refund for 1009"],
        Intent::Refund,
        &["voided"],
    )
    .await;
}

#[tokio::test]
async fn address_change_is_a_request_while_unfulfilled() {
    let chat = check(
        Chat::call(PRIYA).await,
        &["I need to change my address for order 1002"],
        Intent::AddressChange,
        &["change the delivery address for order #1002"],
    )
    .await;
    assert_eq!(chat.tasks[0].kind, TaskKind::AddressChange);
    check(
        Chat::text(None).await,
        &["pata badalna hai", "1002", "Priya Sharma"],
        Intent::AddressChange,
        &["#1002"],
    )
    .await;
    let chat = check(
        Chat::call(RAHUL).await,
        &["wrong address on two oh four one"],
        Intent::AddressChange,
        &["can't be changed"],
    )
    .await;
    assert!(chat.tasks.is_empty());
}

#[tokio::test]
async fn payment_questions_and_amounts_due() {
    check(
        Chat::text(None).await,
        &["can I pay cash on delivery"],
        Intent::Payment,
        &["up to ₹5,000"],
    )
    .await;
    check(
        Chat::call(PRIYA).await,
        &["how much is due on my order 1002, COD hai"],
        Intent::Payment,
        &["cash on delivery", "₹2,999 is due"],
    )
    .await;
    check(
        Chat::call(RAHUL).await,
        &["payment for order two oh four one"],
        Intent::Payment,
        &["paid in full"],
    )
    .await;
    check(
        Chat::call("+919811122233").await,
        &["amount due on 1010"],
        Intent::Payment,
        &["₹2,099 still to be paid"],
    )
    .await;
}

#[tokio::test]
async fn offers_and_policies_from_the_profile() {
    for said in ["any discount code?", "koi offer hai", "is there a sale on"] {
        check(
            Chat::text(None).await,
            &[said],
            Intent::Discount,
            &["FESTIVE10"],
        )
        .await;
    }
    check(
        Chat::text(None).await,
        &["what is your shipping policy"],
        Intent::Policy,
        &["Free shipping over ₹999"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["what are your working hours"],
        Intent::Policy,
        &["10:00–19:00"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["delivery charge kitna hai"],
        Intent::Policy,
        &["Free shipping"],
    )
    .await;
}

#[tokio::test]
async fn complaints_are_recorded_and_escalated() {
    let mut chat = Chat::call(PRIYA).await;
    let answer = chat.say("the saree arrived damaged, order 1001").await;
    assert_eq!(answer.agent, Intent::Complaint);
    assert!(answer.handoff, "escalated to a person in hours");
    assert_eq!(chat.tasks[0].kind, TaskKind::Complaint);
    let chat = check(
        Chat::text(None).await,
        &["kurta ka colour kharab ho gaya"],
        Intent::Complaint,
        &["recorded your complaint"],
    )
    .await;
    assert_eq!(chat.tasks[0].order, None);
    let mut closed = Chat::text(None).await;
    closed.now = CLOSED.parse().unwrap();
    let answer = closed.say("I want to complain, wrong item delivered").await;
    assert!(!answer.handoff && answer.reply.contains("call you back"));
}

#[tokio::test]
async fn a_person_in_hours_and_a_callback_outside_them() {
    for said in [
        "let me talk to a human",
        "kisi insaan se baat karao",
        "customer care please",
    ] {
        let mut chat = Chat::text(Some(RAHUL)).await;
        let answer = chat.say(said).await;
        assert_eq!(
            (answer.agent, answer.handoff),
            (Intent::Handoff, true),
            "{said}"
        );
        assert!(chat.tasks.is_empty());
    }
    let mut chat = Chat::text(Some(RAHUL)).await;
    chat.now = CLOSED.parse().unwrap();
    let answer = chat.say("I want to speak to someone").await;
    assert_eq!((answer.agent, answer.handoff), (Intent::Handoff, false));
    assert!(answer.reply.contains("call you back") && answer.reply.contains("mon, tue"));
    assert_eq!(chat.tasks[0].kind, TaskKind::Callback);
}

/// Everything an unverified caller could learn from a reply or a tool result.
const SECRETS: &[&str] = &[
    "Blue Dart",
    "81234567890",
    "Verma",
    "Bengaluru",
    "560034",
    "1,798",
    "1798",
    "IN_TRANSIT",
    "in transit",
    "Residency",
];

fn assert_nothing_told(chat: &Chat, reply: &str) {
    for secret in SECRETS {
        assert!(!reply.contains(secret), "reply leaked '{secret}': {reply}");
        for call in &chat.calls {
            let seen = call
                .result
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_default();
            assert!(
                !seen.contains(secret),
                "tool {} leaked '{secret}': {seen}",
                call.name
            );
        }
    }
}

#[tokio::test]
async fn unverified_callers_hear_nothing_about_an_order() {
    // A typed number is not caller ID; a wrong name or PIN proves nothing.
    let mut chat = Chat::text(Some(RAHUL)).await;
    let answer = chat.say("where is order 2041").await;
    assert!(
        answer.reply.contains("name on the order or the PIN code"),
        "{}",
        answer.reply
    );
    assert!(chat.calls.iter().any(|c| c.withheld && c.result.is_none()));
    assert_nothing_told(&chat, &answer.reply);
    let answer = chat.say("Priya Sharma").await;
    assert!(
        answer.reply.contains("doesn't match") && answer.reply.contains("2 attempts left"),
        "{}",
        answer.reply
    );
    let answer = chat.say("pin code 411001").await;
    assert!(answer.reply.contains("1 attempt left"), "{}", answer.reply);
    assert_nothing_told(&chat, &answer.reply);
    // The third wrong proof locks verification for the conversation: even the right one fails.
    let answer = chat.say("my name is Anjali").await;
    assert!(
        answer.handoff && answer.reply.contains("couldn't verify"),
        "{}",
        answer.reply
    );
    let answer = chat.say("Rahul Verma").await;
    assert!(answer.handoff, "{}", answer.reply);
    assert_nothing_told(&chat, &answer.reply);
    assert!(!chat.conv.is_verified());
    // Caller ID of someone else does not open another customer's order.
    let mut chat = Chat::call(PRIYA).await;
    let answer = chat.say("track order 2041").await;
    assert_nothing_told(&chat, &answer.reply);
    // Asking about every agent without verifying tells nothing either.
    for said in [
        "cancel 2041",
        "refund for 2041",
        "return 2041",
        "amount due on 2041",
        "change address of 2041",
    ] {
        let mut chat = Chat::text(None).await;
        let answer = chat.say(said).await;
        assert_nothing_told(&chat, &answer.reply);
        assert!(chat.tasks.is_empty(), "{said}");
    }
}

#[tokio::test]
async fn each_verification_path_opens_the_order() {
    // Caller ID.
    let mut chat = Chat::call(RAHUL).await;
    assert!(chat.say("track 2041").await.reply.contains("81234567890"));
    assert_eq!(
        chat.conv.verified_for("#2041"),
        crate::agent::verification::Verified::CallerId
    );
    // Order number and name, in one turn.
    let mut chat = Chat::text(None).await;
    assert!(
        chat.say("my name is Rahul Verma, track order 2041")
            .await
            .reply
            .contains("81234567890")
    );
    assert_eq!(
        chat.conv.verified_for("#2041"),
        crate::agent::verification::Verified::OrderAndName
    );
    // Order number, then the PIN code.
    let mut chat = Chat::text(None).await;
    chat.say("track order 2041").await;
    assert!(chat.say("560034").await.reply.contains("81234567890"));
    assert_eq!(
        chat.conv.verified_for("#2041"),
        crate::agent::verification::Verified::OrderAndPin
    );
    // Verified for one order is not verified for another.
    let answer = chat.say("and what about order 1006").await;
    assert!(
        answer.reply.contains("name on the order"),
        "{}",
        answer.reply
    );
    // Even verified, no street address is ever told or fetched.
    assert!(chat.calls.iter().all(|c| {
        !c.result
            .as_ref()
            .is_some_and(|r| r.to_string().contains("Residency"))
    }));
}

#[tokio::test]
async fn the_conversation_remembers_across_turns() {
    let mut chat = Chat::text(None).await;
    let first = chat.say("where is my refund").await;
    assert!(first.reply.contains("order number"), "{}", first.reply);
    let second = chat.say("one zero zero six").await;
    assert_eq!(second.agent, Intent::Refund, "{}", second.reply);
    let third = chat.say("Rahul Verma").await;
    assert!(third.reply.contains("refunded in full"), "{}", third.reply);
    // The verified order stays in focus for the next question.
    let fourth = chat.say("and the tracking number?").await;
    assert_eq!(fourth.agent, Intent::Tracking);
    assert!(fourth.reply.contains("2233445566778"), "{}", fourth.reply);
    assert_eq!(chat.conv.turns, 4);
    let lookups = chat.calls.iter().filter(|c| c.name == "find_order").count();
    assert!(lookups >= 2);
}

#[tokio::test]
async fn a_caller_known_by_phone_needs_no_order_number() {
    let mut chat = Chat::call(PRIYA).await;
    let answer = chat.say("where is my order").await;
    assert!(
        answer.reply.contains("#1002"),
        "latest order first: {}",
        answer.reply
    );
    assert!(chat.calls.iter().any(|c| c.name == "caller_orders"));
}

#[tokio::test]
async fn a_revoked_token_hands_off() {
    let mut chat = Chat::call(PRIYA).await;
    chat.store.revoke();
    let answer = chat.say("where is my order 1002").await;
    assert!(
        answer.handoff && answer.reply.contains("can't reach"),
        "{}",
        answer.reply
    );
}

/// Failed proofs kept beyond one conversation, as the database keeps them.
#[derive(Default)]
struct MemoryGuard(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl crate::agent::tools::ProofGuard for MemoryGuard {
    async fn recent_failures(&self, order: &str) -> u32 {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|o| *o == order)
            .count() as u32
    }
    async fn record_failure(&self, order: &str) {
        self.0.lock().unwrap().push(order.to_string());
    }
}

#[tokio::test]
async fn a_new_conversation_does_not_reset_the_limit_on_proofs() {
    let guard = MemoryGuard::default();
    let mut chat = Chat::text(None).await;
    let attempt = async |conv: &mut Conversation, said: &str| {
        let mut tools =
            Toolbox::new(Some(&chat.client), Some(&chat.profile), chat.now).with_guard(&guard);
        OfflineBrain.answer(said, conv, &mut tools).await.unwrap()
    };
    // A name and a wrong PIN in one breath are two failures.
    let mut first = Conversation::default();
    attempt(&mut first, "track order 2041").await;
    attempt(&mut first, "my name is Priya Sharma, pin 411001").await;
    let mut second = Conversation::default();
    attempt(&mut second, "track order 2041").await;
    attempt(&mut second, "Anjali Iyer").await;
    attempt(&mut second, "Imran Khan").await;
    assert_eq!(
        guard.0.lock().unwrap().len(),
        4,
        "a bare 'ok' would not count: only real names and PINs"
    );
    let mut third = Conversation::default();
    attempt(&mut third, "track order 2041").await;
    attempt(&mut third, "Kumar Singh").await;
    // Five failures on the order today: even the right name is refused, in any conversation.
    let mut fourth = Conversation::default();
    attempt(&mut fourth, "track order 2041").await;
    let answer = attempt(&mut fourth, "Rahul Verma").await;
    assert!(
        answer.handoff && answer.reply.contains("couldn't verify"),
        "{}",
        answer.reply
    );
    assert!(!fourth.is_verified());
    chat.conv = fourth;
}

#[tokio::test]
async fn follow_ups_read_what_the_caller_means() {
    check(
        Chat::text(None).await,
        &["I'm looking for the cotton kurta in small, in stock?"],
        Intent::Stock,
        &["S / Red is available"],
    )
    .await;
    let chat = check(
        Chat::text(None).await,
        &["how much is the silk saree"],
        Intent::ProductInquiry,
        &["₹2,999"],
    )
    .await;
    check(
        chat,
        &["how much is the wool sweater"],
        Intent::ProductInquiry,
        &["couldn't find"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["shipping cost and delivery time?"],
        Intent::Policy,
        &["Free shipping"],
    )
    .await;
    check(
        Chat::text(None).await,
        &["what is your return policy"],
        Intent::Policy,
        &["Returns within 7 days"],
    )
    .await;
    check(
        Chat::call("+919811122233").await,
        &["track order 1009"],
        Intent::Tracking,
        &["cancelled"],
    )
    .await;
    let mut chat = Chat::text(None).await;
    chat.say("track order 2041").await;
    let answer = chat.say("Rahul").await;
    assert!(
        answer.reply.contains("doesn't match"),
        "one name word is not the name on the order: {}",
        answer.reply
    );
}
