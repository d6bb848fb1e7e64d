use super::*;

fn parse(text: &str) -> AlertsConfig {
    toml::from_str(text).unwrap()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn items() -> Vec<String> {
    vec!["Inbound Voice".into(), "E-Mail".into()]
}

#[test]
fn a_full_section_checks_into_channels_and_rules() {
    let env = |k: &str| (k == "HOOK_SECRET").then(|| "s3cret".to_string());
    let a = parse(
        r#"
dead_letter_after = "2h"
retry_base = "5s"
[[channel]]
name = "chat"
kind = "webhook"
url = "https://hooks.slack.com/services/T/B/X"
template = "slack"
secret_env = "HOOK_SECRET"
headers = { Authorization = "Bearer abc" }
[[channel]]
name = "mail"
kind = "email"
smtp = "smtp://127.0.0.1:2525"
from = "seatmeter <seatmeter@example.com>"
to = ["ops@example.com"]
[[rule]]
name = "over-use"
condition = "over_use"
items = ["Inbound Voice"]
channels = ["chat", "mail"]
[[rule]]
name = "soon"
condition = "forecast"
within_days = 14
channels = ["chat"]
"#,
    )
    .check(&items(), &env)
    .unwrap();
    assert_eq!(a.dead_letter_after, Duration::from_secs(7200));
    assert_eq!(a.retry_base, Duration::from_secs(5));
    assert_eq!(a.retry_max, Duration::from_secs(900), "the default");
    assert_eq!(a.channels.len(), 2);
    let ChannelKind::Webhook(w) = &a.channels[0].kind else {
        panic!()
    };
    assert_eq!(w.secret, Some(Secret("s3cret".into())));
    assert_eq!(w.template, Template::Slack);
    assert!(
        !format!("{a:?}").contains("s3cret"),
        "secrets stay out of Debug"
    );
    assert_eq!(a.rules[1].within_days, 14);
    assert_eq!(a.rules[0].within_days, 30);
    assert_eq!(a.rules[0].condition, Condition::OverUse);
}

#[test]
fn each_mistake_is_one_sentence_at_its_rule_or_channel() {
    let text = r#"timeout = "soon"
[[channel]]
name = "bad-url"
kind = "webhook"
url = "not a url"
[[channel]]
name = "bad-template"
kind = "webhook"
url = "http://127.0.0.1:9/x"
template = "custom"
body = "{{nope}}"
[[channel]]
name = "bad-smtp"
kind = "email"
smtp = "gopher://mail"
from = "a@b.c"
to = ["d@e.f"]
[[channel]]
name = "no-secret"
kind = "webhook"
url = "http://127.0.0.1:9/x"
secret_env = "MISSING"
[[rule]]
name = "unknown-item"
condition = "over_use"
items = ["Outbound"]
[[rule]]
name = "unknown-channel"
condition = "expiry"
channels = ["pager"]
[[rule]]
name = "misplaced"
condition = "over_use"
within_days = 3
"#;
    let errors = parse(text).check(&items(), &no_env).unwrap_err();
    let texts: Vec<&str> = errors.iter().map(|(_, e)| e.as_str()).collect();
    assert_eq!(errors.len(), 8, "{texts:#?}");
    assert!(texts[0].starts_with("timeout = \"soon\""));
    assert_eq!(errors[0].0, None);
    assert!(
        texts[1].contains("bad-url") && texts[1].contains("url"),
        "{}",
        texts[1]
    );
    assert!(texts[2].contains("does not render") && texts[2].contains("{{nope}}"));
    assert!(texts[3].contains("bad-smtp") && texts[3].contains("smtp"));
    assert!(texts[4].contains("MISSING") && texts[4].contains("not set"));
    assert!(texts[5].contains("unknown item \"Outbound\""));
    assert!(texts[6].contains("no [[alerts.channel]] is named \"pager\""));
    assert!(texts[7].contains("within_days is for condition = \"forecast\""));
    // Each error's offset is where its table starts.
    for (at, name) in [(errors[1].0, "bad-url"), (errors[5].0, "unknown-item")] {
        let at = at.unwrap();
        assert!(
            text[at..].contains(name) && text[at..].find(name).unwrap() < 40,
            "{name}"
        );
    }
    assert!(
        toml::from_str::<AlertsConfig>("[[rule]]\nname = \"x\"\ncondition = \"overuse\"").is_err()
    );
}
