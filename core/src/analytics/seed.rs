//! A large, realistic tenant for benchmarks and demos, bulk-inserted (the pipeline is not
//! driven): calls spread over past days with a daytime and weekday shape, their turns with
//! intents, agents and latencies, charges at the tenant's rate with some adjustments, handoffs
//! to the team's numbers, and tasks, some closed. Rebuild the tenant's rollups afterwards
//! (`settle::rebuild`), or let the next read settle the change notes the inserts left.

use crate::CoreError;
use crate::billing::rates::billable_minutes;
use caly_entities::status::{BillingStatus, CallState, Channel, LedgerKind};
use caly_entities::{call, ledger_entry, task, tenant, turn};
use caly_jobs::TenantId;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};
use std::collections::HashMap;

/// Calls inserted per statement.
const CHUNK: usize = 1000;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    /// The tenant to fill.
    pub tenant: TenantId,
    /// How many calls.
    pub calls: u64,
    /// Over how many days up to now.
    pub days: u32,
    /// Paise per started minute.
    pub rate_paise_per_min: i64,
    /// Numbers handoffs are dialled to (the team's phones).
    pub handoff_numbers: Vec<String>,
    /// Users who close tasks.
    pub staff: Vec<i64>,
    /// Random seed: the same plan makes the same data.
    pub seed: u64,
}

/// What was seeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Calls.
    pub calls: u64,
    /// Turns.
    pub turns: u64,
    /// Ledger entries.
    pub ledger_entries: u64,
    /// Tasks.
    pub tasks: u64,
}

/// Intents with how often callers raise them (weights) and the task some of them leave.
const INTENTS: [(&str, u32, Option<&str>); 13] = [
    ("order_status", 30, None),
    ("tracking", 16, None),
    ("return", 9, None),
    ("refund", 8, None),
    ("cancellation", 7, Some("cancellation")),
    ("product_inquiry", 7, None),
    ("stock", 4, None),
    ("address_change", 4, Some("address_change")),
    ("payment", 4, None),
    ("discount", 3, None),
    ("policy", 3, None),
    ("complaint", 3, Some("complaint")),
    ("handoff", 2, Some("callback")),
];

/// Calls per IST hour of the day (relative).
const HOURS: [u32; 24] = [
    1, 1, 0, 0, 0, 1, 2, 4, 7, 10, 12, 13, 13, 12, 11, 11, 12, 13, 14, 12, 9, 6, 3, 2,
];

fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut n = rng.random_range(0..total.max(1));
    for (item, weight) in weighted {
        if n < *weight {
            return *item;
        }
        n -= weight;
    }
    weighted[0].0
}

/// A moment in the past `days`, shaped by hour of day and a quieter Sunday.
fn moment(rng: &mut StdRng, now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let hours: Vec<(u32, u32)> = HOURS
        .iter()
        .enumerate()
        .map(|(h, w)| (h as u32, *w))
        .collect();
    loop {
        let day = rng.random_range(0..days.max(1)) as i64;
        let ist_midnight = crate::platform::time::ist_day_start(
            (now - Duration::days(day))
                .with_timezone(&crate::platform::time::ist())
                .date_naive(),
        );
        let hour = pick(rng, &hours) as i64;
        let at = ist_midnight + Duration::seconds(hour * 3600 + rng.random_range(0..3600));
        let sunday = at
            .with_timezone(&crate::platform::time::ist())
            .format("%u")
            .to_string()
            == "7";
        if at <= now && !(sunday && rng.random_bool(0.4)) {
            return at;
        }
    }
}

/// One seeded call before it has an id.
struct Planned {
    row: call::ActiveModel,
    turns: Vec<(String, i64, bool)>,
    seconds: Option<i64>,
    adjusted: bool,
    task: Option<&'static str>,
    happened_at: DateTime<Utc>,
}

