//! Secrets kept out of messages: the password of a database URL, whether written in its
//! user part (`postgres://user:secret@host/db`) or as a parameter (`?password=secret`).

/// Query parameters of a URL that carry a secret.
const SECRET_PARAMS: [&str; 2] = ["password", "sslpassword"];

/// A database URL with its passwords replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (base, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let base = match base.rsplit_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    let mut out = format!("{scheme}://{base}");
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                    format!("{k}=***")
                }
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// The passwords of a database URL, as written in it and percent-decoded (to keep them
/// out of messages).
pub fn passwords_of(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((_, rest)) = url.split_once("://") else {
        return out;
    };
    let (base, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    if let Some((auth, _)) = base.rsplit_once('@')
        && let Some((_, p)) = auth.split_once(':')
    {
        out.push(p.to_string());
    }
    for p in query.into_iter().flat_map(|q| q.split('&')) {
        if let Some((k, v)) = p.split_once('=')
            && SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str())
        {
            out.push(v.to_string());
        }
    }
    let decoded: Vec<String> = out.iter().map(|p| percent_decode(p)).collect();
    out.extend(decoded);
    out.retain(|p| !p.is_empty());
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out.dedup();
    out
}

/// The password of a database URL's user part, as written in it.
pub fn password_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let base = rest.split_once('?').map_or(rest, |(b, _)| b);
    let (auth, _) = base.rsplit_once('@')?;
    auth.split_once(':').map(|(_, p)| p.to_string())
}

/// `text` with every password of `url` replaced by `***`.
pub fn hide_password(text: &str, url: &str) -> String {
    let mut out = text.to_string();
    for p in passwords_of(url) {
        out = out.replace(p.as_str(), "***");
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_printed() {
        assert_eq!(
            redact_url("postgres://u:s3cret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(
            redact_url("postgres://u@h/db?sslmode=require&password=s3cret&application_name=x"),
            "postgres://u@h/db?sslmode=require&password=***&application_name=x"
        );
        assert_eq!(
            redact_url("postgres://u:a@h/db?PASSWORD=b"),
            "postgres://u:***@h/db?PASSWORD=***"
        );
        assert_eq!(
            password_of("postgres://u:s3cret@h/db").as_deref(),
            Some("s3cret")
        );
        assert_eq!(
            hide_password("auth failed for s3cret", "postgres://u:s3cret@h/db"),
            "auth failed for ***"
        );
        assert_eq!(
            hide_password(
                "password authentication failed: p@ss and p%40ss",
                "postgres://u@h/db?password=p%40ss"
            ),
            "password authentication failed: *** and ***"
        );
        assert_eq!(hide_password("x", "postgres://u@h/db"), "x");
    }
}
