//! Cron jobs as durable stage runs. Each tick of a job becomes one run keyed by the job and the
//! tick (`vacuum_queue:2026-11-22T05:00:00+00:00`), so two schedulers planning the same tick
//! create one run, and a tick is never lost to a restart: after downtime, each job catches up
//! by its own rule.

use caly_core::pipeline::runs::{self, NewRun};
use caly_core::pipeline::stages::vacuum_queue;
use caly_core::{App, CoreError, StageName, StageRunId};
use caly_entities::stage_run;
use chrono::{DateTime, Utc};
use cron::Schedule;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::str::FromStr;

/// What a job does about ticks it missed while no scheduler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Run every missed tick (invoices: each month must be billed).
    EveryMissed,
    /// Run only the latest missed tick (backups, vacuum: one fresh run does it all).
    LatestOnly,
}

/// Most ticks one job catches up in one pass (the rest follow on the next pass).
pub const MAX_CATCH_UP: usize = 1000;

/// A scheduled job: a stage run for the platform on every tick of its schedule.
#[derive(Debug, Clone)]
pub struct CronJob {
    /// The stage each tick runs (its runs are keyed `{stage}:{tick}`).
    pub stage: StageName,
    /// Cron expression (seconds first), in UTC.
    pub schedule: Schedule,
    /// What to do about missed ticks.
    pub catch_up: CatchUp,
}

impl CronJob {
    /// A job running `stage` on `expression`.
    ///
    /// # Panics
    /// When the expression does not parse (jobs are declared in code).
    pub fn new(stage: StageName, expression: &str, catch_up: CatchUp) -> Self {
        CronJob {
            stage,
            schedule: Schedule::from_str(expression).expect("valid cron expression"),
            catch_up,
        }
    }

    /// The latest tick at or before `now`.
    pub fn latest_tick(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let just_after = now + chrono::Duration::seconds(1);
        self.schedule.after(&just_after).next_back()
    }

    /// The ticks to run now, given the last tick that has a run (`None`: never ran, so only
    /// the latest tick; history before Caly ran is not replayed).
    pub fn due_ticks(&self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let Some(latest) = self.latest_tick(now) else {
            return Vec::new();
        };
        match (last, self.catch_up) {
            (Some(last), _) if latest <= last => Vec::new(),
            (Some(last), CatchUp::EveryMissed) => self
                .schedule
                .after(&last)
                .take_while(|tick| *tick <= now)
                .take(MAX_CATCH_UP)
                .collect(),
            (None, _) | (Some(_), CatchUp::LatestOnly) => vec![latest],
        }
    }

    fn key(&self, tick: DateTime<Utc>) -> String {
        format!("{}:{}", self.stage, tick.to_rfc3339())
    }
}

/// The cron jobs Caly runs. Backups, invoices and reports join here.
pub fn cron_jobs() -> Vec<CronJob> {
    vec![CronJob::new(
        vacuum_queue::NAME,
        "0 */5 * * * *",
        CatchUp::LatestOnly,
    )]
}

async fn last_tick(app: &App, stage: &StageName) -> Result<Option<DateTime<Utc>>, CoreError> {
    let last: Option<Option<DateTime<Utc>>> = stage_run::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::max(Expr::col(stage_run::Column::ScheduledFor))),
            "last",
        )
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .into_tuple()
        .one(&app.db)
        .await?;
    Ok(last.flatten())
}

/// Creates the runs of every due tick of `jobs` (each once, however many schedulers plan at
/// the same moment). Returns the new runs, to push.
pub async fn plan(
    app: &App,
    jobs: &[CronJob],
    now: DateTime<Utc>,
) -> Result<Vec<(StageName, StageRunId)>, CoreError> {
    let mut created = Vec::new();
    for job in jobs {
        let last = last_tick(app, &job.stage).await?;
        for tick in job.due_ticks(last, now) {
            let new = NewRun::for_platform(&job.stage, job.key(tick)).at_tick(tick);
            if let Some(id) = runs::insert_if_absent(&app.db, new, false, now).await? {
                created.push((job.stage.clone(), id));
            }
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0).unwrap()
    }

    #[test]
    fn missed_ticks_are_caught_up_by_rule() {
        let hourly = |rule| CronJob::new(StageName::new("t"), "0 0 * * * *", rule);
        let every = hourly(CatchUp::EveryMissed);
        let latest = hourly(CatchUp::LatestOnly);
        // Never ran: only the latest tick.
        assert_eq!(every.due_ticks(None, at(10, 30)), vec![at(10, 0)]);
        // Ran at 7:00, down until 10:30.
        assert_eq!(
            every.due_ticks(Some(at(7, 0)), at(10, 30)),
            vec![at(8, 0), at(9, 0), at(10, 0)]
        );
        assert_eq!(
            latest.due_ticks(Some(at(7, 0)), at(10, 30)),
            vec![at(10, 0)]
        );
        // Up to date.
        assert!(every.due_ticks(Some(at(10, 0)), at(10, 59)).is_empty());
        // A tick exactly now is due.
        assert_eq!(every.due_ticks(Some(at(10, 0)), at(11, 0)), vec![at(11, 0)]);
    }

    #[test]
    fn the_builtin_schedules_fire() {
        for job in cron_jobs() {
            assert!(job.latest_tick(Utc::now()).is_some(), "{}", job.stage);
        }
    }
}
