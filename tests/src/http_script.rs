//! A scripted HTTP server on loopback for the adapters' HTTP client tests: it answers
//! each connection, in order, with the next canned response (bytes as given, then
//! close) and records the request heads it read.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The responder: one connection per canned response, then it stops accepting.
#[derive(Debug)]
pub struct HttpScript {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl HttpScript {
    /// Listens on `127.0.0.1`, answering the n-th connection with `responses[n]`.
    /// `{addr}` in a response is replaced by the listening address.
    pub fn start(responses: Vec<String>) -> HttpScript {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bound");
        let addr = listener.local_addr().expect("address");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        // Detached: it ends with its script, or with the test process.
        std::thread::spawn(move || {
            for response in responses {
                let Ok((mut s, _)) = listener.accept() else {
                    return;
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut byte = [0; 1];
                while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                seen.lock()
                    .expect("heads")
                    .push(String::from_utf8_lossy(&head).into_owned());
                let response = response.replace("{addr}", &addr.to_string());
                let _ = s.write_all(response.as_bytes());
                // Whatever body the client sends is left unread; closing now may reset
                // the connection, so let it finish first.
                let _ = s.shutdown(std::net::Shutdown::Write);
                let mut rest = [0; 4096];
                while s.read(&mut rest).unwrap_or(0) > 0 {}
            }
        });
        HttpScript { addr, heads }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The request heads read so far, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("heads").clone()
    }
}