fn plan_call(rng: &mut StdRng, plan: &SeedPlan, n: u64, now: DateTime<Utc>) -> Planned {
    let happened_at = moment(rng, now, plan.days);
    let state = pick(
        rng,
        &[
            (CallState::Completed, 88),
            (CallState::Missed, 8),
            (CallState::Busy, 2),
            (CallState::Failed, 2),
        ],
    );
    let completed = state == CallState::Completed;
    let mut turns = Vec::new();
    let mut task = None;
    let mut outcome = None;
    let seconds = completed.then(|| 20 + (rng.random::<f64>().powi(2) * 400.0) as i64);
    if completed {
        let weighted: Vec<((&str, Option<&str>), u32)> =
            INTENTS.iter().map(|(i, w, t)| ((*i, *t), *w)).collect();
        let (intent, leaves) = pick(rng, &weighted);
        let count = rng.random_range(1..=5);
        for k in 0..count {
            let this = if k > 0 && rng.random_bool(0.2) {
                pick(rng, &weighted).0
            } else {
                intent
            };
            let latency = 350 + (rng.random::<f64>().powi(3) * 3000.0) as i64;
            turns.push((this.to_string(), latency, false));
        }
        outcome = Some(pick(
            rng,
            &[
                ("resolved", 68),
                ("handed_off", 18),
                ("callback", 8),
                ("", 6),
            ],
        ))
        .filter(|o| !o.is_empty());
        if intent == "complaint" || intent == "handoff" {
            outcome = Some(if rng.random_bool(0.5) {
                "handed_off"
            } else {
                "callback"
            });
        }
        if outcome == Some("handed_off")
            && let Some(last) = turns.last_mut()
        {
            last.2 = true;
        }
        if leaves.is_some() && rng.random_bool(0.6) {
            task = leaves;
        }
    }
    let dialed = (outcome == Some("handed_off")).then(|| {
        if plan.handoff_numbers.is_empty() || rng.random_bool(0.05) {
            "+918000000000".to_string()
        } else {
            plan.handoff_numbers[rng.random_range(0..plan.handoff_numbers.len())].clone()
        }
    });
    let minutes = seconds.map(billable_minutes);
    let adjusted = completed && rng.random_bool(0.03);
    let cost = minutes
        .map(|m| m * plan.rate_paise_per_min + if adjusted { plan.rate_paise_per_min } else { 0 });
    let caller = format!("+9198{:08}", rng.random_range(0..100_000_000u64));
    let ended = seconds.map(|s| happened_at + Duration::seconds(s + 15));
    let row = call::ActiveModel {
        tenant_id: Set(plan.tenant.0),
        call_sid: Set(format!("seed{}-{n}", plan.seed)),
        channel: Set(Channel::Phone),
        state: Set(state),
        from_number: Set(Some(caller.clone())),
        from_raw: Set(Some(format!("0{}", &caller[3..]))),
        to_number: Set(Some("+918047491899".into())),
        to_raw: Set(Some("08047491899".into())),
        direction: Set(Some("incoming".into())),
        bot_answered: Set(completed),
        duration_secs: Set(seconds.map(|s| if adjusted { s + 60 } else { s })),
        duration_source: Set(seconds.map(|_| "ConversationDuration".to_string())),
        recording_url: Set(None),
        started_at: Set(Some(happened_at)),
        ended_at: Set(ended),
        billing_status: Set(if completed {
            BillingStatus::Charged
        } else {
            BillingStatus::AwaitingDuration
        }),
        cost_paise: Set(cost),
        outcome: Set(outcome.map(str::to_string)),
        outcome_reason: Set(outcome.map(|o| match o {
            "resolved" => "goodbye".to_string(),
            "handed_off" => "caller_asked".to_string(),
            _ => "limit".to_string(),
        })),
        happened_at: Set(happened_at),
        last_event_at: Set(ended.unwrap_or(happened_at)),
        created_at: Set(happened_at),
        updated_at: Set(ended.unwrap_or(happened_at)),
        dialed_number: Set(dialed),
        ..Default::default()
    };
    Planned {
        row,
        turns,
        seconds,
        adjusted,
        task,
        happened_at,
    }
}

