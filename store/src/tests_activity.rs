//! The agent activity the rollup keeps with each day, on both stores.

use super::*;

#[test]
fn agent_activity_is_written_with_its_day_replaced_with_it_and_reset_with_it() {
    on_both("activity", |b| {
        let mut s = b.open();
        let act = |agent, logged| AgentActivity {
            agent,
            first_login: Some(1_793_491_200_000_000_000),
            last_login: (agent == 7).then_some(1_793_491_260_000_000_000),
            logged,
            items: vec![(0, logged), (5, logged / 2)],
            media: vec![(3, logged)],
            long: vec![],
        };
        let mut rec = DayRecord {
            day: 20_400,
            start_fp: [1; 32],
            end_state: Vec::new(),
            events: 2,
            sessions: 1,
            stray_logouts: 0,
            activity: codec::encode_activity(&[act(7, 600_000_000_000), act(70_000, 1)]),
        };
        s.write_day(&rec, &[], &[]).unwrap();
        let day2 = DayRecord {
            day: 20_401,
            activity: codec::encode_activity(&[AgentActivity {
                agent: 2,
                ..Default::default()
            }]),
            ..rec.clone()
        };
        s.write_day(&day2, &[], &[]).unwrap();
        assert_eq!(
            s.activity(20_400, 20_401).unwrap(),
            vec![
                (20_400, vec![act(7, 600_000_000_000), act(70_000, 1)]),
                (
                    20_401,
                    vec![AgentActivity {
                        agent: 2,
                        ..Default::default()
                    }]
                )
            ],
            "{}",
            b.name()
        );
        assert!(s.activity(20_402, 20_500).unwrap().is_empty());
        // Rolled up again: the day's activity is replaced, not added to.
        rec.activity = codec::encode_activity(&[act(9, 5)]);
        s.write_day(&rec, &[], &[]).unwrap();
        assert_eq!(
            s.activity(20_400, 20_400).unwrap(),
            vec![(20_400, vec![act(9, 5)])]
        );
        s.reset_rollups().unwrap();
        assert!(s.activity(0, 30_000).unwrap().is_empty());
    });
}
