//! The numbers: every KPI and breakdown of the dashboard and analytics API checked against an
//! independent count of the raw rows (on both backends), IST day boundaries, empty ranges, a
//! previous period across a month; rollups that stay true while calls change under them; and a
//! 100,000-call export streamed and checked row by row.

use crate::support::{Backend, TestApp, sid};
use caly_core::TenantId;
use caly_core::analytics::seed::{SeedPlan, seed};
use caly_core::analytics::settle;
use caly_core::platform::time::ist;
use caly_entities::status::{CallState, LedgerKind};
use caly_entities::{analytics_rollup, call, ledger_entry, turn};
use chrono::{Datelike, NaiveDate, Timelike, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Every raw row of the tenant, read once.
struct Raw {
    calls: Vec<call::Model>,
    turns: Vec<turn::Model>,
    minutes: HashMap<i64, i64>,
}

async fn raw(t: &TestApp) -> Raw {
    let tenant = t.tenant.tenant.id;
    let calls = call::Entity::find()
        .filter(call::Column::TenantId.eq(tenant))
        .all(&t.app.db)
        .await
        .unwrap();
    let turns = turn::Entity::find()
        .filter(turn::Column::TenantId.eq(tenant))
        .all(&t.app.db)
        .await
        .unwrap();
    let mut minutes = HashMap::new();
    for entry in ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tenant))
        .order_by_asc(ledger_entry::Column::Id)
        .all(&t.app.db)
        .await
        .unwrap()
    {
        if matches!(entry.kind, LedgerKind::Charge | LedgerKind::Adjustment)
            && let Some(call) = entry.call_id
        {
            minutes.insert(call, entry.minutes.unwrap_or(0));
        }
    }
    Raw {
        calls,
        turns,
        minutes,
    }
}

/// A latency to two significant figures, rounded down (whole 10 ms at the least).
fn two_figures(ms: i64) -> i64 {
    let ms = ms.max(0);
    let mut step = 10;
    while ms >= step * 100 {
        step *= 10;
    }
    ms / step * step
}

fn ist_day(call: &call::Model) -> NaiveDate {
    call.happened_at.with_timezone(&ist()).date_naive()
}

fn round1(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!((part as f64 * 1000.0 / whole as f64).round() / 10.0)
    }
}

impl Raw {
    fn in_range(&self, from: NaiveDate, to: NaiveDate) -> Vec<&call::Model> {
        self.calls
            .iter()
            .filter(|c| (from..=to).contains(&ist_day(c)))
            .collect()
    }

    /// The KPIs, counted from the rows with nothing shared with the rollups.
    fn kpis(&self, from: NaiveDate, to: NaiveDate) -> Value {
        let calls = self.in_range(from, to);
        let ids: BTreeSet<i64> = calls.iter().map(|c| c.id).collect();
        let n = |f: &dyn Fn(&call::Model) -> bool| calls.iter().filter(|c| f(c)).count() as i64;
        let answered = n(&|c| c.bot_answered);
        let resolved = n(&|c| c.outcome.as_deref() == Some("resolved"));
        let with_duration: Vec<i64> = calls.iter().filter_map(|c| c.duration_secs).collect();
        let mut latencies: Vec<i64> = self
            .turns
            .iter()
            .filter(|t| ids.contains(&t.call_id))
            .filter_map(|t| {
                Some(two_figures(
                    (t.answered_at? - t.created_at).num_milliseconds(),
                ))
            })
            .collect();
        latencies.sort_unstable();
        let median = if latencies.is_empty() {
            Value::Null
        } else {
            json!(latencies[latencies.len().div_ceil(2) - 1])
        };
        json!({
            "calls": calls.len(),
            "answered_by_ai": answered,
            "resolved_by_ai": resolved,
            "resolved_pct": round1(resolved, answered),
            "handed_off": n(&|c| c.outcome.as_deref() == Some("handed_off")),
            "missed": n(&|c| c.state == CallState::Missed),
            "avg_duration_secs": if with_duration.is_empty() { Value::Null } else {
                json!((with_duration.iter().sum::<i64>() as f64 / with_duration.len() as f64).round() as i64)
            },
            "minutes_billed": ids.iter().map(|id| self.minutes.get(id).copied().unwrap_or(0)).sum::<i64>(),
            "spend_paise": calls.iter().map(|c| c.cost_paise.unwrap_or(0)).sum::<i64>(),
            "median_turn_latency_ms": median,
        })
    }

