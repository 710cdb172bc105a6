//! Outgoing email over SMTP (workspace invitations), with lettre over rustls (ring, the system's
//! root certificates).
//!
//! The whole configuration is one URL, `smtp_url`:
//! - `smtp://[user:password@]host[:port]` — plain SMTP (port 25 by default);
//! - `smtp://...?tls=required` — STARTTLS, refused if the server cannot (port 587 by default);
//!   `?tls=opportunistic` upgrades when the server offers it;
//! - `smtps://[user:password@]host[:port]` — TLS from the first byte (port 465 by default);
//! - `&from=Name <address>` (URL-encoded) sets the sender; without it the sender is the SMTP
//!   user when that is an address, else `noreply@<host>`.
//!
//! Sending is bounded by [`SEND_DEADLINE`]; a refusal or a timeout is reported to the caller,
//! which decides what to do (an invitation is still recorded, with `emailSent: false`).

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{Address, AsyncTransport, Tokio1Executor};
use std::fmt;
use std::time::Duration;

/// Longest wait for one SMTP command's answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time one email may take to send, connection included.
pub const SEND_DEADLINE: Duration = Duration::from_secs(20);
/// The query parameter of `smtp_url` that names the sender.
const FROM_PARAMETER: &str = "from";
/// The sender's local part when nothing better is known.
const DEFAULT_SENDER_LOCAL_PART: &str = "noreply";
/// The display name of the default sender.
const DEFAULT_SENDER_NAME: &str = "Outbound";

/// Why `smtp_url` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MailerConfigError {
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    #[error("invalid sender `{0}` in the SMTP URL: expected `address` or `Name <address>`")]
    Sender(String),
}

/// Why one email was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("invalid message: {0}")]
    Message(String),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("no answer from the SMTP server within {0:?}")]
    Timeout(Duration),
}

/// One plain-text email.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: Address,
    pub subject: String,
    pub body: String,
}

/// Sends email through one SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    redacted_url: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("url", &self.redacted_url)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for `smtp_url` (see the module documentation). Nothing is sent or connected.
    pub fn from_url(smtp_url: &str) -> Result<Mailer, MailerConfigError> {
        let url = url::Url::parse(smtp_url).map_err(|e| MailerConfigError::Url(e.to_string()))?;
        let from = sender_of(&url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailerConfigError::Url(e.to_string()))?
            .timeout(Some(COMMAND_TIMEOUT))
            .build();
        Ok(Mailer {
            transport,
            from,
            redacted_url: redact_url(smtp_url),
        })
    }

    /// The sender of every email.
    pub fn sender(&self) -> &Mailbox {
        &self.from
    }

    /// Sends `email`; `Ok` once the server accepted it.
    pub async fn send(&self, email: Email) -> Result<(), SendError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, email.to))
            .subject(email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body)
            .map_err(|e| SendError::Message(e.to_string()))?;
        tokio::time::timeout(SEND_DEADLINE, self.transport.send(message))
            .await
            .map_err(|_| SendError::Timeout(SEND_DEADLINE))??;
        Ok(())
    }
}

/// The sender: the `from` parameter, else the user when it is an address, else
/// `noreply@<host>`.
fn sender_of(url: &url::Url) -> Result<Mailbox, MailerConfigError> {
    if let Some((_, from)) = url.query_pairs().find(|(k, _)| k == FROM_PARAMETER) {
        return from
            .parse::<Mailbox>()
            .map_err(|_| MailerConfigError::Sender(from.into_owned()));
    }
    let user = percent_decode(url.username());
    if let Ok(address) = user.parse::<Address>() {
        return Ok(Mailbox::new(None, address));
    }
    let host = url
        .host_str()
        .ok_or_else(|| MailerConfigError::Url("the SMTP URL names no host".to_owned()))?;
    let address = Address::new(DEFAULT_SENDER_LOCAL_PART, host)
        .map_err(|_| MailerConfigError::Sender(format!("{DEFAULT_SENDER_LOCAL_PART}@{host}")))?;
    Ok(Mailbox::new(Some(DEFAULT_SENDER_NAME.to_owned()), address))
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// `url` without its password, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("redacted"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// Whether `text` is an email address we can send to.
pub fn parse_address(text: &str) -> Option<Address> {
    text.parse::<Address>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_comes_from_the_url() {
        let named = Mailer::from_url("smtp://mail.example.com?from=Acme%20%3Cnews%40acme.io%3E")
            .expect("mailer");
        assert_eq!(named.sender().to_string(), "Acme <news@acme.io>");
        let user =
            Mailer::from_url("smtp://bot%40acme.io:pw@mail.example.com:2525").expect("mailer");
        assert_eq!(user.sender().email.to_string(), "bot@acme.io");
        let plain = Mailer::from_url("smtp://mail.example.com").expect("mailer");
        assert_eq!(plain.sender().email.to_string(), "noreply@mail.example.com");
        assert!(Mailer::from_url("smtps://mail.example.com").is_ok());
        assert!(Mailer::from_url("smtp://mail.example.com?tls=required").is_ok());
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(matches!(
            Mailer::from_url("mail.example.com"),
            Err(MailerConfigError::Url(_))
        ));
        assert!(matches!(
            Mailer::from_url("http://mail.example.com"),
            Err(MailerConfigError::Url(_))
        ));
        assert!(matches!(
            Mailer::from_url("smtp://mail.example.com?tls=sometimes"),
            Err(MailerConfigError::Url(_))
        ));
        assert!(matches!(
            Mailer::from_url("smtp://mail.example.com?from=not-an-address"),
            Err(MailerConfigError::Sender(_))
        ));
    }

    #[test]
    fn passwords_never_show() {
        let mailer = Mailer::from_url("smtp://user:hunter2@mail.example.com").expect("mailer");
        let shown = format!("{mailer:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mail.example.com"), "{shown}");
        assert_eq!(
            redact_url("smtps://u:secret@h:465"),
            "smtps://u:redacted@h:465"
        );
    }

    #[test]
    fn addresses_are_checked() {
        assert!(parse_address("client@example.com").is_some());
        for bad in [
            "",
            "client",
            "client@",
            "@example.com",
            "a b@example.com",
            "a@@b.c",
        ] {
            assert!(parse_address(bad).is_none(), "{bad}");
        }
    }
}
