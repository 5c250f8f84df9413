//! `/tasks`: the staff inbox — callback, cancellation and address-change requests and complaints
//! the agent recorded. Staff (agent role and up) assign, comment and close; each task shows who
//! did what, and when.

use super::format::{chip, when, words};
use super::layout::{pager, shell, status};
use super::page::{Page, PageResult};
use crate::ApiState;
use crate::access::Viewer as AnyRole;
use crate::calls::query;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use caly_core::calls::task_activity;
use caly_core::calls::tasks::{self, MAX_NOTE_CHARS, TaskFilter};
use caly_core::platform::pagination::PageRequest;
use caly_core::tenancy::accounts::{Role, members};
use maud::html;
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn router() -> Router<ApiState> {
    Router::new().route("/tasks", get(inbox))
}

#[derive(Deserialize, Default)]
struct Params {
    kind: Option<String>,
    status: Option<String>,
    page: Option<u64>,
}

const KINDS: [&str; 4] = ["callback", "cancellation", "address_change", "complaint"];

async fn inbox(
    State(ApiState { app }): State<ApiState>,
    Page { viewer, .. }: Page<AnyRole>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let params: Params = query(raw)?;
    let kind = params.kind.clone().filter(|k| !k.is_empty());
    // Open tasks unless asked otherwise; `all` shows both.
    let shown = params.status.clone().unwrap_or_else(|| "open".into());
    let status_filter = (shown != "all").then_some(shown.as_str());
    let filter = TaskFilter::parse(kind.as_deref(), status_filter)?;
    let tenant = viewer.tenant();
    let found = tasks::list_tasks(
        &app.db,
        tenant,
        &filter,
        PageRequest::new(params.page, Some(20))?,
    )
    .await?;
    let ids: Vec<i64> = found.items.iter().map(|t| t.id).collect();
    let history = task_activity::events_of(&app.db, tenant, &ids).await?;
    let people = members::list(&app.db, tenant).await?;
    let names: HashMap<i64, &str> = people.iter().map(|m| (m.id, m.name.as_str())).collect();
    // No user: the AI agent (or an API key); a user no longer in the store: a former member.
    let who = |id: Option<i64>| match id {
        None => "the agent",
        Some(id) => names.get(&id).copied().unwrap_or("a former member"),
    };
    let staff = viewer.at_least(Role::Agent);
    let kept = [
        ("kind", kind.clone().unwrap_or_default()),
        ("status", shown.clone()),
    ];
    let body = html! {
        h1 { "Tasks" }
        form.panel.autosubmit method="get" action="/tasks" aria-label="Filters" {
            div.filters {
                div {
                    label for="status" { "Status" }
                    select id="status" name="status" {
                        @for (value, text) in [("open", "Open"), ("closed", "Closed"), ("all", "All")] {
                            option value=(value) selected[shown == value] { (text) }
                        }
                    }
                }
                div {
                    label for="kind" { "Kind" }
                    select id="kind" name="kind" {
                        option value="" { "Any" }
                        @for k in KINDS { option value=(k) selected[kind.as_deref() == Some(k)] { (words(k)) } }
                    }
                }
                div { button type="submit" { "Apply" } }
            }
        }
        p.muted { (found.total) " task(s)" }
        @if found.items.is_empty() {
            p.panel.empty { "Nothing here. When the agent takes a request it cannot finish on the call, it lands in this inbox." }
        }
        @for task in &found.items {
            article.panel.task id={ "task-" (task.id) } {
                div.spread {
                    div { (chip(&task.kind)) " " (chip(&task.status))
                        @if let Some(order) = &task.order_name { " order " b { (order) } } }
                    span.small.muted { (when(task.created_at)) }
                }
                p.details { (task.details) }
                p.small {
                    "Caller " span.mono { (task.caller.as_deref().unwrap_or("unknown")) }
                    " · " a href={ "/calls/" (task.call_id) } { "the call" }
                    " · assigned to " b.assignee { (task.assignee_id.map(|id| who(Some(id))).unwrap_or("nobody")) }
                }
                ul.timeline.small {
                    li { span.muted { (when(task.created_at)) } " recorded by the agent" }
                    @for event in history.iter().filter(|e| e.task_id == task.id) {
                        li {
                            span.muted { (when(event.created_at)) } " " b { (who(event.actor_id)) } " "
                            @match event.kind.as_str() {
                                task_activity::ASSIGNED => { "assigned it to " (event.body) }
                                task_activity::UNASSIGNED => { "unassigned it" }
                                task_activity::COMMENTED => { "commented: " span.comment { (event.body) } }
                                task_activity::CLOSED => { "closed it: " span.comment { (event.body) } }
                                other => { (other) }
                            }
                        }
                    }
                }
                @if staff {
                    details {
                        summary { "Act on this task" }
                        div.grid2 {
                            form.assign data-api={ "/api/v1/tasks/" (task.id) "/assign" } data-success="Assigned." {
                                label for={ "assignee-" (task.id) } { "Assign to" }
                                select id={ "assignee-" (task.id) } name="assignee_id" data-type="int" data-empty="null" {
                                    option value="" { "Nobody" }
                                    @for person in people.iter().filter(|p| !p.disabled) {
                                        option value=(person.id) selected[task.assignee_id == Some(person.id)] { (person.name) " (" (person.role.as_str()) ")" }
                                    }
                                }
                                p { button type="submit" { "Assign" } }
                                (status())
                            }
                            form.comment data-api={ "/api/v1/tasks/" (task.id) "/comments" } data-success="Comment added." {
                                label for={ "comment-" (task.id) } { "Comment" }
                                textarea id={ "comment-" (task.id) } name="body" required maxlength=(MAX_NOTE_CHARS) {}
                                p { button type="submit" { "Add comment" } }
                                (status())
                            }
                            @if task.status == tasks::OPEN {
                                form.close data-api={ "/api/v1/tasks/" (task.id) "/close" } data-success="Closed." {
                                    label for={ "note-" (task.id) } { "Closing note" }
                                    textarea id={ "note-" (task.id) } name="note" required maxlength=(MAX_NOTE_CHARS) placeholder="What was done" {}
                                    p { button type="submit" { "Close task" } }
                                    (status())
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager("/tasks", &kept, found.page, found.per_page, found.total))
    };
    Ok(shell(&viewer, "Tasks", "/tasks", body).into_response())
}