    fn intents(&self, from: NaiveDate, to: NaiveDate) -> BTreeMap<String, (i64, i64, i64, i64)> {
        let mut by_call: HashMap<i64, Vec<&turn::Model>> = HashMap::new();
        for t in &self.turns {
            by_call.entry(t.call_id).or_default().push(t);
        }
        let mut out: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
        for c in self.in_range(from, to) {
            let turns = by_call.get(&c.id).cloned().unwrap_or_default();
            let mut intents: BTreeSet<String> =
                turns.iter().filter_map(|t| t.intent.clone()).collect();
            if intents.is_empty() {
                intents.insert(String::new());
            }
            for intent in intents {
                let row = out.entry(intent).or_default();
                row.0 += 1;
                row.1 += i64::from(c.outcome.as_deref() == Some("resolved"));
                row.2 += i64::from(c.outcome.as_deref() == Some("handed_off"));
                row.3 += turns.len() as i64;
            }
        }
        out
    }
}

async fn get(t: &TestApp, path: &str) -> Value {
    let (status, body) = t.api_get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// Checks the summary, the trend, the intents and the heatmap of one range against the rows.
async fn check_range(t: &TestApp, raw: &Raw, from: NaiveDate, to: NaiveDate) {
    let q = format!("from={from}&to={to}");
    let summary = get(t, &format!("/api/v1/analytics/summary?{q}")).await;
    assert_eq!(summary["current"], raw.kpis(from, to), "{from}..{to}");
    let prev_to = from.pred_opt().unwrap();
    let prev_from = prev_to - chrono::Duration::days((to - from).num_days());
    assert_eq!(
        summary["previous_range"],
        json!({"from": prev_from, "to": prev_to})
    );
    assert_eq!(
        summary["previous"],
        raw.kpis(prev_from, prev_to),
        "previous of {from}..{to}"
    );

    let daily = get(t, &format!("/api/v1/analytics/daily?{q}")).await;
    let days = daily["days"].as_array().unwrap();
    assert_eq!(
        days.len() as i64,
        (to - from).num_days() + 1,
        "every day, zeroes too"
    );
    for point in days {
        let d = day(point["day"].as_str().unwrap());
        assert_eq!(point["calls"], raw.in_range(d, d).len(), "calls on {d}");
    }

    let intents = get(t, &format!("/api/v1/analytics/intents?{q}")).await;
    let expected = raw.intents(from, to);
    let got: BTreeMap<String, (i64, i64, i64, i64)> = intents["intents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let calls = r["calls"].as_i64().unwrap();
            let turns = (r["avg_turns"].as_f64().unwrap() * calls as f64).round() as i64;
            (
                r["intent"].as_str().unwrap().to_string(),
                (
                    calls,
                    r["resolved_by_ai"].as_i64().unwrap(),
                    r["handed_off"].as_i64().unwrap(),
                    turns,
                ),
            )
        })
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (intent, (calls, resolved, handed, turns)) in &expected {
        let g = got[intent];
        assert_eq!(
            (g.0, g.1, g.2),
            (*calls, *resolved, *handed),
            "intent '{intent}'"
        );
        // avg_turns is rounded to one decimal.
        assert!(
            (g.3 - turns).abs() as f64 <= 0.05 * *calls as f64 + 1.0,
            "turns of '{intent}'"
        );
    }

    let heat = get(t, &format!("/api/v1/analytics/heatmap?{q}")).await;
    let mut cells = vec![vec![0i64; 24]; 7];
    for c in raw.in_range(from, to) {
        let at = c.happened_at.with_timezone(&ist());
        cells[at.weekday().num_days_from_monday() as usize][at.hour() as usize] += 1;
    }
    assert_eq!(heat["cells"], json!(cells), "heatmap {from}..{to}");
}

