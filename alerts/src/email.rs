//! E-mail delivery over SMTP (docs/ALERTS.md, "E-mail").

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{Message, SmtpTransport, Transport};

use crate::{Attempt, Email, Notification};

/// Checks an SMTP URL and the addresses (the configuration's check), without connecting.
pub(crate) fn check(smtp: &str, from: &str, to: &[String]) -> Result<(), String> {
    SmtpTransport::from_url(smtp).map_err(|e| {
        format!("smtp: {e}; write smtp://host:25, smtp://host:587?tls=required (STARTTLS) or smtps://host:465, with user:password@ before the host if the server wants them")
    })?;
    from.parse::<Mailbox>()
        .map_err(|e| format!("from = {from:?}: {e}"))?;
    if to.is_empty() {
        return Err("to = []: give at least one recipient".into());
    }
    for t in to {
        t.parse::<Mailbox>()
            .map_err(|e| format!("to: {t:?}: {e}"))?;
    }
    Ok(())
}

/// The message of `n`: the title and summary as its subject, the summary and the numbers as
/// its text, and a Message-ID made of the idempotency key (so a mail system can drop a
/// second copy).
pub(crate) fn message(e: &Email, n: &Notification) -> Result<Message, String> {
    let mut b = Message::builder()
        .from(e.from.parse::<Mailbox>().map_err(|x| x.to_string())?)
        .subject(format!("{}: {}", n.title(), n.summary))
        .message_id(Some(format!("<{}@seatmeter.{}>", n.key, sanitize(&n.site))))
        .header(ContentType::TEXT_PLAIN);
    for t in &e.to {
        b = b.to(t.parse::<Mailbox>().map_err(|x| x.to_string())?);
    }
    let details = serde_json::to_string_pretty(&n.details).unwrap_or_default();
    let text = format!(
        "{}\n\nRule: {}\nCondition: {}\nState: {}\nScope: {}{}{}\nAt: {}\nSite: {}\n\n{}\n\nIdempotency key: {}\n",
        n.summary,
        n.rule,
        n.condition,
        n.state.name(),
        n.scope,
        n.tenant
            .as_ref()
            .map(|t| format!("\nTenant: {t}"))
            .unwrap_or_default(),
        n.item
            .as_ref()
            .map(|i| format!("\nItem: {i}"))
            .unwrap_or_default(),
        n.at,
        n.site,
        details,
        n.key
    );
    b.body(text).map_err(|x| x.to_string())
}

fn sanitize(site: &str) -> String {
    let s: String = site
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "site".into() } else { s }
}

/// One attempt to send `n`.
pub(crate) fn send(e: &Email, n: &Notification, timeout: Duration) -> Attempt {
    let retry = |error: String| Attempt::Retry { after: None, error };
    let msg = match message(e, n) {
        Ok(m) => m,
        Err(x) => return retry(format!("the message does not build: {x}")),
    };
    let transport = match SmtpTransport::from_url(&e.smtp.0) {
        Ok(b) => b.timeout(Some(timeout)).build(),
        Err(x) => return retry(format!("smtp: {x}")),
    };
    match transport.send(&msg) {
        Ok(_) => Attempt::Delivered,
        Err(x) => retry(format!("SMTP: {x}")),
    }
}
