//! Webhook delivery: one signed HTTP POST (docs/ALERTS.md, "Webhooks").

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Attempt, Notification, Webhook};

/// `sha256=` and the hex HMAC-SHA256 of `timestamp.body` under `secret`: what the
/// `X-Seatmeter-Signature` header carries. A receiver recomputes it from the
/// `X-Seatmeter-Timestamp` header and the raw body, and refuses old timestamps (replays).
pub fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// How long a `Retry-After` header asks to wait: seconds, or an HTTP date.
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// One POST of `n` to the webhook.
pub(crate) fn post(w: &Webhook, n: &Notification, timeout: Duration) -> Attempt {
    let (content_type, body) = match w.template.render(n) {
        Ok(b) => b,
        Err(e) => {
            return Attempt::Retry {
                after: None,
                error: format!("the template does not render: {e}"),
            };
        }
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("seatmeter/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let now = SystemTime::now();
    let ts = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut req = agent
        .post(&w.url)
        .header("Content-Type", &content_type)
        .header("Idempotency-Key", &n.key)
        .header("X-Seatmeter-Timestamp", ts.to_string());
    if let Some(secret) = &w.secret {
        req = req.header("X-Seatmeter-Signature", signature(&secret.0, ts, &body));
    }
    for (name, value) in &w.headers {
        req = req.header(name.as_str(), value.0.as_str());
    }
    let resp = match req.send(body.as_str()) {
        Ok(r) => r,
        Err(e) => {
            return Attempt::Retry {
                after: None,
                error: format!("POST {}: {e}", redacted(&w.url)),
            };
        }
    };
    let status = resp.status();
    if status.is_success() {
        return Attempt::Delivered;
    }
    let after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, now));
    let mut error = format!("POST {}: HTTP {status}", redacted(&w.url));
    if status.is_redirection() {
        error.push_str(" (a redirect: configure the URL it points to)");
    }
    if let Some(a) = after {
        error.push_str(&format!(", Retry-After {} s", a.as_secs()));
    }
    Attempt::Retry { after, error }
}

/// The URL without its path and query, which may carry a token (Slack's, Teams').
pub(crate) fn redacted(url: &str) -> String {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{}://{host}/…", &url[..i])
        }
        None => "the webhook".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 test case 2 ("Jefe", "what do ya want for nothing?") split at the dot.
        let s = signature("Jefe", 0, "");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let rfc: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            rfc,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(signature("Jefe", 1, "x"), signature("Jefe", 1, "y"));
        assert_ne!(signature("Jefe", 1, "x"), signature("Jefe", 2, "x"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_urls_lose_their_tokens() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(
            redacted("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redacted("http://u:p@127.0.0.1:9/x?t=1"),
            "http://127.0.0.1:9/…"
        );
    }
}
