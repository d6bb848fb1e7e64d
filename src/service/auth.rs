//! Who may ask what over HTTP (issue 13, "tenant boundary").
//!
//! A request carries `Authorization: Bearer <token>`. The configuration holds only the
//! SHA-256 of each token ([`AccessToken`]); the presented token is hashed and compared
//! with every configured hash in constant time, all of them every time, so neither the
//! answer's timing nor an early exit tells how much of a hash matched. With no token
//! configured everyone may ask everything, and the service listens on loopback only
//! (`check_listen`).
//!
//! Operator tokens see everything. A tenant token sees its own tenant's report and its
//! own groups' reports: system reports, `/metrics`, other tenants and their groups are
//! 403. `/healthz` needs no token; `/readyz` answers anyone with its status, and only an
//! operator with its reasons.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use seatmeter_core::ScopeKind;
use seatmeter_store::Dimensions;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::http::AppState;
use crate::config::{AccessToken, Config, Role};

/// Who is asking, once authenticated; a request extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No token is configured: the service is open (and on loopback only).
    Open,
    /// No known token, where none is needed (`/healthz`, `/readyz`).
    Anonymous,
    /// An operator token, by its name.
    Operator(String),
    /// A tenant token: its name and its tenant.
    Tenant { name: String, tenant: String },
}

impl Caller {
    /// Whether the caller may see the whole site (`/metrics`, system reports, reasons).
    pub fn whole_site(&self) -> bool {
        matches!(self, Caller::Open | Caller::Operator(_))
    }

    fn name(&self) -> &str {
        match self {
            Caller::Open | Caller::Anonymous => "",
            Caller::Operator(n) | Caller::Tenant { name: n, .. } => n,
        }
    }
}

/// Why a request was refused; the label of `seatmeter_http_auth_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No `Authorization` header.
    Missing,
    /// A bearer token that is no configured token's.
    Unknown,
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
    /// A known token asking for what its role does not allow.
    Forbidden,
}

impl Failure {
    pub const ALL: [Failure; 4] = [
        Failure::Missing,
        Failure::Unknown,
        Failure::Malformed,
        Failure::Forbidden,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Missing => "missing",
            Failure::Unknown => "unknown",
            Failure::Malformed => "malformed",
            Failure::Forbidden => "forbidden",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The caller a request's headers name, against the configured tokens.
pub fn authenticate(tokens: &[AccessToken], headers: &HeaderMap) -> Result<Caller, Failure> {
    if tokens.is_empty() {
        return Ok(Caller::Open);
    }
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Failure::Missing);
    };
    if values.next().is_some() {
        return Err(Failure::Malformed);
    }
    let value = value.to_str().map_err(|_| Failure::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(Failure::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(Failure::Malformed);
    }
    let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    // Every hash is compared, whatever matched before; subtle's equality does not stop at
    // the first differing byte (nor let the compiler make it stop).
    let mut found: Option<&AccessToken> = None;
    for t in tokens {
        if bool::from(t.sha256.ct_eq(&presented)) {
            found = Some(t);
        }
    }
    match found {
        None => Err(Failure::Unknown),
        Some(t) => Ok(match &t.role {
            Role::Operator => Caller::Operator(t.name.clone()),
            Role::Tenant(tenant) => Caller::Tenant {
                name: t.name.clone(),
                tenant: tenant.clone(),
            },
        }),
    }
}

/// A 401 or 403, counted and logged (with the token's name for a 403, never a token).
pub fn refuse(state: &AppState, failure: Failure, path: &str, caller: Option<&Caller>) -> Response {
    state.metrics.auth_failure(failure);
    let token = caller.map(Caller::name).unwrap_or_default();
    tracing::warn!(reason = failure.as_str(), path, token, "request refused");
    match failure {
        Failure::Forbidden => (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "this token may not see that\n",
        )
            .into_response(),
        f => (
            StatusCode::UNAUTHORIZED,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (
                    header::WWW_AUTHENTICATE,
                    if f == Failure::Malformed {
                        "Bearer error=\"invalid_request\""
                    } else if f == Failure::Unknown {
                        "Bearer error=\"invalid_token\""
                    } else {
                        "Bearer"
                    },
                ),
            ],
            "an access token is required: Authorization: Bearer <token>\n",
        )
            .into_response(),
    }
}