/// A month or so of seeded calls, plus calls through the pipeline either side of an IST
/// midnight: every KPI and breakdown equals an independent count, for several ranges.
async fn kpis_and_breakdowns_match_an_independent_count(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let tenant = TenantId(t.tenant.tenant.id);
    let plan = SeedPlan {
        tenant,
        calls: 1500,
        days: 70,
        rate_paise_per_min: 3000,
        handoff_numbers: vec!["+919800000101".into()],
        staff: vec![],
        seed: 7,
    };
    seed(&t.app.db, &plan, Utc::now(), |_| {}).await.unwrap();
    // 23:59:59 IST on Friday 20 November and 00:00:00 IST on Saturday the 21st.
    for (n, start) in [(1, "2026-11-20 23:59:59"), (2, "2026-11-21 00:00:00")] {
        let status = json!({"CallSid": sid(9300 + n), "Status": "completed",
            "ConversationDuration": 61, "StartTime": start});
        assert_eq!(t.post_json("status", &status).await.status(), 200);
    }
    t.drain().await;
    let raw = raw(&t).await;
    let today = Utc::now().with_timezone(&ist()).date_naive();
    for (from, to) in [
        (today - chrono::Duration::days(29), today),
        (day("2026-11-01"), day("2026-11-10")),
        (day("2026-11-20"), day("2026-11-21")),
        (day("2026-12-01"), today.max(day("2026-12-01"))),
    ] {
        check_range(&t, &raw, from, to).await;
    }
    // The two midnight calls, each on its own IST day, weekday and hour.
    let boundary = get(
        &t,
        "/api/v1/analytics/heatmap?from=2026-11-20&to=2026-11-21",
    )
    .await;
    let friday_23 = raw
        .in_range(day("2026-11-20"), day("2026-11-20"))
        .iter()
        .filter(|c| c.happened_at.with_timezone(&ist()).hour() == 23)
        .count();
    assert!(friday_23 >= 1);
    assert_eq!(boundary["cells"][4][23], friday_23);

    // An empty range: zeroes, and no ratio, median or average pretending to be zero.
    let empty = get(
        &t,
        "/api/v1/analytics/summary?from=2025-01-01&to=2025-01-31",
    )
    .await;
    assert_eq!(empty["current"]["calls"], 0);
    assert_eq!(empty["current"]["resolved_pct"], Value::Null);
    assert_eq!(empty["current"]["median_turn_latency_ms"], Value::Null);
    assert_eq!(empty["current"]["avg_duration_secs"], Value::Null);
    assert_eq!(
        empty["previous_range"],
        json!({"from": "2024-12-01", "to": "2024-12-31"})
    );
    let none = get(
        &t,
        "/api/v1/analytics/intents?from=2025-01-01&to=2025-01-31",
    )
    .await;
    assert_eq!(none["intents"], json!([]));

    // The agents and the team, against the rows.
    let (from, to) = (today - chrono::Duration::days(29), today);
    let agents = get(&t, &format!("/api/v1/analytics/agents?from={from}&to={to}")).await;
    let ids: BTreeSet<i64> = raw.in_range(from, to).iter().map(|c| c.id).collect();
    let mut turns_by_agent: BTreeMap<String, i64> = BTreeMap::new();
    for turn in raw.turns.iter().filter(|t| ids.contains(&t.call_id)) {
        if let Some(agent) = &turn.agent {
            *turns_by_agent.entry(agent.clone()).or_default() += 1;
        }
    }
    let got: BTreeMap<String, i64> = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap().to_string(),
                a["turns"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, turns_by_agent);
    let people = get(&t, &format!("/api/v1/analytics/people?from={from}&to={to}")).await;
    let handoffs = raw
        .in_range(from, to)
        .iter()
        .filter(|c| {
            c.outcome.as_deref() == Some("handed_off")
                && c.dialed_number.as_deref() == Some("+919800000101")
        })
        .count();
    let row = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phone"] == "+919800000101")
        .cloned()
        .unwrap_or(json!({"handoffs": 0}));
    assert_eq!(row["handoffs"], handoffs, "{people}");

    // CSV of a table: a header and one line per row.
    let csv = t
        .client
        .get(format!(
            "{}/api/v1/analytics/intents?from={from}&to={to}&format=csv",
            t.base
        ))
        .bearer_auth(&t.tenant.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with(
        "intent,calls,resolved_by_ai,handed_off,resolution_pct,handoff_pct,avg_turns\r\n"
    ));
    assert_eq!(text.lines().count(), raw.intents(from, to).len() + 1);

    // Bad ranges are a clear 400.
    for (path, code) in [
        (
            "/api/v1/analytics/summary?from=2026-11-10&to=2026-11-01",
            "invalid_range",
        ),
        (
            "/api/v1/analytics/summary?from=2020-01-01&to=2026-11-01",
            "invalid_range",
        ),
        ("/api/v1/analytics/daily?from=yesterday", "invalid_date"),
        ("/api/v1/analytics/daily?format=xml", "invalid_format"),
        ("/api/v1/calls?weekday=fri&hour=23", "invalid_range"),
        (
            "/api/v1/calls?from=2026-11-20&to=2026-11-20&hour=24",
            "invalid_hour",
        ),
    ] {
        let (status, body) = t.api_get(path).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some(code)),
            "{path}: {body}"
        );
    }
    t.stop().await;
}

