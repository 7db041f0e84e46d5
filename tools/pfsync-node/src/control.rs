//! The control channel: a unix stream socket speaking JSON lines.
//!
//! One request per line, one response line per request, in order. The server
//! side only frames lines and parses JSON; what a request means is decided by
//! the node's event loop. Replies are written blocking (a test client reads
//! them at once), so a client that stops reading only stalls itself and us,
//! never loses data.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Longest request line accepted; a state with every field fits in a few KiB.
const MAX_LINE: usize = 1 << 20;

pub type ClientId = u64;

struct Client {
    id: ClientId,
    stream: UnixStream,
    pending: Vec<u8>,
    /// The peer hung up (or misbehaved); kept one more round so replies to
    /// its last requests can still be attempted.
    eof: bool,
}

pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    clients: Vec<Client>,
    next_id: ClientId,
}

/// A parsed request line, or the reason it could not be parsed.
pub struct Request {
    pub client: ClientId,
    pub body: Result<Value, String>,
}

impl ControlServer {
    pub fn bind(path: &Path) -> io::Result<ControlServer> {
        // A stale socket from a killed run would make bind fail with EADDRINUSE.
        if path.exists() {
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(ControlServer {
            listener,
            path: path.to_path_buf(),
            clients: Vec::new(),
            next_id: 1,
        })
    }

    /// Descriptors to poll for readability: the listener first, then every client.
    pub fn fds(&self) -> Vec<RawFd> {
        std::iter::once(self.listener.as_raw_fd())
            .chain(
                self.clients
                    .iter()
                    .filter(|c| !c.eof)
                    .map(|c| c.stream.as_raw_fd()),
            )
            .collect()
    }

    /// Accepts new clients and reads whatever is readable; returns complete requests.
    pub fn service(&mut self) -> Vec<Request> {
        self.clients.retain(|c| !c.eof);
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_ok() {
                        self.clients.push(Client {
                            id: self.next_id,
                            stream,
                            pending: Vec::new(),
                            eof: false,
                        });
                        self.next_id += 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
        let mut requests = Vec::new();
        for client in &mut self.clients {
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match client.stream.read(&mut chunk) {
                    Ok(0) => {
                        client.eof = true;
                        break;
                    }
                    Ok(n) => client.pending.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        client.eof = true;
                        break;
                    }
                }
            }
            while let Some(nl) = client.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = client.pending.drain(..=nl).collect();
                let text = String::from_utf8_lossy(&line);
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                requests.push(Request {
                    client: client.id,
                    body: serde_json::from_str(text).map_err(|e| format!("bad JSON: {e}")),
                });
            }
            if client.pending.len() > MAX_LINE {
                client.eof = true;
            }
        }
        requests
    }

    pub fn reply(&mut self, client: ClientId, response: &Value) {
        let Some(c) = self.clients.iter_mut().find(|c| c.id == client) else {
            return;
        };
        let mut line = response.to_string();
        line.push('\n');
        let ok = c.stream.set_nonblocking(false).is_ok()
            && c.stream.write_all(line.as_bytes()).is_ok()
            && c.stream.set_nonblocking(true).is_ok();
        if !ok {
            self.clients.retain(|c| c.id != client);
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub fn ok(extra: Value) -> Value {
    let mut v = json!({ "ok": true });
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

pub fn error(msg: impl Into<String>) -> Value {
    json!({ "ok": false, "error": msg.into() })
}

/// Client side: send each request, print each response line to stdout.
/// Returns false if any response carried `"ok": false`.
pub fn run_client(path: &Path, requests: &[String], wait: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + wait;
    let stream = loop {
        match UnixStream::connect(path) {
            Ok(s) => break s,
            // The node may still be starting: its socket appears when it is ready.
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e),
        }
    };
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut all_ok = true;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for req in requests {
        let compact = serde_json::from_str::<Value>(req)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{req}: {e}")))?
            .to_string();
        writer.write_all(compact.as_bytes())?;
        writer.write_all(b"\n")?;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "node closed the control connection",
            ));
        }
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if v.get("ok") != Some(&Value::Bool(true)) {
                all_ok = false;
            }
        }
        out.write_all(line.as_bytes())?;
    }
    Ok(all_ok)
}
