//! Outgoing mail: SMTP (lettre) when `SMTP_URL` is set, else `.eml` files in an outbox folder.
//! Reports and invoices send through this in later releases.

use crate::CoreError;
use lettre::message::Message;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// `.eml` files in a folder (the embedded default).
    Outbox {
        /// The folder.
        dir: PathBuf,
        /// Sender.
        from: String,
    },
    /// An SMTP server.
    Smtp {
        /// Pooled transport.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// Sender.
        from: String,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Outbox { dir, .. } => write!(f, "Mailer::Outbox({})", dir.display()),
            // The URL may hold a password: never print it.
            Mailer::Smtp { .. } => f.write_str("Mailer::Smtp(<redacted>)"),
        }
    }
}

fn mail_error(err: impl std::fmt::Display) -> CoreError {
    CoreError::invalid("mail", format!("mail could not be sent: {err}"))
}

impl Mailer {
    /// SMTP when `smtp_url` is given (`smtp://user:pass@host:port`, `smtps://…`), else the outbox.
    pub fn new(smtp_url: Option<&str>, outbox: PathBuf, from: &str) -> Result<Self, CoreError> {
        Ok(match smtp_url {
            Some(url) => Mailer::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(mail_error)?
                    .build(),
                from: from.to_string(),
            },
            None => Mailer::Outbox {
                dir: outbox,
                from: from.to_string(),
            },
        })
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), CoreError> {
        let from = match self {
            Mailer::Outbox { from, .. } | Mailer::Smtp { from, .. } => from,
        };
        let message = Message::builder()
            .from(from.parse().map_err(mail_error)?)
            .to(to.parse().map_err(mail_error)?)
            .subject(subject)
            .body(body.to_string())
            .map_err(mail_error)?;
        match self {
            Mailer::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S"),
                    crate::crypto::random_token("").get(..12).unwrap_or("mail")
                );
                tokio::fs::write(dir.join(name), message.formatted()).await?;
            }
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await.map_err(mail_error)?;
            }
        }
        Ok(())
    }
}