/// Every rollup row after incremental settles equals a from-scratch rebuild.
async fn assert_rollups_match_a_recount(t: &TestApp) -> Vec<analytics_rollup::Model> {
    let tenant = TenantId(t.tenant.tenant.id);
    settle::settle(&t.app.db, tenant, Utc::now()).await.unwrap();
    let rows = |db| async move {
        analytics_rollup::Entity::find()
            .filter(analytics_rollup::Column::TenantId.eq(tenant.0))
            .order_by_asc(analytics_rollup::Column::Day)
            .order_by_asc(analytics_rollup::Column::Dimension)
            .order_by_asc(analytics_rollup::Column::Key)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .filter(|r: &analytics_rollup::Model| r.calls + r.turns + r.latencies > 0)
            .map(|r| analytics_rollup::Model { id: 0, ..r })
            .collect::<Vec<_>>()
    };
    let incremental = rows(&t.app.db).await;
    settle::rebuild(&t.app.db, tenant, Utc::now())
        .await
        .unwrap();
    let recounted = rows(&t.app.db).await;
    assert_eq!(incremental, recounted, "the rollups drifted from a recount");
    recounted
}

fn calls_on(rows: &[analytics_rollup::Model], d: &str) -> i64 {
    rows.iter()
        .filter(|r| r.dimension == "hour" && r.day == day(d))
        .map(|r| r.calls)
        .sum()
}

