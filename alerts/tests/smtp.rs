//! E-mail over SMTP to an in-process receiver on 127.0.0.1: the message arrives with its
//! subject, text and Message-ID from the idempotency key; a refusing server is an error
//! to retry, naming the server's answer.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use seatmeter_alerts::{AlertsConfig, Attempt, Channel, Notification, deliver};

/// A one-connection SMTP server; `refuse_rcpt` answers RCPT with 550. Sends the commands
/// and the message data it got.
fn smtp_server(refuse_rcpt: bool) -> (u16, mpsc::Receiver<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut w = conn.try_clone().unwrap();
        let mut r = BufReader::new(conn);
        let (mut commands, mut data) = (Vec::new(), String::new());
        w.write_all(b"220 localhost ESMTP test\r\n").unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let cmd = line.trim_end().to_string();
            commands.push(cmd.clone());
            let upper = cmd.to_ascii_uppercase();
            let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-localhost\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("RCPT") && refuse_rcpt {
                b"550 5.1.1 mailbox unavailable\r\n"
            } else if upper.starts_with("DATA") {
                w.write_all(b"354 go ahead\r\n").unwrap();
                loop {
                    line.clear();
                    r.read_line(&mut line).unwrap();
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                b"250 2.0.0 queued\r\n"
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            w.write_all(answer).unwrap();
        }
        let _ = tx.send((commands, data));
    });
    (port, rx)
}

fn channel(port: u16) -> Channel {
    let text = format!(
        "[[channel]]\nname = \"ops-mail\"\nkind = \"email\"\nsmtp = \"smtp://127.0.0.1:{port}\"\n\
         from = \"seatmeter <seatmeter@example.com>\"\nto = [\"ops@example.com\", \"finops@example.com\"]\n"
    );
    let cfg: AlertsConfig = toml::from_str(&text).unwrap();
    let mut a = cfg.check(&[], &|_| None).unwrap();
    a.channels.remove(0)
}

#[test]
fn the_receiver_gets_the_mail_with_its_subject_text_and_message_id() {
    let (port, rx) = smtp_server(false);
    let n = Notification::sample();
    let got = deliver(&channel(port), &n, Duration::from_secs(10));
    assert_eq!(got, Attempt::Delivered);
    let (commands, data) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        commands
            .iter()
            .any(|c| c == "MAIL FROM:<seatmeter@example.com>"),
        "{commands:?}"
    );
    let rcpt: Vec<&String> = commands
        .iter()
        .filter(|c| c.starts_with("RCPT TO:"))
        .collect();
    assert_eq!(rcpt.len(), 2, "{commands:?}");
    assert!(
        data.contains(&format!("Message-ID: <{}@seatmeter.example>", n.key)),
        "{data}"
    );
    assert!(
        data.contains("Subject: [seatmeter example] FIRED over-use"),
        "{data}"
    );
    assert!(data.contains(&n.summary), "{data}");
    assert!(data.contains("Tenant: acme"), "{data}");
    assert!(
        data.contains(&format!("Idempotency key: {}", n.key)),
        "{data}"
    );
}

#[test]
fn a_refusing_server_is_an_error_to_retry_with_its_answer() {
    let (port, _rx) = smtp_server(true);
    match deliver(
        &channel(port),
        &Notification::sample(),
        Duration::from_secs(10),
    ) {
        Attempt::Retry { after, error } => {
            assert_eq!(after, None);
            assert!(
                error.contains("550") || error.contains("mailbox unavailable"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_server_at_all_is_an_error_to_retry() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let got = deliver(
        &channel(port),
        &Notification::sample(),
        Duration::from_secs(5),
    );
    assert!(matches!(got, Attempt::Retry { .. }), "{got:?}");
}