/// The middleware: `/healthz` and `/readyz` pass as they are; every other path needs a
/// known token, and `/metrics` an operator's. The caller goes along as an extension.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    // A console session's cookie stands for its token (never together with a header).
    let session = if req.headers().contains_key(header::AUTHORIZATION) {
        None
    } else {
        state.sessions.get(req.headers()).map(|(_, s)| s)
    };
    if path == "/login" || path == "/logout" {
        return next.run(req).await;
    }
    if super::console::is_page(&path) {
        let visitor = match session {
            _ if state.config.access.tokens.is_empty() => super::console::Visitor {
                caller: Caller::Open,
                csrf: None,
            },
            Some(s) => super::console::Visitor {
                caller: s.caller,
                csrf: Some(s.csrf),
            },
            None => {
                let target = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| path.clone());
                let to = format!("/login?next={}", super::console::url_encode(&target));
                return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            }
        };
        req.extensions_mut().insert(visitor.caller.clone());
        req.extensions_mut().insert(visitor);
        return next.run(req).await;
    }
    let caller = match session {
        Some(s) => Ok(s.caller),
        None => authenticate(&state.config.access.tokens, req.headers()),
    };
    let caller = match (path.as_str(), caller) {
        ("/healthz", _) => Caller::Open,
        // Anyone learns whether it is ready; only the whole site learns why not.
        ("/readyz", c) => c.unwrap_or(Caller::Anonymous),
        (_, Err(f)) => return refuse(&state, f, &path, None),
        ("/metrics", Ok(c)) if !c.whole_site() => {
            return refuse(&state, Failure::Forbidden, &path, Some(&c));
        }
        (_, Ok(c)) => c,
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// What a tenant `tenant` may ask of a report of `scope` with `id`: the id it is to be
/// asked with (a tenant's token asking for no id gets its own tenant), or `Forbidden`.
///
/// A group id is `tenant/group` or a tenant's name (all its groups), matched as the
/// report matches it; since tenant names may contain `/`, the groups it names are looked
/// up in `dims`, and it is allowed only when all of them are the tenant's own.
pub fn tenant_may_see(
    tenant: &str,
    scope: ScopeKind,
    id: Option<&str>,
    dims: &Dimensions,
) -> Result<String, Failure> {
    let Some(id) = id else {
        return match scope {
            ScopeKind::System => Err(Failure::Forbidden),
            _ => Ok(tenant.to_string()),
        };
    };
    match scope {
        ScopeKind::System => Err(Failure::Forbidden),
        ScopeKind::Tenant if id == tenant => Ok(id.to_string()),
        ScopeKind::Tenant => Err(Failure::Forbidden),
        kind @ (ScopeKind::Group | ScopeKind::PlaceGroup) => {
            let mut named = dims
                .groups_named(kind, id)
                .map(|g| dims.tenant_of_group(kind, g))
                .peekable();
            if named.peek().is_none() {
                // Names nothing: the report says 404 for the tenant's own kind of id, and
                // no other tenant's name is confirmed or denied.
                return if id == tenant || id.starts_with(&format!("{tenant}/")) {
                    Ok(id.to_string())
                } else {
                    Err(Failure::Forbidden)
                };
            }
            if named.all(|owner| owner == tenant) {
                Ok(id.to_string())
            } else {
                Err(Failure::Forbidden)
            }
        }
    }
}

/// Refuses to serve other hosts without tokens: with none configured, anyone who reaches
/// the port may read every tenant's reports.
pub fn check_listen(config: &Config, addr: SocketAddr) -> Result<(), String> {
    if config.access.tokens.is_empty() && !addr.ip().is_loopback() {
        return Err(format!(
            "{}: [service] listen = {:?} serves other hosts ({}), but no [[service.token]] is configured, so anyone who reaches it could read every report; add a token (`seatmeter token new` prints one and the lines to paste), or listen on 127.0.0.1",
            config.path.display(),
            config.service.listen,
            addr.ip()
        ));
    }
    Ok(())
}

/// Every tenant token's tenant must be one the site knows: seen in the store (events or
/// snapshots) or provisioned by an entitlement file. (The configuration file itself has
/// no list of tenants, so this is checked when the service starts.)
pub fn check_tenants(config: &Config, dims: &Dimensions) -> Result<(), String> {
    let mut provisioned = std::collections::BTreeSet::new();
    if config
        .access
        .tokens
        .iter()
        .any(|t| matches!(&t.role, Role::Tenant(n) if !dims.tenants.contains(n)))
        && !config.entitlement_files.is_empty()
    {
        let items = config.item_names();
        match crate::entitlement::xml::load_all(&config.entitlement_files, &items) {
            Ok(e) => {
                for f in e.files {
                    provisioned.extend(f.tenants.into_keys());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.message, file = %e.path, "reading the entitlement files for the tenants of tokens")
            }
        }
    }
    for t in &config.access.tokens {
        if let Role::Tenant(n) = &t.role
            && !dims.tenants.contains(n)
            && !provisioned.contains(n)
        {
            return Err(format!(
                "{}:{}: token {:?} is for tenant {n:?}, which is neither in the store (events, snapshots) nor provisioned by an entitlement file; check the spelling (tenant names are case-sensitive), or start the service once the tenant's data has arrived",
                config.path.display(),
                t.line,
                t.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, secret: &str, role: Role) -> AccessToken {
        AccessToken {
            name: name.into(),
            sha256: Sha256::digest(secret.as_bytes()).into(),
            role,
            line: 1,
        }
    }

    fn headers(auth: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for a in auth {
            h.append(
                header::AUTHORIZATION,
                header::HeaderValue::from_bytes(a).unwrap(),
            );
        }
        h
    }

    #[test]
    fn bearer_tokens_are_checked_against_their_hashes() {
        let tokens = [
            token("ops", "smt_op", Role::Operator),
            token("acme", "smt_acme", Role::Tenant("acme".into())),
        ];
        assert_eq!(authenticate(&[], &headers(&[])), Ok(Caller::Open));
        assert_eq!(
            authenticate(&tokens, &headers(&[b"Bearer smt_op"])),
            Ok(Caller::Operator("ops".into()))
        );
        assert_eq!(
            authenticate(&tokens, &headers(&[b"bearer smt_acme"])),
            Ok(Caller::Tenant {
                name: "acme".into(),
                tenant: "acme".into()
            })
        );
        assert_eq!(authenticate(&tokens, &headers(&[])), Err(Failure::Missing));
        assert_eq!(
            authenticate(&tokens, &headers(&[b"Bearer smt_other"])),
            Err(Failure::Unknown)
        );
        // The hash itself is not a token.
        let hash: String = tokens[0]
            .sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            authenticate(&tokens, &headers(&[format!("Bearer {hash}").as_bytes()])),
            Err(Failure::Unknown)
        );
        for bad in [
            &b"Basic c2VhdDptZXRlcg=="[..],
            b"Bearer",
            b"Bearer ",
            b"smt_op",
            b"Bearer smt_op extra",
            b"Bearer \xff\xfe",
        ] {
            assert_eq!(
                authenticate(&tokens, &headers(&[bad])),
                Err(Failure::Malformed),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            authenticate(&tokens, &headers(&[b"Bearer smt_op", b"Bearer smt_op"])),
            Err(Failure::Malformed)
        );
    }

    #[test]
    fn a_tenant_sees_its_own_tenant_and_groups_only() {
        // Tenants "a" and "a/b": "a/b/c" is a group of "a/b", not of "a".
        let dims = Dimensions {
            tenants: vec![String::new(), "a".into(), "a/b".into(), "z".into()],
            groups: vec![
                (0, String::new()),
                (1, "b".into()),
                (2, "c".into()),
                (3, "x".into()),
            ],
            ..Dimensions::default()
        };
        let see = |t: &str, s: ScopeKind, id: Option<&str>| tenant_may_see(t, s, id, &dims);
        use ScopeKind::*;
        assert_eq!(see("a", System, None), Err(Failure::Forbidden));
        assert_eq!(see("a", System, Some("a")), Err(Failure::Forbidden));
        assert_eq!(see("a", Tenant, None), Ok("a".into()));
        assert_eq!(see("a", Tenant, Some("a")), Ok("a".into()));
        assert_eq!(see("a", Tenant, Some("z")), Err(Failure::Forbidden));
        assert_eq!(see("a", Tenant, Some("a/b")), Err(Failure::Forbidden));
        assert_eq!(see("a", Group, None), Ok("a".into()));
        assert_eq!(see("a", Group, Some("a")), Ok("a".into()));
        assert_eq!(
            see("a", Group, Some("a/b")),
            Err(Failure::Forbidden),
            "tenant a/b"
        );
        // "a/b" names tenant a's group b and all of tenant a/b's groups, as the report
        // reads it: neither tenant may ask for both.
        assert_eq!(see("a/b", Group, Some("a/b")), Err(Failure::Forbidden));
        assert_eq!(see("a", Group, Some("a/b/c")), Err(Failure::Forbidden));
        assert_eq!(see("a/b", Group, Some("a/b/c")), Ok("a/b/c".into()));
        assert_eq!(see("a", Group, Some("z/x")), Err(Failure::Forbidden));
        assert_eq!(see("a", Group, Some("z")), Err(Failure::Forbidden));
        // Unknown: its own kind of name goes on (to a 404), another's is forbidden.
        assert_eq!(see("a", Group, Some("a/nope")), Ok("a/nope".into()));
        assert_eq!(see("a", Group, Some("q/nope")), Err(Failure::Forbidden));
        // Place groups by the same rules, from their own names: z's place group "Floor"
        // is not a's, and a's agent group b does not make "a/b" a place group of a.
        let dims = Dimensions {
            place_groups: vec![(0, String::new()), (3, "Floor".into()), (1, "Desk".into())],
            ..dims
        };
        let see = |t: &str, s: ScopeKind, id: Option<&str>| tenant_may_see(t, s, id, &dims);
        assert_eq!(see("a", PlaceGroup, None), Ok("a".into()));
        assert_eq!(see("a", PlaceGroup, Some("a/Desk")), Ok("a/Desk".into()));
        assert_eq!(
            see("a", PlaceGroup, Some("z/Floor")),
            Err(Failure::Forbidden)
        );
        assert_eq!(see("a", PlaceGroup, Some("z")), Err(Failure::Forbidden));
        assert_eq!(see("z", PlaceGroup, Some("z/Floor")), Ok("z/Floor".into()));
    }
}
