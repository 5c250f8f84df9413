//! Adding a stage is one module: stages defined only here are registered with the app and run
//! through the real API (replay), the real queues, the real workers and the real runner.

use crate::support::{Backend, Options, TestApp, sid};
use async_trait::async_trait;
use caly_core::pipeline::{
    Failure, Lane, Stage, StageError, StageOutcome, StageRegistry, StageSpec,
};
use caly_core::{App, CallId, StageName};
use caly_entities::{call, stage_run};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ECHO: StageName = StageName::new("echo");
const HANG: StageName = StageName::new("hang");

/// Fails its first attempt, then notes the call it was given.
#[derive(Default, Clone)]
struct Echo {
    seen: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Stage for Echo {
    type Subject = call::Model;

    fn spec(&self) -> StageSpec {
        StageSpec {
            name: ECHO,
            follow_ups: &[],
            timeout: Duration::from_secs(30),
            max_attempts: Some(5),
            lane: Lane::Batch,
            call_key: Some(|call| format!("{call}:echo")),
        }
    }

    async fn run(
        &self,
        _app: &App,
        run: &stage_run::Model,
        call: call::Model,
        _now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        self.seen.lock().unwrap().push(call.call_sid.clone());
        if run.attempts == 1 {
            return Err(StageError::Transient(Failure::Raced("first attempt")));
        }
        Ok(StageOutcome::note(
            Some(CallId(call.id)),
            format!("echoed {}", call.call_sid),
        ))
    }
}

/// Never finishes: the runner must cut it off at its timeout and stop at its attempt limit.
struct Hang;

#[async_trait]
impl Stage for Hang {
    type Subject = call::Model;

    fn spec(&self) -> StageSpec {
        StageSpec {
            name: HANG,
            follow_ups: &[],
            timeout: Duration::from_millis(300),
            max_attempts: Some(2),
            lane: Lane::Batch,
            call_key: Some(|call| format!("{call}:hang")),
        }
    }

    async fn run(
        &self,
        _app: &App,
        _run: &stage_run::Model,
        _call: call::Model,
        _now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(StageOutcome::default())
    }
}

async fn run_of(app: &TestApp, stage: &StageName) -> stage_run::Model {
    stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .one(&app.app.db)
        .await
        .unwrap()
        .expect("the stage ran")
}

async fn a_stage_registered_in_a_test_runs_through_the_real_pipeline(backend: Backend) {
    let echo = Echo::default();
    let stages = StageRegistry::builtin().with(echo.clone()).with(Hang);
    let app = TestApp::spawn_opts(
        backend,
        Options {
            stages: Some(stages),
            ..Options::default()
        },
    )
    .await;
    let s = sid(900);
    let r = app
        .post_json(
            "status",
            &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 30}),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.drain().await;
    let call = app.call_by_sid(&s).await;

    // The API knows the new stage from the registry, and replay creates its run by its key.
    let (status, body) = app
        .api_post(&format!("/api/v1/calls/{}/stages/echo/replay", call.id))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stage"], "echo");
    app.drain().await;
    let run = run_of(&app, &ECHO).await;
    assert_eq!(run.status, "succeeded");
    assert_eq!(run.attempts, 2, "retried once after the transient failure");
    assert_eq!(run.dedupe_key, format!("{}:echo", call.id));
    assert_eq!(run.outcome.as_deref(), Some(format!("echoed {s}").as_str()));
    assert_eq!(*echo.seen.lock().unwrap(), vec![s.clone(), s.clone()]);

    // A hung attempt is cut off at the stage's timeout, and its own attempt limit applies.
    let (status, _) = app
        .api_post(&format!("/api/v1/calls/{}/stages/hang/replay", call.id))
        .await;
    assert_eq!(status, 200);
    app.drain().await;
    let run = run_of(&app, &HANG).await;
    assert_eq!((run.status.as_str(), run.attempts), ("failed", 2));
    assert!(run.last_error.unwrap().contains("timeout"));

    // Unknown names are still refused, with the registered stages named.
    let (status, body) = app
        .api_post(&format!(
            "/api/v1/calls/{}/stages/transcode/replay",
            call.id
        ))
        .await;
    assert_eq!(status, 400);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("echo") && message.contains("hang"),
        "{message}"
    );
    app.stop().await;
}

both_backends!(a_stage_registered_in_a_test_runs_through_the_real_pipeline);