/// A call counted while ringing, then final, then moved to its real day by a late StartTime,
/// then charged again with a better duration, then a stage replayed; a conversation's turns:
/// after each change the rollups equal a recount.
async fn rollups_stay_true_when_calls_change(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let s = sid(9400);
    let today = Utc::now().with_timezone(&ist()).date_naive().to_string();
    // Ringing: counted, not yet final.
    t.passthru_get(&[("CallSid", &s), ("CallFrom", "09812345678")])
        .await;
    t.drain().await;
    let rows = assert_rollups_match_a_recount(&t).await;
    assert_eq!(calls_on(&rows, &today), 1);
    let summary = get(
        &t,
        &format!("/api/v1/analytics/summary?from={today}&to={today}"),
    )
    .await;
    assert_eq!(
        (
            summary["current"]["calls"].as_i64(),
            summary["current"]["spend_paise"].as_i64()
        ),
        (Some(1), Some(0))
    );

    // Final, charged: 190 s is 4 minutes.
    t.passthru_get(&[
        ("CallSid", &s),
        ("CallType", "completed"),
        ("DialCallDuration", "190"),
    ])
    .await;
    t.drain().await;
    assert_rollups_match_a_recount(&t).await;
    let summary = get(
        &t,
        &format!("/api/v1/analytics/summary?from={today}&to={today}"),
    )
    .await;
    assert_eq!(summary["current"]["minutes_billed"], 4);
    assert_eq!(summary["current"]["spend_paise"], 12000);

    // Exotel's StatusCallback: the call happened on 20 November, with 125 s (3 minutes).
    let status = json!({"CallSid": s, "Status": "completed", "ConversationDuration": 125,
        "StartTime": "2026-11-20 10:15:00"});
    t.post_json("status", &status).await;
    t.drain().await;
    let rows = assert_rollups_match_a_recount(&t).await;
    assert_eq!(
        calls_on(&rows, &today),
        0,
        "gone from the day it was first counted on"
    );
    assert_eq!(calls_on(&rows, "2026-11-20"), 1, "on the day it happened");
    let moved = get(
        &t,
        "/api/v1/analytics/summary?from=2026-11-20&to=2026-11-20",
    )
    .await;
    assert_eq!(
        moved["current"]["minutes_billed"], 3,
        "the adjustment's minutes"
    );
    assert_eq!(
        moved["current"]["spend_paise"], 9000,
        "charge plus adjustment"
    );

    // A replayed charge changes nothing; the rollups still equal a recount.
    let call = t.call_by_sid(&s).await;
    let (code, body) = t
        .api_post(&format!("/api/v1/calls/{}/stages/charge/replay", call.id))
        .await;
    assert!(code < 300, "{body}");
    t.drain().await;
    let rows = assert_rollups_match_a_recount(&t).await;
    assert_eq!(calls_on(&rows, "2026-11-20"), 1);
    let again = get(
        &t,
        "/api/v1/analytics/summary?from=2026-11-20&to=2026-11-20",
    )
    .await;
    assert_eq!(again["current"], moved["current"]);

    // A conversation's turns count under their intent as they are answered.
    crate::turns::connect(&t).await;
    let text =
        crate::web_pages::a_cancellation(&t, "+919812345678", "order cancel karna hai, order 1002")
            .await;
    let rows = assert_rollups_match_a_recount(&t).await;
    let cancellation: i64 = rows
        .iter()
        .filter(|r| r.dimension == "intent" && r.key == "cancellation")
        .map(|r| r.calls)
        .sum();
    assert_eq!(cancellation, 1, "call {text}");

    // The scheduler's pass settles a store nobody is looking at, and leaves no note behind.
    t.post_json(
        "status",
        &json!({"CallSid": sid(9401), "Status": "no-answer"}),
    )
    .await;
    t.drain().await;
    let tenant = TenantId(t.tenant.tenant.id);
    assert!(settle::pending(&t.app.db, tenant).await.unwrap());
    let settled = settle::settle_pending(&t.app.db, Utc::now(), 10)
        .await
        .unwrap();
    assert_eq!(settled, 1);
    assert!(!settle::pending(&t.app.db, tenant).await.unwrap());
    assert_rollups_match_a_recount(&t).await;
    t.stop().await;
}

crate::both_backends!(
    kpis_and_breakdowns_match_an_independent_count,
    rollups_stay_true_when_calls_change,
);