/// Bulk-inserts the plan's calls with their turns, charges and tasks. `progress` hears the calls inserted so far.
pub async fn seed<C>(
    db: &C,
    plan: &SeedPlan,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64),
) -> Result<Seeded, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let mut seeded = Seeded::default();
    let mut n = 0;
    while n < plan.calls {
        let size = std::cmp::min(plan.calls - n, CHUNK as u64);
        let planned: Vec<Planned> = (0..size)
            .map(|i| plan_call(&mut rng, plan, n + i, now))
            .collect();
        let txn = db.begin().await?;
        // The ids come back with the rows (by CallSid, whatever order the database returns).
        let ids: HashMap<String, i64> =
            call::Entity::insert_many(planned.iter().map(|p| p.row.clone()))
                .exec_with_returning(&txn)
                .await?
                .into_iter()
                .map(|c| (c.call_sid, c.id))
                .collect();
        let sids: Vec<String> = (n..n + size)
            .map(|i| format!("seed{}-{i}", plan.seed))
            .collect();
        let mut turns = Vec::new();
        let mut entries = Vec::new();
        let mut tasks = Vec::new();
        for (p, sid) in planned.iter().zip(&sids) {
            let call_id = ids[sid];
            for (seq, (intent, latency, handoff)) in p.turns.iter().enumerate() {
                let spoke = p.happened_at + Duration::seconds(8 + seq as i64 * 25);
                turns.push(turn::ActiveModel {
                    tenant_id: Set(plan.tenant.0),
                    call_id: Set(call_id),
                    seq: Set(seq as i32 + 1),
                    status: Set("answered".into()),
                    input: Set(format!("(seeded) about {intent}")),
                    reply: Set(Some(format!("(seeded) answer about {intent}"))),
                    intent: Set(Some(intent.clone())),
                    agent: Set(Some(intent.clone())),
                    confidence: Set(Some(0.9)),
                    verified: Set(seq > 0),
                    handoff: Set(*handoff),
                    tool_calls: Set("[]".into()),
                    latency: Set(format!("{{\"total\":{latency}}}")),
                    error: Set(None),
                    source: Set("voice".into()),
                    reply_parts: Set(Some(1)),
                    created_at: Set(spoke),
                    answered_at: Set(Some(spoke + Duration::milliseconds(*latency))),
                    ..Default::default()
                });
            }
            if let Some(seconds) = p.seconds {
                let minutes = billable_minutes(seconds);
                let charged_at = p.happened_at + Duration::seconds(seconds + 20);
                entries.push(ledger_row(
                    plan,
                    call_id,
                    LedgerKind::Charge,
                    "charge",
                    seconds,
                    minutes,
                    minutes * plan.rate_paise_per_min,
                    charged_at,
                ));
                if p.adjusted {
                    let later = seconds + 60;
                    entries.push(ledger_row(
                        plan,
                        call_id,
                        LedgerKind::Adjustment,
                        "adjustment",
                        later,
                        billable_minutes(later),
                        plan.rate_paise_per_min,
                        charged_at + Duration::minutes(5),
                    ));
                }
            }
            if let Some(kind) = p.task {
                let closed = !plan.staff.is_empty() && rng.random_bool(0.7);
                let created = p.happened_at + Duration::seconds(30);
                let closed_at =
                    closed.then(|| created + Duration::minutes(rng.random_range(10..2880)));
                let staff = |rng: &mut StdRng| {
                    plan.staff
                        .get(rng.random_range(0..plan.staff.len().max(1)))
                        .copied()
                };
                tasks.push((
                    call_id,
                    kind,
                    created,
                    closed_at,
                    closed.then(|| staff(&mut rng)).flatten(),
                    staff(&mut rng),
                ));
            }
        }
        seeded.turns += turns.len() as u64;
        let mut first_turns = HashMap::new();
        for chunk in turns.chunks(CHUNK) {
            for t in turn::Entity::insert_many(chunk.to_vec())
                .exec_with_returning(&txn)
                .await?
            {
                if t.seq == 1 {
                    first_turns.insert(t.call_id, t.id);
                }
            }
        }
        seeded.ledger_entries += entries.len() as u64;
        let owed: i64 = entries
            .iter()
            .map(|e| match &e.amount_paise {
                Set(amount) => *amount,
                _ => 0,
            })
            .sum();
        // The balance is the sum of the ledger: it moves with the entries, in their commit.
        use sea_orm::sea_query::ExprTrait as _;
        tenant::Entity::update_many()
            .col_expr(
                tenant::Column::BalancePaise,
                Expr::col(tenant::Column::BalancePaise).add(owed),
            )
            .filter(tenant::Column::Id.eq(plan.tenant.0))
            .exec(&txn)
            .await?;
        for chunk in entries.chunks(CHUNK) {
            ledger_entry::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        seeded.tasks += tasks.len() as u64;
        insert_tasks(&txn, plan, tasks, &first_turns).await?;
        txn.commit().await?;
        n += size;
        seeded.calls = n;
        progress(n);
    }
    Ok(seeded)
}

/// A seeded task: call, kind, created, closed at, closed by, assignee.
type TaskSeed = (
    i64,
    &'static str,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<i64>,
);

async fn insert_tasks(
    txn: &impl ConnectionTrait,
    plan: &SeedPlan,
    tasks: Vec<TaskSeed>,
    first_turns: &HashMap<i64, i64>,
) -> Result<(), CoreError> {
    if tasks.is_empty() {
        return Ok(());
    }
    let rows: Vec<task::ActiveModel> = tasks
        .into_iter()
        .filter_map(|(call_id, kind, created, closed_at, closed_by, assignee)| {
            Some(task::ActiveModel {
                tenant_id: Set(plan.tenant.0),
                call_id: Set(call_id),
                turn_id: Set(*first_turns.get(&call_id)?),
                kind: Set(kind.to_string()),
                status: Set(if closed_at.is_some() {
                    "closed"
                } else {
                    "open"
                }
                .to_string()),
                order_name: Set(Some(format!("#{}", 1000 + call_id % 9000))),
                caller: Set(None),
                details: Set(format!("(seeded) {kind} request")),
                note: Set(closed_at.map(|_| "(seeded) done".to_string())),
                created_at: Set(created),
                closed_at: Set(closed_at),
                closed_by: Set(closed_by),
                assignee_id: Set(assignee),
                ..Default::default()
            })
        })
        .collect();
    task::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn ledger_row(
    plan: &SeedPlan,
    call_id: i64,
    kind: LedgerKind,
    key: &str,
    seconds: i64,
    minutes: i64,
    amount: i64,
    at: DateTime<Utc>,
) -> ledger_entry::ActiveModel {
    ledger_entry::ActiveModel {
        tenant_id: Set(plan.tenant.0),
        kind: Set(kind),
        entry_key: Set(format!("{key}:{call_id}:seed")),
        call_id: Set(Some(call_id)),
        amount_paise: Set(amount),
        billable_seconds: Set(Some(seconds)),
        minutes: Set(Some(minutes)),
        rate_paise_per_min: Set(Some(plan.rate_paise_per_min)),
        duration_source: Set(Some("ConversationDuration".into())),
        reason: Set(format!("(seeded) {key}: {seconds}s is {minutes} min")),
        created_at: Set(at),
        ..Default::default()
    }
}
