use super::*;
use crate::{Entitled, Granularity, ScopeKind};

fn sample(sections: usize, rows: usize) -> PdfReport {
    let item = |name: &str, over: bool| ItemSummary {
        item: name.into(),
        named: false,
        peak: 12,
        peak_at: Some("2026-10-25T10:10:00+00:00 – 10:20".into()),
        enabled: Some(15),
        entitled: Some(Entitled::Seats(10)),
        over_use_periods: over as u64,
        peaks: (0..rows as u64).map(|i| i % 13).collect(),
        enableds: vec![Some(15); rows],
        entitleds: vec![Some(Entitled::Seats(10)); rows],
        overs: (0..rows as u64).map(|i| i % 13 > 10).collect(),
        busiest: Some(DayRatio {
            day: "2026-10-25".into(),
            measured: 12,
            entitled: 10,
        }),
    };
    PdfReport {
        site: "Łódź contact center".into(),
        scope: Some(ScopeKind::Tenant),
        granularity: Some(Granularity::Daily),
        from: "2026-10-01".into(),
        to: "2026-10-31".into(),
        timezone: "Europe/Warsaw".into(),
        generated_at: "2026-11-01 00:00:00 UTC".into(),
        generated_unix: 1_793_491_200,
        generator: "seatmeter test".into(),
        digest: "ab".repeat(32),
        sections: (0..sections)
            .map(|s| Section {
                title: format!("Tenant t{s:04} 日本"),
                scope_id: format!("t{s:04}"),
                items: vec![item("Voice", s % 2 == 0), item("E-Mail", false)],
                over_use: vec![],
                rows: (0..rows)
                    .map(|i| RowLine {
                        period: format!("p{i}"),
                        item: "Voice".into(),
                        peak: i as u64,
                        peak_at: Some("2026-10-25T01:04:05+01:00".into()),
                        enabled: None,
                        entitled: None,
                        over_use: false,
                    })
                    .collect(),
                ticks: vec![(0, "Oct 1".into())],
            })
            .collect(),
        ..PdfReport::default()
    }
}

#[test]
fn period_labels() {
    use Granularity::*;
    assert_eq!(
        period_label(
            TenMin,
            "2026-10-25T00:50:00+01:00",
            "2026-10-25T01:00:00+01:00"
        ),
        "2026-10-25 00:50–01:00 +01:00"
    );
    assert_eq!(
        period_label(
            Hourly,
            "2026-10-25T01:00:00+01:00",
            "2026-10-25T01:00:00+00:00"
        ),
        "2026-10-25 01:00 +01:00 – 01:00 +00:00"
    );
    assert_eq!(
        period_label(
            Daily,
            "2026-10-25T00:00:00+01:00",
            "2026-10-26T00:00:00+00:00"
        ),
        "2026-10-25"
    );
    assert_eq!(
        period_label(
            Weekly,
            "2026-10-19T00:00:00+01:00",
            "2026-10-26T00:00:00+00:00"
        ),
        "2026-10-19 to 2026-10-25"
    );
    assert_eq!(
        period_label(
            Monthly,
            "2026-10-01T00:00:00+01:00",
            "2026-11-01T00:00:00+00:00"
        ),
        "2026-10"
    );
}

#[test]
fn same_model_same_bytes() {
    let r = sample(3, 40);
    assert_eq!(render(&r).unwrap(), render(&r).unwrap());
    let mut other = r.clone();
    other.digest = "cd".repeat(32);
    assert_ne!(render(&r).unwrap(), render(&other).unwrap());
}

#[test]
fn contents_pages_are_reserved_exactly() {
    // Enough sections for several pages of contents.
    let bytes = render(&sample(130, 3)).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
}
