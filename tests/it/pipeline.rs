//! The pipeline spine end to end, on the embedded default and on PostgreSQL + Redis + s3s-fs:
//! webhooks in every documented variant → durable ingest → call state → recording → charge.

use crate::support::{Backend, TestApp, sid};
use caly_entities::{call, raw_event, recording, stage_run};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

async fn every_payload_variant_lands(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // (1) Passthru GET, the captured shape: call in progress, numbers normalised, digits quoted.
    let s1 = sid(1);
    let r = app
        .passthru_get(&[
            ("CallSid", &s1),
            ("CallFrom", "09876543210"),
            ("CallTo", "8040000000"),
            ("Direction", "incoming"),
            ("Created", "Tue, 16 Feb 2016 15:56:26"),
            ("DialCallDuration", "0"),
            ("StartTime", "2016-02-16 15:56:26"),
            ("EndTime", "1970-01-01 05:30:00"),
            ("CallType", "call-attempt"),
            ("DialWhomNumber", ""),
            ("digits", "\"1\""),
        ])
        .await;
    assert_eq!(r.status(), 200);
    // (2) Passthru form POST after a voicebot with Stream[...] keys: bot answered, completed.
    let s2 = sid(2);
    let rec2 = app.exotel.url("ok", &s2);
    let r = app
        .post_form(
            "passthru",
            &[
                ("CallSid", &s2),
                ("From", "+91 98765 43210"),
                ("CallType", "call-attempt"),
                ("DialCallStatus", "no-answer"),
                ("Stream[StreamSID]", "MZ1"),
                ("Stream[Status]", "completed"),
                ("Stream[Duration]", "95"),
                ("Stream[RecordingUrl]", &rec2),
                ("Stream[DisconnectedBy]", "bot"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    // (3) Passthru GET with the whole stream as one JSON string in `Stream=`.
    let s3 = sid(3);
    let stream = json!({"StreamSID": "MZ3", "Status": "completed", "Duration": "30"}).to_string();
    let r = app
        .passthru_get(&[
            ("CallSid", &s3),
            ("CallType", "completed"),
            ("Stream", &stream),
        ])
        .await;
    assert_eq!(r.status(), 200);
    // (4) The AgentStream JSON POST variant.
    let s4 = sid(4);
    let r = app
        .post_json(
            "passthru",
            &json!({"CallSid": s4, "StreamSid": "MZ4", "StreamUrl": "wss://x", "AccountSid": "acme1",
                    "EventType": "stream-start", "From": "09876543210", "To": "08040000000",
                    "Direction": "incoming"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // (5) StatusCallback JSON with Legs (the spec's example).
    let s5 = sid(5);
    let rec5 = app.exotel.url("ok", &s5);
    let r = app
        .post_json(
            "status",
            &json!({"CallSid": s5, "EventType": "terminal", "Status": "completed",
                "DateCreated": "2024-01-15 14:25:10", "DateUpdated": "2024-01-15 14:30:45",
                "StartTime": "2024-01-15 14:25:12", "EndTime": "2024-01-15 14:30:45",
                "From": "09876543210", "To": "09123456789", "PhoneNumberSid": "08040000000",
                "Direction": "outbound-api", "ConversationDuration": 320, "RecordingUrl": rec5,
                "Legs": [{"OnCallDuration": 335, "Status": "completed", "AnsweredBy": "NA"},
                         {"OnCallDuration": 320, "Status": "completed", "AnsweredBy": "Human"}]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // (6) StatusCallback as form with bracketed Legs and no ConversationDuration.
    let s6 = sid(6);
    let r = app
        .post_form(
            "status",
            &[
                ("CallSid", &s6),
                ("Status", "no-answer"),
                ("Legs[0][OnCallDuration]", "12"),
                ("Legs[0][Status]", "no-answer"),
                ("RecordingUrl", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    app.drain().await;

    let c1 = app.call_by_sid(&s1).await;
    assert_eq!(c1.state, "in_progress");
    assert_eq!(c1.from_number.as_deref(), Some("+919876543210"));
    assert_eq!(c1.to_number.as_deref(), Some("+918040000000"));
    assert_eq!(
        c1.started_at.unwrap().to_rfc3339(),
        "2016-02-16T10:26:26+00:00"
    );
    assert_eq!(c1.billing_status, "not_final");

    let c2 = app.call_by_sid(&s2).await;
    assert_eq!(
        c2.state, "completed",
        "the human leg's no-answer never misses a bot call"
    );
    assert!(c2.bot_answered);
    assert_eq!(c2.duration_secs, Some(95));
    assert_eq!(c2.duration_source.as_deref(), Some("stream_duration"));
    assert_eq!(c2.cost_paise, Some(2 * 3000));

    let c3 = app.call_by_sid(&s3).await;
    assert_eq!(
        (c3.state.as_str(), c3.duration_secs),
        ("completed", Some(30))
    );
    assert_eq!(c3.cost_paise, Some(3000));

    let c4 = app.call_by_sid(&s4).await;
    assert_eq!(c4.from_number.as_deref(), Some("+919876543210"));
    assert_eq!(c4.direction.as_deref(), Some("incoming"));

    let c5 = app.call_by_sid(&s5).await;
    assert_eq!(c5.state, "completed");
    assert_eq!(c5.duration_secs, Some(320));
    assert_eq!(c5.duration_source.as_deref(), Some("conversation_duration"));
    assert_eq!(c5.cost_paise, Some(6 * 3000));
    assert_eq!(
        c5.ended_at.unwrap().to_rfc3339(),
        "2024-01-15T09:00:45+00:00"
    );

    let c6 = app.call_by_sid(&s6).await;
    assert_eq!(c6.state, "missed");
    assert_eq!(c6.duration_source.as_deref(), Some("caller_leg_on_call"));
    assert_eq!(c6.cost_paise, Some(3000));
    assert_eq!(c6.recording_url, None);

    // Recordings of calls 2 and 5 were fetched with Basic auth and stored.
    assert_eq!(app.count::<recording::Entity>().await, 2);
    assert_eq!(app.exotel.hits("ok", &s2), 1);
    app.stop().await;
}

async fn duplicates_make_one_call_one_recording_one_charge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(77);
    let rec = app.exotel.url("ok", &s);
    let body = json!({"CallSid": s, "Status": "completed", "ConversationDuration": 61,
                      "RecordingUrl": rec});
    for _ in 0..3 {
        let r = app.post_json("status", &body).await;
        assert_eq!(r.status(), 200);
    }
    // The same event as a form POST is the same normalised body: a duplicate too.
    let r = app
        .post_form(
            "status",
            &[
                ("CallSid", &s),
                ("Status", "completed"),
                ("ConversationDuration", "61"),
                ("RecordingUrl", &rec),
            ],
        )
        .await;
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["duplicate"], true);
    app.drain().await;
    // A replay of every stage changes nothing either.
    let call = app.call_by_sid(&s).await;
    for stage in ["ingest", "recording_upload", "charge"] {
        let (status, _) = app
            .api_post(&format!("/api/v1/calls/{}/stages/{stage}/replay", call.id))
            .await;
        assert_eq!(status, 200, "{stage}");
    }
    app.drain().await;

    assert_eq!(app.count::<call::Entity>().await, 1);
    assert_eq!(
        app.count::<raw_event::Entity>().await,
        4,
        "every delivery is kept"
    );
    let dups = raw_event::Entity::find()
        .filter(raw_event::Column::Duplicate.eq(true))
        .all(&app.app.db)
        .await
        .unwrap();
    assert_eq!(dups.len(), 3);
    assert_eq!(app.count::<recording::Entity>().await, 1);
    assert_eq!(app.exotel.hits("ok", &s), 1, "one fetch, one object");
    assert_eq!(app.charge_count().await, 1);
    let (_, charges) = app.api_get("/api/v1/charges").await;
    assert_eq!(charges["balance_paise"], 6000);
    assert_eq!(charges["charges"]["total"], 1);
    app.stop().await;
}

async fn recording_that_404s_twice_then_succeeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(404);
    let rec = app.exotel.url("flaky", &s);
    app.post_json("status", &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": rec}))
        .await;
    app.drain().await;
    let call = app.call_by_sid(&s).await;
    let run = stage_run::Entity::find()
        .filter(stage_run::Column::CallId.eq(call.id))
        .filter(stage_run::Column::Stage.eq("recording_upload"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "succeeded");
    // The two 404s were "not published yet" polls, not failed attempts.
    assert_eq!((run.attempts, run.polls), (1, 2));
    assert!(run.last_error.unwrap().contains("404"));
    assert_eq!(app.exotel.hits("flaky", &s), 3);
    assert_eq!(app.count::<recording::Entity>().await, 1);
    app.stop().await;
}

async fn failing_recording_is_visible_and_replay_fixes_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(500);
    let rec = app.exotel.url("broken", &s);
    app.post_json("status", &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": rec}))
        .await;
    app.drain().await;
    let (status, failed) = app.api_get("/api/v1/stage-runs/failed").await;
    assert_eq!(status, 200);
    assert_eq!(failed["total"], 1);
    let run = &failed["items"][0];
    assert_eq!(run["stage"], "recording_upload");
    assert_eq!(run["attempts"], 3, "max attempts in tests");
    // The tenant sees a stable code and a sentence; the internal text stays with operators.
    assert_eq!(run["error"]["code"], "exotel_unavailable");
    assert!(run["error"]["message"].as_str().unwrap().contains("Exotel"));
    assert!(run.get("last_error").is_none(), "{run}");
    let internal = stage_run::Entity::find_by_id(run["id"].as_i64().unwrap())
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(internal.last_error.unwrap().contains("500"));
    let call = app.call_by_sid(&s).await;
    let (_, detail) = app.api_get(&format!("/api/v1/calls/{}", call.id)).await;
    let stages: Vec<&str> = detail["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(stages.contains(&"failed"));
    // The charge does not wait for the recording.
    assert_eq!(detail["charge"]["amount_paise"], 3000);

    app.exotel.heal();
    let (status, replayed) = app
        .api_post(&format!(
            "/api/v1/calls/{}/stages/recording_upload/replay",
            call.id
        ))
        .await;
    assert_eq!(status, 200, "{replayed}");
    app.drain().await;
    assert_eq!(app.count::<recording::Entity>().await, 1);
    let (_, failed) = app.api_get("/api/v1/stage-runs/failed").await;
    assert_eq!(failed["total"], 0);
    // Unknown stage names are a clear 400.
    let (status, body) = app
        .api_post(&format!(
            "/api/v1/calls/{}/stages/transcode/replay",
            call.id
        ))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "unknown_stage");
    app.stop().await;
}

async fn recording_on_a_host_that_is_not_allowed_fails_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(403);
    // Same server, but addressed as `localhost`, which is not on the allow-list.
    let rec = app.exotel.url("ok", &s).replace("127.0.0.1", "localhost");
    app.post_json("status", &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": rec}))
        .await;
    app.drain().await;
    let (_, failed) = app.api_get("/api/v1/stage-runs/failed").await;
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["items"][0]["attempts"], 1, "permanent: no retries");
    assert_eq!(failed["items"][0]["error"]["code"], "address_refused");
    let internal = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq("recording_upload"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(internal.last_error.unwrap().contains("not allowed"));
    assert_eq!(app.exotel.hits("ok", &s), 0, "nothing was fetched");
    assert_eq!(app.count::<recording::Entity>().await, 0);
    app.stop().await;
}

async fn bad_requests_get_clear_4xx_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let good = app.hook_url("passthru");
    let wrong_secret = good.replace(&app.tenant.webhook_secret, "not-the-secret");
    let unknown_tenant = good.replace(
        &format!("/exotel/{}/", app.tenant.tenant.id),
        "/exotel/999999/",
    );
    let body = r#"{"CallSid":"abc"}"#;
    let a = app.post_raw(&wrong_secret, "application/json", body).await;
    let b = app
        .post_raw(&unknown_tenant, "application/json", body)
        .await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (404, 404));
    let without_request_id = |mut body: Value| {
        body["error"]
            .as_object_mut()
            .unwrap()
            .remove("request_id")
            .expect("every error names its request");
        body
    };
    assert_eq!(
        without_request_id(a.json().await.unwrap()),
        without_request_id(b.json().await.unwrap()),
        "no detail either way"
    );

    for (content_type, body, code) in [
        ("application/json", "{not json", "malformed_body"),
        ("application/json", "[1,2]", "malformed_body"),
        (
            "application/json",
            r#"{"Status":"completed"}"#,
            "missing_call_sid",
        ),
        (
            "application/x-www-form-urlencoded",
            "Status=completed",
            "missing_call_sid",
        ),
        ("application/x-www-form-urlencoded", "", "missing_call_sid"),
        (
            "application/json",
            r#"{"CallSid":"a b;drop"}"#,
            "invalid_call_sid",
        ),
        (
            "application/json",
            r#"{"CallSid":"x","Stream":"{oops"}"#,
            "malformed_body",
        ),
    ] {
        let r = app.post_raw(&good, content_type, body).await;
        assert_eq!(r.status(), 400, "{body}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["error"]["code"], code, "{body}");
        assert!(answer["error"]["message"].as_str().unwrap().len() > 10);
    }
    assert_eq!(app.count::<raw_event::Entity>().await, 0);
    assert_eq!(app.count::<stage_run::Entity>().await, 0);
    assert_eq!(app.count::<call::Entity>().await, 0);

    // The REST API: no key, bad key, bad filters.
    let (status, _) = app.api_get_as("wrong", "/api/v1/calls").await;
    assert_eq!(status, 401);
    let (status, body) = app.api_get("/api/v1/calls?state=flying").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_state"))
    );
    let (status, body) = app.api_get("/api/v1/calls?from=21-11-2026").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_date"))
    );
    let (status, body) = app.api_get("/api/v1/calls?page=minus").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, _) = app.api_get("/api/v1/calls/abc").await;
    assert_eq!(status, 404);
    for (query, code) in [
        ("page=18446744073709551615&per_page=1", "invalid_page"),
        ("page=0", "invalid_page"),
        ("from=-262143-01-01", "invalid_date"),
        ("to=+99999-01-01", "invalid_date"),
    ] {
        let (status, body) = app.api_get(&format!("/api/v1/calls?{query}")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some(code)),
            "{query}"
        );
    }
    // Absurd values in an accepted webhook are stored raw, not trusted.
    let s = sid(31337);
    let r = app
        .post_json(
            "status",
            &json!({"CallSid": s, "Status": "completed", "ConversationDuration": "1e30",
                    "StartTime": "-5000-01-01 00:00:00"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.drain().await;
    let odd = app.call_by_sid(&s).await;
    assert_eq!((odd.duration_secs, odd.started_at), (None, None));
    assert_eq!(odd.billing_status, "awaiting_duration");
    app.stop().await;
}

async fn billing_edge_cases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (0, 0),
        (1, 3000),
        (59, 3000),
        (60, 3000),
        (61, 6000),
        (3600, 180_000),
    ];
    for (i, (secs, _)) in cases.iter().enumerate() {
        let s = sid(1000 + i as u32);
        app.post_json(
            "status",
            &json!({"CallSid": s, "Status": "completed", "ConversationDuration": secs}),
        )
        .await;
    }
    // Final, but no duration anywhere: stays visible and pending.
    let waiting = sid(2000);
    app.post_json(
        "status",
        &json!({"CallSid": waiting, "Status": "completed"}),
    )
    .await;
    app.drain().await;
    for (i, (secs, paise)) in cases.iter().enumerate() {
        let call = app.call_by_sid(&sid(1000 + i as u32)).await;
        assert_eq!(call.cost_paise, Some(*paise), "{secs}s");
        assert_eq!(call.billing_status, "charged");
    }
    let call = app.call_by_sid(&waiting).await;
    assert_eq!(call.billing_status, "awaiting_duration");
    assert_eq!(call.cost_paise, None);
    assert_eq!(app.charge_count().await, cases.len() as u64);
    // The duration arrives later (e.g. a Passthru at the end of the flow): charged once.
    app.passthru_get(&[
        ("CallSid", &waiting),
        ("CallType", "completed"),
        ("DialCallDuration", "125"),
    ])
    .await;
    app.drain().await;
    let call = app.call_by_sid(&waiting).await;
    assert_eq!(
        (call.billing_status.as_str(), call.cost_paise),
        ("charged", Some(9000))
    );
    let total: i64 = cases.iter().map(|c| c.1).sum::<i64>() + 9000;
    let (_, charges) = app.api_get("/api/v1/charges?per_page=2").await;
    assert_eq!(charges["balance_paise"], total);
    assert_eq!(charges["charges"]["total"], 7);
    assert_eq!(charges["charges"]["items"].as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn rates_are_per_tenant_and_have_history(backend: Backend) {
    let app = TestApp::spawn_with(backend, 2500).await;
    let at =
        |d: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, d, 0, 0, 0).unwrap();
    caly_core::tenancy::add_rate(
        &app.app.db,
        caly_core::TenantId(app.tenant.tenant.id),
        4000,
        at(15),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    for (n, start) in [(1u32, "2026-11-10 12:00:00"), (2, "2026-11-20 12:00:00")] {
        app.post_json(
            "status",
            &json!({"CallSid": sid(n), "Status": "completed", "StartTime": start, "ConversationDuration": 90}),
        )
        .await;
    }
    app.drain().await;
    let before = app.call_by_sid(&sid(1)).await;
    let after = app.call_by_sid(&sid(2)).await;
    assert_eq!(
        before.cost_paise,
        Some(2 * 2500),
        "old rate before the change"
    );
    assert_eq!(
        after.cost_paise,
        Some(2 * 4000),
        "new rate after the change"
    );
    app.stop().await;
}

async fn signed_recording_links_work_then_expire_or_break(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(808);
    let rec = app.exotel.url("ok", &s);
    app.post_json("status", &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": rec}))
        .await;
    app.drain().await;
    let call = app.call_by_sid(&s).await;
    let (status, link) = app
        .api_get(&format!("/api/v1/calls/{}/recording", call.id))
        .await;
    assert_eq!(status, 200, "{link}");
    let url = link["url"].as_str().unwrap().to_string();
    let fetched = app.client.get(&url).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.bytes().await.unwrap().as_ref(),
        crate::support::exotel::RECORDING_BYTES
    );

    // Tampered: the signature no longer matches.
    // Both link kinds end with their signature; flip its last character.
    let signature = url.rsplit_once('=').unwrap().1;
    assert!(url.contains("sig=") || url.contains("X-Amz-Signature="));
    assert!(url.ends_with(signature) && signature.len() > 20);
    let last = if url.ends_with('a') { 'b' } else { 'a' };
    let tampered = format!("{}{last}", &url[..url.len() - 1]);
    assert_eq!(
        app.client.get(&tampered).send().await.unwrap().status(),
        403
    );
    // Expired: a link issued an hour ago with a five-minute lifetime.
    let recording = caly_core::calls::find_recording(
        &app.app.db,
        caly_core::TenantId(app.tenant.tenant.id),
        caly_core::CallId(call.id),
    )
    .await
    .unwrap();
    let old = app
        .app
        .store
        .signed_url(
            &recording.object_key,
            &recording.content_type,
            std::time::Duration::from_secs(300),
            chrono::Utc::now() - chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(app.client.get(&old).send().await.unwrap().status(), 403);
    // Another tenant cannot get a link for this call.
    let other = app.other_tenant().await;
    let (status, _) = app
        .api_get_as(
            &other.api_key,
            &format!("/api/v1/calls/{}/recording", call.id),
        )
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

async fn tenants_are_walls_and_lists_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (n, status) in [(1, "completed"), (2, "busy"), (3, "completed")] {
        app.post_json(
            "status",
            &json!({"CallSid": sid(n), "Status": status, "ConversationDuration": 10}),
        )
        .await;
    }
    app.drain().await;
    let (_, page) = app
        .api_get("/api/v1/calls?state=completed&per_page=1")
        .await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let today = chrono::Utc::now()
        .with_timezone(&caly_core::platform::time::ist())
        .date_naive();
    let (_, page) = app
        .api_get(&format!("/api/v1/calls?from={today}&to={today}"))
        .await;
    assert_eq!(page["total"], 3);
    let (_, page) = app.api_get("/api/v1/calls?to=2020-01-01").await;
    assert_eq!(page["total"], 0);

    let other = app.other_tenant().await;
    let (_, theirs) = app.api_get_as(&other.api_key, "/api/v1/calls").await;
    assert_eq!(theirs["total"], 0);
    let mine = app.call_by_sid(&sid(1)).await;
    let (status, _) = app
        .api_get_as(&other.api_key, &format!("/api/v1/calls/{}", mine.id))
        .await;
    assert_eq!(status, 404);
    let (status, detail) = app.api_get(&format!("/api/v1/calls/{}", mine.id)).await;
    assert_eq!(status, 200);
    assert_eq!(detail["raw_events"].as_array().unwrap().len(), 1);
    assert!(detail["call"].get("exotel_key_enc").is_none());
    // The other tenant's secret does not open this tenant's webhook.
    let crossed = app
        .hook_url("status")
        .replace(&app.tenant.webhook_secret, &other.webhook_secret);
    let r = app
        .post_raw(&crossed, "application/json", r#"{"CallSid":"x"}"#)
        .await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}

async fn rotated_secret_keeps_the_old_one_for_the_grace_period(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let old_url = app.hook_url("status");
    let id = app.tenant.tenant.id;
    let now = chrono::Utc::now();
    let new_secret = caly_core::tenancy::rotate_webhook_secret(
        &app.app.db,
        &app.app.key,
        caly_core::TenantId(id),
        std::time::Duration::from_secs(3600),
        now,
    )
    .await
    .unwrap();
    let new_url = old_url.replace(&app.tenant.webhook_secret, new_secret.expose_secret());
    for url in [&old_url, &new_url] {
        let r = app
            .post_raw(url, "application/json", r#"{"CallSid":"r1"}"#)
            .await;
        assert_eq!(r.status(), 200, "{url}");
    }
    // Rotating again with no grace retires the previous secret at once.
    let newest = caly_core::tenancy::rotate_webhook_secret(
        &app.app.db,
        &app.app.key,
        caly_core::TenantId(id),
        std::time::Duration::ZERO,
        now - chrono::Duration::seconds(5),
    )
    .await
    .unwrap();
    let r = app
        .post_raw(&new_url, "application/json", r#"{"CallSid":"r2"}"#)
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .post_raw(&old_url, "application/json", r#"{"CallSid":"r2"}"#)
        .await;
    assert_eq!(r.status(), 404);
    let newest_url = old_url.replace(&app.tenant.webhook_secret, newest.expose_secret());
    let r = app
        .post_raw(&newest_url, "application/json", r#"{"CallSid":"r2"}"#)
        .await;
    assert_eq!(r.status(), 200);
    app.stop().await;
}

async fn queue_depth_stays_bounded_and_the_database_holds_the_backlog(backend: Backend) {
    let mut app = TestApp::spawn_opts(
        backend,
        crate::support::Options {
            queue_depth_bound: 6,
            workers: false,
            ..crate::support::Options::default()
        },
    )
    .await;
    for n in 0..12 {
        let r = app
            .post_json("status", &json!({"CallSid": sid(9000 + n), "Status": "completed", "ConversationDuration": 60}))
            .await;
        assert_eq!(r.status(), 200, "accepted while no worker runs");
    }
    let depth = app
        .app
        .queue
        .depth(&caly_core::pipeline::stages::ingest::NAME)
        .await
        .unwrap();
    assert_eq!(
        depth, 3,
        "pushers fill half the bound; the rest waits in the database"
    );
    caly_core::pipeline::dispatch::dispatch_due(&app.app, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        app.app
            .queue
            .depth(&caly_core::pipeline::stages::ingest::NAME)
            .await
            .unwrap(),
        3
    );
    let pending = stage_run::Entity::find()
        .filter(stage_run::Column::Status.eq("pending"))
        .all(&app.app.db)
        .await
        .unwrap();
    assert_eq!(pending.len(), 12);
    app.start_workers();
    app.drain().await;
    assert_eq!(app.count::<call::Entity>().await, 12);
    assert_eq!(app.charge_count().await, 12);
    assert!(
        app.app
            .queue
            .depth(&caly_core::pipeline::stages::ingest::NAME)
            .await
            .unwrap()
            <= 6
    );
    app.stop().await;
}

async fn a_duration_that_lands_mid_charge_is_still_charged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = sid(4242);
    app.post_json("status", &json!({"CallSid": s, "Status": "completed"}))
        .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(c.billing_status, "awaiting_duration");
    // The race's outcome: the duration is stored, but the charge run already finished.
    app.store_duration(c.id, 61, "conversation_duration").await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(6000))
    );
    app.stop().await;
}

async fn a_run_whose_worker_keeps_dying_fails_after_max_attempts(backend: Backend) {
    let app = TestApp::spawn_opts(
        backend,
        crate::support::Options {
            workers: false,
            ..crate::support::Options::default()
        },
    )
    .await;
    app.post_json(
        "status",
        &json!({"CallSid": sid(666), "Status": "completed", "ConversationDuration": 5}),
    )
    .await;
    let run = stage_run::Entity::find()
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let lease = std::time::Duration::ZERO;
    let start = chrono::Utc::now();
    for attempt in 1..=3 {
        // A worker claims it and dies (its lease lapses at once).
        let t = start + chrono::Duration::seconds(10 * attempt as i64);
        let claimed =
            caly_core::pipeline::runs::claim(&app.app.db, caly_core::StageRunId(run.id), lease, t)
                .await
                .unwrap();
        assert_eq!(claimed.unwrap().attempts, attempt);
        let later = t + chrono::Duration::seconds(1);
        caly_core::pipeline::runs::recover_orphans(
            &app.app.db,
            &caly_core::pipeline::runs::AttemptLimits::uniform(3),
            later,
        )
        .await
        .unwrap();
    }
    let run = stage_run::Entity::find_by_id(run.id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "failed");
    assert!(run.last_error.unwrap().contains("every attempt"));
    app.stop().await;
}

async fn a_better_duration_arriving_during_the_settle_window_is_billed(backend: Backend) {
    let app = TestApp::spawn_opts(
        backend,
        crate::support::Options {
            charge_settle: std::time::Duration::from_secs(1),
            ..crate::support::Options::default()
        },
    )
    .await;
    let s = sid(7070);
    // The flow's last Passthru carries only the dialled leg's duration...
    app.passthru_get(&[
        ("CallSid", &s),
        ("CallType", "completed"),
        ("DialCallDuration", "10"),
    ])
    .await;
    // ...and the StatusCallback's ConversationDuration follows.
    app.post_json(
        "status",
        &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 125}),
    )
    .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(c.duration_source.as_deref(), Some("conversation_duration"));
    assert_eq!(
        c.cost_paise,
        Some(3 * 3000),
        "billed on the better duration, once"
    );
    assert_eq!(app.charge_count().await, 1);
    app.stop().await;
}

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["queue"], "ok");
    assert_eq!(body["object_store"], "ok");
    app.stop().await;
}

both_backends!(
    every_payload_variant_lands,
    duplicates_make_one_call_one_recording_one_charge,
    recording_that_404s_twice_then_succeeds,
    failing_recording_is_visible_and_replay_fixes_it,
    recording_on_a_host_that_is_not_allowed_fails_at_once,
    bad_requests_get_clear_4xx_and_change_nothing,
    billing_edge_cases,
    rates_are_per_tenant_and_have_history,
    signed_recording_links_work_then_expire_or_break,
    tenants_are_walls_and_lists_filter,
    rotated_secret_keeps_the_old_one_for_the_grace_period,
    health_and_readiness,
    queue_depth_stays_bounded_and_the_database_holds_the_backlog,
    a_duration_that_lands_mid_charge_is_still_charged,
    a_run_whose_worker_keeps_dying_fails_after_max_attempts,
    a_better_duration_arriving_during_the_settle_window_is_billed,
);
