//! SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA. A bare-LF "end of data" followed by a
//! second transaction stays inside the first message; the server sees one message.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_inbound::{Handler, Limits, ServerReply, session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// (MAIL FROM, RCPT TOs, message) of one accepted transaction.
type Accepted = (String, Vec<String>, Vec<u8>);

#[derive(Default)]
struct Record(Mutex<Vec<Accepted>>);

impl Handler for Record {
    fn rcpt(&self, _from: &str, _rcpt: &str) -> ServerReply {
        ServerReply::new(250, "2.1.5", "Ok")
    }
    fn data(&self, from: &str, rcpts: &[String], message: &[u8]) -> ServerReply {
        self.0
            .lock()
            .unwrap()
            .push((from.into(), rcpts.to_vec(), message.to_vec()));
        ServerReply::new(250, "2.0.0", "Ok")
    }
}

async fn converse(input: &[u8]) -> (String, Vec<Accepted>) {
    let handler = Arc::new(Record::default());
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let h = handler.clone();
    let serving = tokio::spawn(async move {
        let limits = Limits {
            timeout: Duration::from_secs(2),
            ..Limits::default()
        };
        let _ = session(server, h.as_ref(), &limits).await;
    });
    client.write_all(input).await.unwrap();
    client.shutdown().await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    serving.await.unwrap();
    let got = handler.0.lock().unwrap().clone();
    (String::from_utf8_lossy(&out).into_owned(), got)
}

#[tokio::test]
async fn bare_lf_dot_does_not_end_data() {
    for end in [&b"\n.\n"[..], b"\r\n.\n", b"\n.\r\n", b"\r.\r\n"] {
        let mut input = b"EHLO a.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b+1.x@bounces.b.test>\r\nDATA\r\nSubject: one\r\n\r\nfirst".to_vec();
        input.extend_from_slice(end);
        input.extend_from_slice(
            b"MAIL FROM:<evil@c.test>\r\nRCPT TO:<victim@b.test>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n",
        );
        let (replies, messages) = converse(&input).await;
        assert_eq!(messages.len(), 1, "{end:?}: {replies}");
        let (from, rcpts, body) = &messages[0];
        assert_eq!(from, "a@a.test");
        assert_eq!(rcpts, &vec!["b+1.x@bounces.b.test".to_string()]);
        assert!(
            String::from_utf8_lossy(body).contains("smuggled"),
            "the smuggled part stayed inside the first message"
        );
    }
}

#[tokio::test]
async fn no_starttls_without_a_certificate() {
    let (replies, _) = converse(b"EHLO a.test\r\nSTARTTLS\r\nQUIT\r\n").await;
    assert!(!replies.contains("250-STARTTLS"), "{replies}");
    assert!(replies.contains("454 4.7.0"), "{replies}");
}
