//! How pages show values: money in ₹ with Indian grouping, moments in IST, durations, and
//! status chips.

use caly_core::billing::money;
use caly_core::platform::time;
use chrono::{DateTime, Utc};
use maud::{Markup, html};

/// `₹1,23,456.00`.
pub(crate) fn inr(paise: i64) -> String {
    money::inr(paise)
}

/// `3 Dec 2026, 14:05 IST`.
pub(crate) fn when(at: DateTime<Utc>) -> String {
    time::ist_text(at)
}

/// An optional moment, or a dash.
pub(crate) fn when_opt(at: Option<DateTime<Utc>>) -> String {
    at.map(when).unwrap_or_else(|| "—".into())
}

/// `1m 05s`, or a dash.
pub(crate) fn duration(seconds: Option<i64>) -> String {
    match seconds {
        Some(s) if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        Some(s) => format!("{s}s"),
        None => "—".into(),
    }
}

/// Words for a stored name: `handed_off` → `handed off`.
pub(crate) fn words(name: &str) -> String {
    name.replace('_', " ")
}

/// A coloured chip for a status or outcome.
pub(crate) fn chip(name: &str) -> Markup {
    let tone = match name {
        "completed" | "resolved" | "succeeded" | "charged" | "closed" | "connected" | "up"
        | "ok" => "good",
        "failed" | "missed" | "busy" | "down" | "disconnected" => "bad",
        "handed_off" | "callback" | "pending" | "running" | "open" | "degraded"
        | "awaiting_duration" | "adjustment_due" => "warn",
        _ => "",
    };
    html! { span class={ "chip " (tone) } { (words(name)) } }
}
