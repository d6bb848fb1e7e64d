//! Episodes from findings: one notification per episode's start and end, not per check.

use std::collections::BTreeSet;

use seatmeter_alerts::{Condition, Notification, Rule};
use seatmeter_store::alerts::{AlertChange, Episode};

use super::{changes, notification_key};
use crate::guard::check::Finding;

fn rule(name: &str, condition: Condition, channels: &[&str]) -> Rule {
    Rule {
        name: name.into(),
        condition,
        items: Vec::new(),
        tenants: Vec::new(),
        within_days: 30,
        intervals: 3,
        channels: channels.iter().map(|c| c.to_string()).collect(),
    }
}

fn finding(rule: &str, subject: &str, tenant: Option<&str>) -> Finding {
    Finding {
        rule: rule.into(),
        subject: subject.into(),
        tenant: tenant.map(str::to_string),
        item: Some("Voice".into()),
        summary: format!("{subject} is over"),
        details: serde_json::json!({"measured": 12}),
        family: None,
    }
}

fn episode(id: i64, rule: &str, subject: &str) -> Episode {
    Episode {
        id,
        rule: rule.into(),
        subject: subject.into(),
        opened_at: 1_000,
        resolved_at: None,
        summary: format!("{subject} is over"),
        details: "{\"measured\":12}".into(),
    }
}

fn payload(c: &AlertChange, i: usize) -> Notification {
    serde_json::from_str(&c.notify[i].payload).unwrap()
}

#[test]
fn a_new_finding_opens_an_episode_with_one_notification_per_channel() {
    let rules = [rule("over", Condition::OverUse, &["chat", "mail"])];
    let f = [finding("over", "tenant=acme|Voice", Some("acme"))];
    let out = changes(&rules, &f, &[], &BTreeSet::new(), "Site", 5_000_000_000);
    assert_eq!(out.len(), 1);
    let c = &out[0];
    assert!(c.fire);
    assert_eq!(c.subject, "tenant=acme|Voice");
    let channels: Vec<&str> = c.notify.iter().map(|n| n.channel.as_str()).collect();
    assert_eq!(channels, ["chat", "mail"]);
    let n = payload(c, 0);
    assert_eq!(n.key, c.notify[0].key);
    assert_eq!(n.state.name(), "fired");
    assert_eq!(n.tenant.as_deref(), Some("acme"));
    assert_eq!(n.scope, "tenant");
    assert_eq!(n.at, "1970-01-01T00:00:05Z");
    // The key is the episode's (site, rule, subject, opening instant, state, channel).
    assert_eq!(
        c.notify[0].key,
        notification_key(
            "Site",
            "over",
            "tenant=acme|Voice",
            5_000_000_000,
            "fired",
            "chat"
        )
    );
    assert_ne!(c.notify[0].key, c.notify[1].key);
}

#[test]
fn a_finding_already_open_changes_nothing_and_one_gone_resolves_its_episode() {
    let rules = [rule("over", Condition::OverUse, &["chat"])];
    let open = [
        episode(1, "over", "system|Voice"),
        episode(2, "over", "tenant=acme|Voice"),
    ];
    let f = [finding("over", "system|Voice", None)];
    let out = changes(&rules, &f, &open, &BTreeSet::new(), "Site", 9_000);
    assert_eq!(out.len(), 1, "{out:?}");
    let c = &out[0];
    assert!(!c.fire);
    assert_eq!(c.subject, "tenant=acme|Voice");
    let n = payload(c, 0);
    assert_eq!(n.state.name(), "resolved");
    assert_eq!(n.tenant.as_deref(), Some("acme"));
    assert_eq!(n.item.as_deref(), Some("Voice"));
    assert!(n.summary.starts_with("resolved: "), "{}", n.summary);
    // The resolution's key is of the episode as opened, not of this check.
    assert_eq!(
        c.notify[0].key,
        notification_key(
            "Site",
            "over",
            "tenant=acme|Voice",
            1_000,
            "resolved",
            "chat"
        )
    );
}

#[test]
fn the_same_findings_twice_notify_once() {
    let rules = [rule("over", Condition::OverUse, &["chat"])];
    let f = [finding("over", "system|Voice", None)];
    let first = changes(&rules, &f, &[], &BTreeSet::new(), "Site", 1_000);
    assert_eq!(first.len(), 1);
    let open = [episode(7, "over", "system|Voice")];
    assert!(changes(&rules, &f, &open, &BTreeSet::new(), "Site", 2_000).is_empty());
}

#[test]
fn a_new_level_of_a_family_replaces_the_old_one_without_announcing_its_end() {
    let rules = [rule("expiry", Condition::Expiry, &["chat"])];
    let family = "expiry|genesys|VOICE|-|2027-01-31";
    let open = [episode(3, "expiry", &format!("{family}|60d"))];
    let mut f = finding("expiry", &format!("{family}|30d"), None);
    f.family = Some(family.into());
    let out = changes(&rules, &[f], &open, &BTreeSet::new(), "Site", 5_000);
    assert_eq!(out.len(), 2, "{out:?}");
    let closed = out.iter().find(|c| !c.fire).unwrap();
    assert_eq!(closed.subject, format!("{family}|60d"));
    assert!(closed.notify.is_empty(), "the 60-day warning ends silently");
    let opened = out.iter().find(|c| c.fire).unwrap();
    assert_eq!(opened.notify.len(), 1);
}

#[test]
fn a_restatement_has_no_end_to_announce() {
    let rules = [rule("restated", Condition::Restated, &["chat"])];
    let open = [episode(4, "restated", "system|Voice|2026-11-02|123")];
    let out = changes(&rules, &[], &open, &BTreeSet::new(), "Site", 5_000);
    assert_eq!(out.len(), 1);
    assert!(!out[0].fire);
    assert!(out[0].notify.is_empty());
}

#[test]
fn a_rule_not_checked_keeps_its_episodes_open() {
    let rules = [rule("collectors", Condition::CollectorFailing, &["chat"])];
    let open = [episode(5, "collectors", "collector=events")];
    let skipped: BTreeSet<String> = ["collectors".to_string()].into();
    assert!(changes(&rules, &[], &open, &skipped, "Site", 5_000).is_empty());
    // Checked and no longer failing: resolved.
    let out = changes(&rules, &[], &open, &BTreeSet::new(), "Site", 5_000);
    assert_eq!(out.len(), 1);
    assert_eq!(payload(&out[0], 0).state.name(), "resolved");
    assert_eq!(payload(&out[0], 0).item, None);
}

#[test]
fn the_end_of_a_tenant_s_expiry_warning_names_its_tenant_and_feature() {
    let rules = [rule("expiry", Condition::Expiry, &["chat"])];
    let open = [episode(
        6,
        "expiry",
        "expiry|entitlement|Voice|acme|2027-01-31|30d",
    )];
    let out = changes(&rules, &[], &open, &BTreeSet::new(), "Site", 5_000);
    let n = payload(&out[0], 0);
    assert_eq!(n.tenant.as_deref(), Some("acme"));
    assert_eq!(n.scope, "tenant");
    assert_eq!(n.item.as_deref(), Some("Voice"));
    let open = [episode(
        6,
        "expiry",
        "expiry|genesys.d|VOICE|-|2027-01-31|7d",
    )];
    let n = payload(
        &changes(&rules, &[], &open, &BTreeSet::new(), "Site", 5_000)[0],
        0,
    );
    assert_eq!((n.tenant, n.scope.as_str()), (None, "system"));
}
