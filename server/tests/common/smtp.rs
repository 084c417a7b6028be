//! A real SMTP server for tests: it speaks the protocol over TCP on a local
//! port (greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET,
//! NOOP, QUIT) and keeps every message it accepts. It can be stopped
//! (closing every open connection) and started again on the same port, to
//! test what happens while the mail server is down.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body, CRLF lines).
    pub data: String,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Vec<Received>>>,
    task: Option<JoinHandle<()>>,
}

impl SmtpServer {
    /// The demo app's settings with its email sent here, in plain SMTP.
    pub fn demo_config(&self) -> app::server::config::Config {
        use app::server::config::{Config, Smtp, SmtpTls};
        Config {
            demo: true,
            smtp: Some(Smtp {
                host: "127.0.0.1".into(),
                port: self.addr.port(),
                tls: SmtpTls::None,
                username: None,
                password: None,
            }),
            ..Config::default()
        }
    }

    pub async fn start() -> SmtpServer {
        Self::listen("127.0.0.1:0".parse().unwrap(), Arc::default()).await
    }

    async fn listen(addr: SocketAddr, inbox: Arc<Mutex<Vec<Received>>>) -> SmtpServer {
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the test SMTP port");
        let addr = listener.local_addr().unwrap();
        let kept = inbox.clone();
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) closes every
            // connection, as a server going down would.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(session(stream, kept.clone()));
            }
        });
        SmtpServer {
            addr,
            inbox,
            task: Some(task),
        }
    }

    /// Stops listening and drops every connection.
    pub async fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Starts again on the same port, keeping what was received.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut again = Self::listen(self.addr, self.inbox.clone()).await;
        self.task = again.task.take();
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

async fn session(stream: TcpStream, inbox: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write
        .write_all(b"220 test.local ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let answer: &str = if upper.starts_with("EHLO") {
            "250-test.local\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") {
            "250 test.local\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].trim().to_string();
            to.clear();
            "250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(cmd[8..].trim().to_string());
            "250 OK\r\n"
        } else if upper == "DATA" {
            if write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = String::new();
            loop {
                let mut l = String::new();
                match lines.read_line(&mut l).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                // Dot-stuffing (RFC 5321 §4.5.2).
                let l = l.strip_prefix('.').map(str::to_string).unwrap_or(l);
                data.push_str(&l);
            }
            inbox.lock().unwrap().push(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            "250 OK: queued\r\n"
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            "250 OK\r\n"
        } else if upper == "NOOP" {
            "250 OK\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 Bye\r\n").await;
            return;
        } else {
            "502 Command not implemented\r\n"
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
