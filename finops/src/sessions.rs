//! Long sessions: logins that stayed open longer than `long_session_hours`.

use seatmeter_core::Nanos;

const NANOS_PER_HOUR: i128 = 3_600_000_000_000;

/// One login session of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent.
    pub agent: String,
    /// When the agent logged in.
    pub login: Nanos,
    /// When the agent logged out, or `None` if it is still logged in.
    pub logout: Option<Nanos>,
}

/// A session longer than the limit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LongSession {
    /// The agent's tenant.
    pub tenant: String,
    /// The agent.
    pub agent: String,
    /// When the agent logged in.
    pub login: Nanos,
    /// When the agent logged out, or `None` if still logged in at `as_of_end`.
    pub logout: Option<Nanos>,
    /// How long the session lasted, up to the logout or, if open, up to `as_of_end`.
    pub duration: Nanos,
    /// Whether the session is still open.
    pub open: bool,
}

/// The sessions lasting strictly longer than `limit_hours`, longest first (then by
/// tenant, agent and login). An open session counts until `as_of_end` (the end of the
/// last day of data); a session starting after `as_of_end` is ignored.
pub fn long_sessions(sessions: &[Session], as_of_end: Nanos, limit_hours: u32) -> Vec<LongSession> {
    let limit = i128::from(limit_hours) * NANOS_PER_HOUR;
    let mut out: Vec<LongSession> = sessions
        .iter()
        .filter(|s| s.login <= as_of_end)
        .filter_map(|s| {
            let end = s.logout.unwrap_or(as_of_end);
            let duration = end.saturating_sub(s.login);
            (i128::from(duration) > limit).then(|| LongSession {
                tenant: s.tenant.clone(),
                agent: s.agent.clone(),
                login: s.login,
                logout: s.logout,
                duration,
                open: s.logout.is_none(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.duration
            .cmp(&a.duration)
            .then_with(|| a.tenant.cmp(&b.tenant))
            .then_with(|| a.agent.cmp(&b.agent))
            .then_with(|| a.login.cmp(&b.login))
    });
    out
}
