//! Alert episodes and the outbox, on both stores.

use super::*;
use crate::alerts::{AlertChange, Attempted, NewNotification, OutboxState};

fn change(rule: &str, subject: &str, fire: bool, channels: &[&str]) -> AlertChange {
    let state = if fire { "fired" } else { "resolved" };
    AlertChange {
        rule: rule.into(),
        subject: subject.into(),
        fire,
        summary: format!("{rule} {subject} {state}"),
        details: "{}".into(),
        notify: channels
            .iter()
            .map(|c| NewNotification {
                key: format!("{rule}/{subject}/{state}/{c}"),
                channel: c.to_string(),
                payload: format!("{{\"state\":\"{state}\"}}"),
            })
            .collect(),
    }
}

#[test]
fn one_episode_per_condition_and_its_notifications_in_one_transaction() {
    on_both("alert_episodes", |b| {
        let mut s = b.open();
        let fired = s
            .apply_alerts(
                &[change("over", "acme/Voice", true, &["hook", "mail"])],
                100,
            )
            .unwrap();
        assert_eq!(fired.len(), 1);
        // The same condition found again: nothing new, however often it is checked.
        for at in [200, 300] {
            let again = s
                .apply_alerts(&[change("over", "acme/Voice", true, &["hook", "mail"])], at)
                .unwrap();
            assert!(again.is_empty());
        }
        // Resolving what is not open changes nothing.
        assert!(
            s.apply_alerts(&[change("over", "beta/Voice", false, &["hook"])], 300)
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.outbox().unwrap().len(), 2, "one per channel");
        let resolved = s
            .apply_alerts(
                &[change("over", "acme/Voice", false, &["hook", "mail"])],
                400,
            )
            .unwrap();
        assert_eq!(resolved[0].resolved_at, Some(400));
        // A new episode of the same condition opens after the first resolved.
        s.apply_alerts(&[change("over", "acme/Voice", true, &["hook"])], 500)
            .unwrap();
        let all = s.alert_episodes(false).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(s.alert_episodes(true).unwrap().len(), 1);
        let out = s.outbox().unwrap();
        assert_eq!(
            out.len(),
            4,
            "fired ×2, resolved ×2 … and the second firing's key exists"
        );
        assert!(out.iter().all(|e| e.state == OutboxState::Pending));
    });
}

#[test]
fn the_outbox_gives_each_rule_in_order_and_keeps_what_failed() {
    on_both("outbox", |b| {
        let mut s = b.open();
        s.apply_alerts(
            &[
                change("r1", "a", true, &["hook"]),
                change("r1", "b", true, &["hook"]),
                change("r2", "a", true, &["hook"]),
            ],
            10,
        )
        .unwrap();
        let due = s.outbox_due(10).unwrap();
        let heads: Vec<_> = due
            .iter()
            .map(|e| (e.rule.as_str(), e.key.as_str()))
            .collect();
        assert_eq!(
            heads,
            [("r1", "r1/a/fired/hook"), ("r2", "r2/a/fired/hook")],
            "the oldest of each rule only"
        );
        let (first, other) = (due[0].id, due[1].id);
        s.outbox_record(
            first,
            &Attempted::Retry {
                next_at: 50,
                error: "HTTP 500".into(),
            },
            11,
        )
        .unwrap();
        s.outbox_record(other, &Attempted::Delivered, 11).unwrap();
        // r1's head waits until 50, and r1/b waits behind it.
        assert!(s.outbox_due(20).unwrap().is_empty());
        let due = s.outbox_due(50).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].id, due[0].attempts), (first, 1));
        assert_eq!(due[0].last_error.as_deref(), Some("HTTP 500"));
        s.outbox_record(
            first,
            &Attempted::Dead {
                error: "gave up".into(),
            },
            60,
        )
        .unwrap();
        // The next of r1 goes on; the dead one is kept, and can be sent again.
        let due = s.outbox_due(60).unwrap();
        assert_eq!(due[0].key, "r1/b/fired/hook");
        assert_eq!(s.outbox_retry(None, 70).unwrap(), 1);
        let due = s.outbox_due(70).unwrap();
        assert_eq!(due[0].id, first, "back at the head of its rule");
        assert!(s.outbox_acknowledge(first, 80).unwrap());
        assert!(
            !s.outbox_acknowledge(other, 80).unwrap(),
            "delivered stays delivered"
        );
        // An attempt that ends after a person acknowledged it does not bring it back.
        s.outbox_record(first, &Attempted::Delivered, 90).unwrap();
        let states: Vec<_> = s.outbox().unwrap().iter().map(|e| e.state).collect();
        assert_eq!(
            states,
            [
                OutboxState::Acknowledged,
                OutboxState::Pending,
                OutboxState::Delivered
            ]
        );
        // Written twice (a check repeated after a crash): one notification per key.
        let mut s2 = b.open();
        s2.apply_alerts(&[change("r3", "x", true, &["hook"])], 100)
            .unwrap();
        assert_eq!(s2.outbox().unwrap().len(), 4);
    });
}
