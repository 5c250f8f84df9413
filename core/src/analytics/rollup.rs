//! The rollup arithmetic, with no database: the facts of one IST day's calls, turns and charges
//! in, the rows of that day's rollups out. Both backends feed it the same facts, so both store
//! the same numbers.

use caly_entities::status::CallState;
use chrono::{DateTime, Timelike, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::platform::time::ist;

/// Rows along the hour of the day (IST): every call, once.
pub const HOUR: &str = "hour";
/// Rows per intent: each call once under every intent its turns had, or under [`NO_INTENT`].
pub const INTENT: &str = "intent";
/// Rows per AI agent: its turns, and the calls it spoke in.
pub const AGENT: &str = "agent";
/// Rows per latency bucket ([`latency_bucket`]): answered turns.
pub const LATENCY: &str = "latency";
/// Rows per number a handoff was dialled to (empty when Exotel did not say).
pub const HANDOFF: &str = "handoff";
/// The intent key of a call whose turns had no intent (no conversation).
pub const NO_INTENT: &str = "";
/// The finest latency bucket (below a second); the median is a bucket's lower edge.
pub const LATENCY_BUCKET_MS: i64 = 10;

/// What a rollup row sums. Which sums a dimension fills:
/// - `hour`, `intent`: every field about calls (`turns` is the calls' turns; the latency and
///   error fields are their answered turns');
/// - `agent`: `calls` and `resolved` (calls it spoke in) and the turn fields (`turns`,
///   `handed_off` turns, `errors`, latency);
/// - `latency`: `latencies`;
/// - `handoff`: `calls`, `duration_secs`, `durations` of the handed-off calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sums {
    /// Calls.
    pub calls: i64,
    /// Calls the AI answered.
    pub answered: i64,
    /// Calls the AI resolved.
    pub resolved: i64,
    /// Calls (for agents: turns) handed to a person.
    pub handed_off: i64,
    /// Calls ending in a callback request.
    pub callbacks: i64,
    /// Missed calls.
    pub missed: i64,
    /// Sum of known durations, seconds.
    pub duration_secs: i64,
    /// Calls with a known duration.
    pub durations: i64,
    /// Minutes billed.
    pub minutes: i64,
    /// Cost, paise.
    pub spend_paise: i64,
    /// Turns.
    pub turns: i64,
    /// Sum of answered turns' latency, ms.
    pub latency_ms: i64,
    /// Answered turns.
    pub latencies: i64,
    /// Turns answered with the fallback line.
    pub errors: i64,
}

impl Sums {
    /// Adds `other` field by field.
    pub fn add(&mut self, other: &Sums) {
        self.calls += other.calls;
        self.answered += other.answered;
        self.resolved += other.resolved;
        self.handed_off += other.handed_off;
        self.callbacks += other.callbacks;
        self.missed += other.missed;
        self.duration_secs += other.duration_secs;
        self.durations += other.durations;
        self.minutes += other.minutes;
        self.spend_paise += other.spend_paise;
        self.turns += other.turns;
        self.latency_ms += other.latency_ms;
        self.latencies += other.latencies;
        self.errors += other.errors;
    }
}

/// What a rollup needs of a call.
#[derive(Debug, Clone)]
pub struct CallFact {
    /// Call id.
    pub id: i64,
    /// When it happened (its IST day and hour).
    pub happened_at: DateTime<Utc>,
    /// Its state.
    pub state: CallState,
    /// Whether the AI answered it.
    pub bot_answered: bool,
    /// Best known duration.
    pub duration_secs: Option<i64>,
    /// Charge plus adjustments.
    pub cost_paise: Option<i64>,
    /// `resolved`, `handed_off`, `callback`.
    pub outcome: Option<String>,
    /// The number a handoff was dialled to.
    pub dialed_number: Option<String>,
}

/// What a rollup needs of a turn.
#[derive(Debug, Clone)]
pub struct TurnFact {
    /// Its call.
    pub call_id: i64,
    /// The caller's intent.
    pub intent: Option<String>,
    /// The agent that answered.
    pub agent: Option<String>,
    /// Whether it asked for a person.
    pub handoff: bool,
    /// Whether the fallback line was said.
    pub error: bool,
    /// When the caller spoke.
    pub created_at: DateTime<Utc>,
    /// When the answer was stored.
    pub answered_at: Option<DateTime<Utc>>,
}

impl TurnFact {
    /// Milliseconds from the caller's words to the stored answer, for answered turns.
    pub fn latency_ms(&self) -> Option<i64> {
        let answered = self.answered_at?;
        Some((answered - self.created_at).num_milliseconds().max(0))
    }
}

