//! `/calls/{id}`: one call in full — the timeline of its webhooks and stage runs, its recordings
//! in an audio player through signed links, the conversation turn by turn, the post-call
//! transcript by speaker, the tool calls (admins), the charge and its adjustments, and replay
//! buttons (admins).

use super::format::{chip, duration, inr, when, words};
use super::layout::{shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::{RequestMeta, Viewer as AnyRole};
use crate::calls::call_id;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::calls::transcript::{self, Speaker, redact::redact};
use caly_core::calls::{self, turns};
use caly_core::platform::time;
use caly_core::tenancy::accounts::{Role, audit, members};
use caly_core::tenancy::profile;
use chrono::{DateTime, Utc};
use maud::{Markup, html};

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/calls/{id}", get(detail))
}

fn speaker(who: Speaker) -> &'static str {
    match who {
        Speaker::Bot => "AI agent",
        Speaker::Caller => "Caller",
        Speaker::Agent => "Staff",
        Speaker::Mixed => "Both",
    }
}

fn clock(ms: u64) -> String {
    format!("{}:{:02}", ms / 60_000, (ms / 1000) % 60)
}

/// One line of the timeline.
struct Moment {
    at: DateTime<Utc>,
    what: Markup,
}

async fn detail(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> PageResult {
    let (tenant, id) = (viewer.tenant(), call_id(&id)?);
    let detail = calls::call_detail(&app.db, tenant, id).await?;
    let call = &detail.call;
    let mut turns = turns::turns_of_call(&app.db, tenant, id).await?;
    if profile::redacts_transcripts(&app.db, tenant).await? {
        for turn in &mut turns {
            turn.text = redact(&turn.text);
            turn.reply = turn.reply.as_deref().map(redact);
        }
    }
    let call_ms = call
        .duration_secs
        .and_then(|s| u64::try_from(s).ok())
        .map(|s| s * 1000);
    let transcript = transcript::transcript_of(&app.db, tenant, id, call_ms).await?;
    let handled_by = match &call.dialed_number {
        Some(number) => members::by_phone(&app.db, tenant, number).await?,
        None => None,
    };
    let now = Utc::now();
    let mut players = Vec::new();
    for recording in &detail.recordings {
        let url = app
            .store
            .signed_url(
                &recording.object_key,
                &recording.content_type,
                app.settings.link_ttl,
                now,
            )
            .await
            .map_err(caly_core::CoreError::from)?;
        let actor = viewer
            .principal
            .actor(meta.ip.clone(), meta.request_id.clone());
        let (target, source) = (format!("call:{}", id.0), &recording.source);
        let details = serde_json::json!({"source": source, "via": "call page"});
        audit::record(
            &app.db,
            &actor,
            "recording.link_issued",
            &target,
            details,
            now,
        )
        .await?;
        // A local-folder link points at this api: made relative, it plays under whatever name
        // the app was opened by (the page's media policy allows only its own origin for it).
        let url = match url.strip_prefix(&app.settings.public_base()) {
            Some(path) if path.starts_with("/objects/") => path.to_string(),
            _ => url,
        };
        players.push((recording, url));
    }
    let admin = viewer.at_least(Role::Admin);
    let typed = call.channel == caly_entities::status::Channel::Text;
    let mut timeline: Vec<Moment> = detail
        .raw_events
        .iter()
        .map(|event| Moment {
            at: event.received_at,
            what: html! { "Exotel " b { (words(&event.kind)) } @if event.duplicate { " " span.muted { "(a repeat, ignored)" } } },
        })
        .collect();
    for run in &detail.stages {
        timeline.push(Moment {
            at: run.updated_at,
            what: html! {
                "Stage " b { (run.stage) } " " (chip(run.status.as_str()))
                @if run.attempts > 1 { " " span.muted { "after " (run.attempts) " attempts" } }
                @if let Some(error) = &run.error { " " span.muted { (error.message) } }
            },
        });
    }
    timeline.sort_by_key(|m| m.at);
    let mut stage_names: Vec<&str> = detail.stages.iter().map(|r| r.stage.as_str()).collect();
    stage_names.sort_unstable();
    stage_names.dedup();
    let caller = call
        .from_number
        .as_deref()
        .or(call.from_raw.as_deref())
        .unwrap_or("unknown caller");
    let title = format!("Call from {caller}");
    let body = html! {
        p.small { a href="/calls" { "← Calls" } }
        h1 { (title) }
        div.stats {
            div.stat { span.muted { "When" } b.small { (when(call.happened_at)) } }
            div.stat { span.muted { "State" } b { (chip(call.state.as_str())) } }
            div.stat { span.muted { "Outcome" } b { @if let Some(o) = &call.outcome { (chip(o)) } @else { "—" } } }
            div.stat { span.muted { "Duration" } b { (duration(call.duration_secs)) } }
            div.stat { span.muted { "Cost" } b id="call-cost" { @if let Some(c) = call.cost_paise { (inr(c)) } @else { "—" } } }
        }
        @if let Some(reason) = &call.outcome_reason {
            p.muted { "Why it ended this way: " (words(reason)) }
        }
        @if let Some(person) = &handled_by {
            p { "Handed to " b { (person.name) } " (" (person.email) ")" }
        }
        div.grid2 {
            section.panel aria-labelledby="recording-h" {
                h2 id="recording-h" { "Recording" }
                @if players.is_empty() {
                    @if typed {
                        p.empty { "A typed conversation has no recording." }
                    } @else {
                        p.empty { "No recording yet. It is stored a few seconds after the call ends." }
                    }
                }
                @for (recording, url) in &players {
                    figure {
                        audio controls preload="metadata" src=(url) data-recording=(recording.source) {}
                        figcaption.small.muted {
                            (words(&recording.source)) " recording · "
                            (group(recording.size_bytes)) " bytes · the link works for "
                            (app.settings.link_ttl.as_secs() / 60) " minutes"
                        }
                    }
                }
            }
            section.panel aria-labelledby="charge-h" {
                h2 id="charge-h" { "Charge" }
                @if let Some(charge) = &detail.charge {
                    p id="charge" { b { (inr(charge.amount_paise)) }
                        @if let (Some(minutes), Some(rate)) = (charge.minutes, charge.rate_paise_per_min) {
                            " for " (minutes) " min at " (inr(rate)) "/min"
                        }
                        " · " span.muted { (when(charge.created_at)) }
                    }
                    @for adjustment in &detail.adjustments {
                        p.small { "Adjusted " b { (inr(adjustment.amount_paise)) } " · " (adjustment.reason) " · " span.muted { (when(adjustment.created_at)) } }
                    }
                } @else if typed {
                    p.empty { "Typed conversations are not billed." }
                } @else {
                    p.empty { "Not charged (yet): " (words(call.billing_status.as_str())) "." }
                }
            }
        }
        section.panel aria-labelledby="conversation-h" id="conversation" {
            h2 id="conversation-h" { "Conversation" }
            @if turns.is_empty() { p.empty { "The agent has not taken a turn on this call." } }
            @for turn in &turns {
                div.turn {
                    div.caller { "Caller: " span.said { (turn.text) } }
                    @if let Some(reply) = &turn.reply {
                        div.agent { "Agent: " span.reply { (reply) } }
                    }
                    div.small.muted {
                        @if let Some(agent) = &turn.agent { "agent " b { (agent) } " · " }
                        @if let Some(intent) = &turn.intent { "intent " b.intent { (intent) } " · " }
                        @if turn.verified { "caller verified · " }
                        @if turn.handoff { "asked for a person · " }
                        (time::ist_clock(turn.created_at))
                    }
                    @if admin && !turn.tool_calls.is_empty() {
                        details.tool-calls {
                            summary.small { (turn.tool_calls.len()) " tool call(s)" }
                            @for tool in &turn.tool_calls {
                                div.small { code { (tool.name) } " " code { (tool.arguments.to_string()) } }
                                @if let Some(result) = &tool.result {
                                    pre.small.mono { (if tool.withheld { "(withheld until the caller is verified)".to_string() } else { result.to_string() }) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="transcript-h" id="transcript" {
            h2 id="transcript-h" { "Transcript" }
            @if transcript.segments.is_empty() { p.empty { "The transcript is written after the recording is stored." } }
            @for segment in &transcript.segments {
                div.seg { b { (speaker(segment.speaker)) } " " span.muted.small { (clock(segment.start_ms)) } " " (segment.text) }
            }
            @if transcript.redacted { p.small.muted { "Numbers and codes are redacted." } }
        }
        section.panel aria-labelledby="timeline-h" {
            h2 id="timeline-h" { "Timeline" }
            ul.timeline {
                @for moment in &timeline {
                    li { span.muted.small { (time::ist_clock(moment.at)) } " " (moment.what) }
                }
            }
        }
        @if admin && !stage_names.is_empty() {
            section.panel aria-labelledby="replay-h" {
                h2 id="replay-h" { "Replay a stage" }
                p.small.muted { "Runs the stage again for this call; its effects are idempotent (nothing is charged twice)." }
                div.row {
                    @for stage in &stage_names {
                        form.inline data-api={ "/api/v1/calls/" (call.id) "/stages/" (stage) "/replay" }
                            data-confirm={ "Replay " (stage) " for this call?" } data-success="Replay queued." {
                            button.quiet.replay type="submit" { "Replay " (stage) }
                            (status())
                        }
                    }
                }
            }
        }
    };
    Ok(shell(&viewer, &title, "/calls", body).into_response())
}

fn group(n: i64) -> String {
    caly_core::billing::money::group_indian(n.unsigned_abs())
}
