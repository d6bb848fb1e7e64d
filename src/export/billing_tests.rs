//! Tests of the billing export (billing.rs).
use super::*;

#[test]
fn a_minimum_is_prorated_half_up() {
    // 50.00 × 22 / 31 = 110000 / 31 = 3548.39 cents: 3548.
    assert_eq!(prorate(5000, 22, 31), 3548);
    // 40.00 × 17 / 31 = 68000 / 31 = 2193.55 cents: 2194.
    assert_eq!(prorate(4000, 17, 31), 2194);
    // 0.01 × 1 / 2 = 0.5 cents: half up, 1; 0.01 × 1 / 3 = 0.33: 0.
    assert_eq!(prorate(1, 1, 2), 1);
    assert_eq!(prorate(1, 1, 3), 0);
    assert_eq!(prorate(5000, 31, 31), 5000);
    assert_eq!(prorate(5000, 0, 31), 0);
}

#[test]
fn file_names_are_safe_and_distinct() {
    assert_eq!(file_part("acme"), "acme");
    assert_eq!(file_part("05-acme.eu"), "05-acme.eu");
    let odd = file_part("Acme GmbH/Süd");
    assert!(
        odd.starts_with("acme_gmbh_s_d~") && odd.len() == 13 + 1 + 16,
        "{odd}"
    );
    assert_ne!(file_part("a/b"), file_part("a_b"));
    // Case-insensitively distinct too: "Acme" is not "acme".
    assert_ne!(file_part("Acme").to_lowercase(), file_part("acme"));
    assert_ne!(file_part("ACME"), file_part("Acme"));
    // A long name is cut and hashed; two that share their first 48 bytes still differ.
    let long_a = format!("{}a", "x".repeat(300));
    let long_b = format!("{}b", "x".repeat(300));
    assert!(file_part(&long_a).len() <= 65);
    assert_ne!(file_part(&long_a), file_part(&long_b));
    for odd in ["", ".hidden", "..", "a\u{0}b", "../../etc/passwd", &long_a] {
        let f = tenant_file("2026-10-05", odd);
        assert!(f.len() < 255 && !f.contains(['/', '\\', '\0']), "{f}");
        assert!(f.starts_with("seatmeter-billing-2026-10-05-tenant-"), "{f}");
    }
    // The reserved files and the days of the month are never a tenant's file.
    assert_ne!(
        tenant_file("2026-10", "05-acme"),
        tenant_file("2026-10-05", "acme")
    );
    for reserved in ["summary", "manifest", "INCOMPLETE"] {
        assert!(tenant_file("2026-10", reserved).contains("-tenant-"));
    }
}