/// Parses one CSV line of an export (fields may be quoted).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_100000_calls_streams_and_matches_row_by_row() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let tenant = TenantId(t.tenant.tenant.id);
    let plan = SeedPlan {
        tenant,
        calls: 100_000,
        days: 30,
        rate_paise_per_min: 3000,
        handoff_numbers: vec![],
        staff: vec![],
        seed: 11,
    };
    seed(&t.app.db, &plan, Utc::now(), |_| {}).await.unwrap();
    let today = Utc::now().with_timezone(&ist()).date_naive();
    let from = today - chrono::Duration::days(29);
    let mut response = t
        .client
        .get(format!(
            "{}/api/v1/exports/calls?from={from}&to={today}&format=csv",
            t.base
        ))
        .bearer_auth(&t.tenant.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let expected: Vec<call::Model> = call::Entity::find()
        .filter(call::Column::TenantId.eq(tenant.0))
        .order_by_asc(call::Column::Id)
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(expected.len(), 100_000);
    let mut pending = String::new();
    let mut header: Option<Vec<String>> = None;
    let mut rows = 0usize;
    let mut chunks = 0usize;
    while let Some(chunk) = response.chunk().await.unwrap() {
        chunks += 1;
        pending.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = pending.find("\r\n") {
            let line: String = pending.drain(..end + 2).collect();
            let fields = csv_fields(line.trim_end_matches("\r\n"));
            let Some(columns) = &header else {
                header = Some(fields);
                continue;
            };
            let c = &expected[rows];
            let value =
                |name: &str| fields[columns.iter().position(|h| h == name).unwrap()].clone();
            assert_eq!(value("id"), c.id.to_string());
            assert_eq!(value("call_sid"), c.call_sid);
            assert_eq!(value("state"), c.state.as_str());
            assert_eq!(value("happened_at"), c.happened_at.to_rfc3339());
            assert_eq!(
                value("from_number"),
                c.from_number.clone().unwrap_or_default()
            );
            assert_eq!(
                value("duration_secs"),
                c.duration_secs.map(|d| d.to_string()).unwrap_or_default()
            );
            assert_eq!(value("outcome"), c.outcome.clone().unwrap_or_default());
            assert_eq!(
                value("cost_paise"),
                c.cost_paise.map(|d| d.to_string()).unwrap_or_default()
            );
            rows += 1;
        }
    }
    assert!(pending.is_empty(), "ends on a line break");
    assert_eq!(rows, 100_000, "every call, once");
    assert!(chunks > 10, "arrived in pieces: {chunks}");

    // JSON: one array; charges and turns too.
    for (kind, table_rows) in [
        (
            "charges",
            ledger_entry::Entity::find()
                .filter(ledger_entry::Column::TenantId.eq(tenant.0))
                .all(&t.app.db)
                .await
                .unwrap()
                .len(),
        ),
        (
            "turns",
            turn::Entity::find()
                .filter(turn::Column::TenantId.eq(tenant.0))
                .all(&t.app.db)
                .await
                .unwrap()
                .len(),
        ),
    ] {
        // Charges are written after the call ends: the range runs to tomorrow to hold today's.
        let to = today + chrono::Duration::days(1);
        let (status, body) = t
            .api_get(&format!(
                "/api/v1/exports/{kind}?from={from}&to={to}&format=json"
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body.as_array().map(Vec::len), Some(table_rows), "{kind}");
    }
    let (status, body) = t.api_get("/api/v1/exports/calls?format=pdf").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_format"))
    );
    t.stop().await;
}

/// The same seeded store on SQLite and on PostgreSQL shows the same numbers, table by table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_show_the_same_numbers() {
    let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 3, 12, 0, 0).unwrap();
    let mut answers = Vec::new();
    for backend in [Backend::Embedded, Backend::Production] {
        let t = TestApp::spawn(backend).await;
        let plan = SeedPlan {
            tenant: TenantId(t.tenant.tenant.id),
            calls: 1200,
            days: 45,
            rate_paise_per_min: 3000,
            handoff_numbers: vec!["+919800000101".into(), "+919800000102".into()],
            staff: vec![],
            seed: 21,
        };
        seed(&t.app.db, &plan, now, |_| {}).await.unwrap();
        let mut tables = Vec::new();
        for range in [
            "from=2026-10-20&to=2026-12-03",
            "from=2026-11-01&to=2026-11-07",
        ] {
            for table in [
                "summary",
                "daily",
                "intents",
                "heatmap",
                "agents",
                "agents/daily",
                "people",
            ] {
                let mut body = get(&t, &format!("/api/v1/analytics/{table}?{range}")).await;
                // Ids differ between databases; everything counted must not.
                if let Some(people) = body["people"].as_array_mut() {
                    people.iter_mut().for_each(|p| p["user_id"] = Value::Null);
                }
                tables.push((format!("{table}?{range}"), body));
            }
        }
        answers.push(tables);
        t.stop().await;
    }
    assert!(
        answers[0]
            .iter()
            .any(|(_, body)| body["current"]["calls"].as_i64() > Some(0))
    );
    for ((name, sqlite), (_, postgres)) in answers[0].iter().zip(&answers[1]) {
        assert_eq!(
            sqlite, postgres,
            "{name} differs between SQLite and PostgreSQL"
        );
    }
}
