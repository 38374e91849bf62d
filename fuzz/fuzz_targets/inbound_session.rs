//! The inbound SMTP session faces the Internet: any byte stream ends the session cleanly
//! (no panic, bounded memory), whatever state it reaches.
#![no_main]
use std::sync::OnceLock;
use std::time::Duration;

use herald_inbound::{Handler, Limits, ServerReply, session};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Accept;

impl Handler for Accept {
    fn rcpt(&self, _from: &str, rcpt: &str) -> ServerReply {
        if rcpt.starts_with("b+") {
            ServerReply::new(250, "2.1.5", "Ok")
        } else {
            ServerReply::new(550, "5.1.1", "No such recipient here")
        }
    }
    fn data(&self, _from: &str, _rcpts: &[String], _message: &[u8]) -> ServerReply {
        ServerReply::new(250, "2.0.0", "Ok")
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let limits = Limits {
            max_message_bytes: 64 * 1024,
            max_recipients: 5,
            timeout: Duration::from_millis(50),
            ..Limits::default()
        };
        let serving = tokio::spawn(async move {
            let _ = session(server, &Accept, &limits).await;
        });
        let _ = client.write_all(data).await;
        let _ = client.shutdown().await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(1), client.read_to_end(&mut out)).await;
        let _ = serving.await;
    });
});
