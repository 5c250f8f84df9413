//! Outgoing mail: SMTP (lettre) when `SMTP_URL` is set, else `.eml` files in an outbox folder.
//! Reports and invoices send through this in later releases.

use crate::{CoreError, Rejection};
use lettre::message::Message;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
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

/// Why mail could not be sent. None of these is the recipient's fault: a bad recipient is a
/// [`Rejection::InvalidMailAddress`].
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `SMTP_URL` cannot be used.
    #[error("SMTP_URL is not a usable SMTP URL: {0}")]
    BadSmtpUrl(lettre::transport::smtp::Error),
    /// `CALY_MAIL_FROM` is not a mail address.
    #[error("CALY_MAIL_FROM is not a valid mail address: {0}")]
    BadSender(lettre::address::AddressError),
    /// The message could not be built.
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP server refused the message or could not be reached.
    #[error("the SMTP server did not take the message: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The outbox folder could not be written.
    #[error("the outbox could not be written: {0}")]
    Outbox(#[from] std::io::Error),
}

impl Mailer {
    /// SMTP when `smtp_url` is given (`smtp://user:pass@host:port`, `smtps://…`), else the outbox.
    pub fn new(
        smtp_url: Option<&SecretString>,
        outbox: PathBuf,
        from: &str,
    ) -> Result<Self, MailError> {
        Ok(match smtp_url {
            Some(url) => Mailer::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(MailError::BadSmtpUrl)?
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
        let to = to
            .parse()
            .map_err(|_| Rejection::InvalidMailAddress(to.to_string()))?;
        let message = Message::builder()
            .from(from.parse().map_err(MailError::BadSender)?)
            .to(to)
            .subject(subject)
            .body(body.to_string())
            .map_err(MailError::from)?;
        match self {
            Mailer::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(MailError::from)?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S"),
                    crate::platform::crypto::random_token("")
                        .get(..12)
                        .unwrap_or("mail")
                );
                tokio::fs::write(dir.join(name), message.formatted())
                    .await
                    .map_err(MailError::from)?;
            }
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await.map_err(MailError::from)?;
            }
        }
        Ok(())
    }

    /// Checks mail can go out: the SMTP server answers, or the outbox folder can be written.
    pub async fn check(&self) -> Result<(), MailError> {
        match self {
            Mailer::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir).await?;
                Ok(())
            }
            Mailer::Smtp { transport, .. } => match transport.test_connection().await? {
                true => Ok(()),
                false => Err(MailError::Outbox(std::io::Error::other(
                    "the SMTP server did not accept a connection",
                ))),
            },
        }
    }
}