/// The bucket a latency falls in (its lower edge, ms): two significant figures, that is 10 ms
/// steps below a second, 100 ms steps below ten seconds, whole seconds above. A median is
/// shown to that precision anyway, and a day then needs about a hundred latency rows, not
/// hundreds.
pub fn latency_bucket(ms: i64) -> i64 {
    let ms = ms.max(0);
    let step = match ms {
        0..1_000 => LATENCY_BUCKET_MS,
        1_000..10_000 => 100,
        _ => 1_000,
    };
    ms / step * step
}

/// The key a latency bucket is stored under: zero-padded, so keys sort as numbers.
pub fn latency_key(bucket: i64) -> String {
    format!("{bucket:09}")
}

/// One rollup row of a day: dimension, key and sums.
pub type RollupRow = (&'static str, String, Sums);

/// One call's own sums: what it adds to its hour and to each of its intents.
fn call_sums(call: &CallFact, turns: &[&TurnFact], minutes: i64) -> Sums {
    let outcome = call.outcome.as_deref();
    let answered: Vec<i64> = turns.iter().filter_map(|t| t.latency_ms()).collect();
    Sums {
        calls: 1,
        answered: i64::from(call.bot_answered),
        resolved: i64::from(outcome == Some("resolved")),
        handed_off: i64::from(outcome == Some("handed_off")),
        callbacks: i64::from(outcome == Some("callback")),
        missed: i64::from(call.state == CallState::Missed),
        duration_secs: call.duration_secs.unwrap_or(0),
        durations: i64::from(call.duration_secs.is_some()),
        minutes,
        spend_paise: call.cost_paise.unwrap_or(0),
        turns: turns.len() as i64,
        latency_ms: answered.iter().sum(),
        latencies: answered.len() as i64,
        errors: turns.iter().filter(|t| t.error).count() as i64,
    }
}

/// Every rollup row of one day, from its calls, their turns and each call's billed minutes
/// (the latest charge or adjustment). Rows come out sorted by dimension and key.
pub fn day_rows(
    calls: &[CallFact],
    turns: &[TurnFact],
    minutes: &HashMap<i64, i64>,
) -> Vec<RollupRow> {
    let mut by_call: HashMap<i64, Vec<&TurnFact>> = HashMap::new();
    for turn in turns {
        by_call.entry(turn.call_id).or_default().push(turn);
    }
    let mut rows: BTreeMap<(&'static str, String), Sums> = BTreeMap::new();
    let mut add = |dimension: &'static str, key: String, sums: &Sums| {
        rows.entry((dimension, key)).or_default().add(sums);
    };
    for call in calls {
        let turns = by_call.get(&call.id).map(Vec::as_slice).unwrap_or_default();
        let own = call_sums(call, turns, minutes.get(&call.id).copied().unwrap_or(0));
        let hour = call.happened_at.with_timezone(&ist()).hour();
        add(HOUR, format!("{hour:02}"), &own);
        let intents: BTreeSet<&str> = turns.iter().filter_map(|t| t.intent.as_deref()).collect();
        if intents.is_empty() {
            add(INTENT, NO_INTENT.to_string(), &own);
        }
        for intent in intents {
            add(INTENT, intent.to_string(), &own);
        }
        if own.handed_off == 1 {
            let handoff = Sums {
                calls: 1,
                duration_secs: own.duration_secs,
                durations: own.durations,
                ..Sums::default()
            };
            add(
                HANDOFF,
                call.dialed_number.clone().unwrap_or_default(),
                &handoff,
            );
        }
        let mut agents: BTreeSet<&str> = BTreeSet::new();
        for turn in turns {
            let latency = turn.latency_ms();
            if let Some(ms) = latency {
                let bucket = Sums {
                    latencies: 1,
                    ..Sums::default()
                };
                add(LATENCY, latency_key(latency_bucket(ms)), &bucket);
            }
            let Some(agent) = turn.agent.as_deref() else {
                continue;
            };
            let first = agents.insert(agent);
            let spoke = Sums {
                calls: i64::from(first),
                resolved: i64::from(first) * own.resolved,
                handed_off: i64::from(turn.handoff),
                turns: 1,
                latency_ms: latency.unwrap_or(0),
                latencies: i64::from(latency.is_some()),
                errors: i64::from(turn.error),
                ..Sums::default()
            };
            add(AGENT, agent.to_string(), &spoke);
        }
    }
    rows.into_iter()
        .map(|((dimension, key), sums)| (dimension, key, sums))
        .collect()
}

/// The lower median of counted buckets: the smallest bucket at or below which half the
/// values lie. `None` when nothing was counted.
pub fn median_bucket(buckets: &[(i64, i64)]) -> Option<i64> {
    let mut sorted: Vec<(i64, i64)> = buckets.iter().copied().filter(|(_, n)| *n > 0).collect();
    sorted.sort_unstable();
    let total: i64 = sorted.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let half = (total + 1) / 2;
    let mut seen = 0;
    for (bucket, n) in sorted {
        seen += n;
        if seen >= half {
            return Some(bucket);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap()
    }

    fn call(id: i64, happened_at: DateTime<Utc>, outcome: Option<&str>) -> CallFact {
        CallFact {
            id,
            happened_at,
            state: CallState::Completed,
            bot_answered: true,
            duration_secs: Some(61),
            cost_paise: Some(6000),
            outcome: outcome.map(str::to_string),
            dialed_number: Some("+919800000001".into()),
        }
    }

    fn turn(call_id: i64, intent: &str, agent: &str, ms: i64) -> TurnFact {
        TurnFact {
            call_id,
            intent: Some(intent.into()),
            agent: Some(agent.into()),
            handoff: false,
            error: false,
            created_at: at(4, 0),
            answered_at: Some(at(4, 0) + chrono::Duration::milliseconds(ms)),
        }
    }

    fn row<'a>(rows: &'a [RollupRow], dimension: &str, key: &str) -> &'a Sums {
        &rows
            .iter()
            .find(|(d, k, _)| *d == dimension && k == key)
            .unwrap_or_else(|| panic!("{dimension}/{key} in {rows:?}"))
            .2
    }

    #[test]
    fn a_call_counts_once_per_hour_once_per_intent_and_per_agent() {
        let calls = [
            call(1, at(4, 10), Some("resolved")),
            call(2, at(18, 40), Some("handed_off")),
            CallFact {
                state: CallState::Missed,
                bot_answered: false,
                duration_secs: None,
                cost_paise: None,
                ..call(3, at(4, 20), None)
            },
        ];
        let turns = [
            turn(1, "order_status", "order_status", 1234),
            turn(1, "order_status", "order_status", 800),
            turn(1, "returns", "returns", 2001),
            TurnFact {
                handoff: true,
                ..turn(2, "complaint", "complaint", 15)
            },
        ];
        let minutes = HashMap::from([(1, 2), (2, 2)]);
        let rows = day_rows(&calls, &turns, &minutes);
        // 04:10 and 04:20 UTC are 09:40 and 09:50 IST; 18:40 UTC is 00:10 IST (next day's hour 0).
        let nine = row(&rows, HOUR, "09");
        assert_eq!(
            (nine.calls, nine.answered, nine.resolved, nine.missed),
            (2, 1, 1, 1)
        );
        assert_eq!(
            (nine.duration_secs, nine.durations, nine.minutes),
            (61, 1, 2)
        );
        assert_eq!((nine.turns, nine.latencies, nine.latency_ms), (3, 3, 4035));
        assert_eq!(row(&rows, HOUR, "00").handed_off, 1);
        assert_eq!(row(&rows, INTENT, "order_status").calls, 1, "once per call");
        assert_eq!(row(&rows, INTENT, "order_status").turns, 3, "all its turns");
        assert_eq!(row(&rows, INTENT, "returns").resolved, 1);
        assert_eq!(row(&rows, INTENT, NO_INTENT).missed, 1);
        let agent = row(&rows, AGENT, "order_status");
        assert_eq!((agent.calls, agent.turns, agent.resolved), (1, 2, 1));
        assert_eq!(row(&rows, AGENT, "complaint").handed_off, 1);
        assert_eq!(row(&rows, HANDOFF, "+919800000001").calls, 1);
        assert_eq!(row(&rows, LATENCY, &latency_key(1200)).latencies, 1);
        assert_eq!(row(&rows, LATENCY, &latency_key(10)).latencies, 1);
        let hours: i64 = rows.iter().filter(|r| r.0 == HOUR).map(|r| r.2.calls).sum();
        assert_eq!(hours, 3);
    }

    #[test]
    fn the_median_is_the_lower_middle_bucket() {
        assert_eq!(median_bucket(&[]), None);
        assert_eq!(median_bucket(&[(500, 0)]), None);
        assert_eq!(median_bucket(&[(500, 1)]), Some(500));
        assert_eq!(median_bucket(&[(900, 1), (100, 1)]), Some(100));
        assert_eq!(median_bucket(&[(100, 1), (900, 2)]), Some(900));
        assert_eq!(median_bucket(&[(100, 2), (200, 1), (900, 2)]), Some(200));
    }

    #[test]
    fn latency_keys_sort_as_numbers() {
        assert!(latency_key(latency_bucket(999)) < latency_key(latency_bucket(1000)));
        assert_eq!(latency_bucket(999), 990);
        assert_eq!(latency_bucket(1239), 1200);
        assert_eq!(latency_bucket(12_345), 12_000);
        assert_eq!(latency_bucket(-5), 0);
    }
}
