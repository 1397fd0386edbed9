//! The control socket: a Unix stream socket with a line protocol. Each
//! line a client sends is one command; the daemon's core loop answers it
//! (one or more lines) through a [`ControlRequest`]. Roles decide what the
//! commands mean; this module only carries them.
//!
//! A path starting with `@` names a Linux abstract socket (`@hmip6-ref-mn`):
//! those belong to the network namespace, so every case's IUT, in its own
//! namespace, can use the same name, and nothing is left on disk when the
//! daemon is killed. [`request`] is the client (`hmip6-ref ctl`).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::thread;

/// One command line from a client, with the way back.
#[derive(Debug)]
pub struct ControlRequest {
    /// The command, trimmed.
    pub command: String,
    reply: Sender<String>,
}

impl ControlRequest {
    /// Answer with `text` (a newline is added if missing).
    pub fn answer(self, text: impl Into<String>) {
        let _ = self.reply.send(text.into());
    }
}

/// Removes the socket file (if it is one) when dropped.
#[derive(Debug)]
pub struct ControlSocket {
    path: Option<PathBuf>,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The abstract name of `path` when it is `@NAME`.
fn abstract_name(path: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().strip_prefix(b"@")
}

/// Send one command to the daemon listening on `path` and return its whole
/// answer.
pub fn request(path: &Path, command: &str) -> io::Result<String> {
    let mut conn = match abstract_name(path) {
        Some(name) => UnixStream::connect_addr(&SocketAddr::from_abstract_name(name)?)?,
        None => UnixStream::connect(path)?,
    };
    conn.write_all(command.trim().as_bytes())?;
    conn.write_all(b"\n")?;
    // The daemon answers, sees the end of the commands and closes.
    conn.shutdown(Shutdown::Write)?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    Ok(answer)
}

/// Listen on `path` (a stale socket file there is replaced) and forward
/// every command line to `tx` as `wrap(request)`.
pub fn serve<E: Send + 'static>(
    path: &Path,
    tx: Sender<E>,
    wrap: fn(ControlRequest) -> E,
) -> io::Result<ControlSocket> {
    let (listener, file) = match abstract_name(path) {
        Some(name) => (
            UnixListener::bind_addr(&SocketAddr::from_abstract_name(name)?)?,
            None,
        ),
        None => {
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                use std::os::unix::fs::FileTypeExt;
                if meta.file_type().is_socket() {
                    std::fs::remove_file(path)?;
                }
            }
            (UnixListener::bind(path)?, Some(path.to_path_buf()))
        }
    };
    thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let tx = tx.clone();
                let _ = thread::Builder::new()
                    .name("control-conn".into())
                    .spawn(move || {
                        let _ = client(conn, tx, wrap);
                    });
            }
        })?;
    Ok(ControlSocket { path: file })
}

fn client<E>(conn: UnixStream, tx: Sender<E>, wrap: fn(ControlRequest) -> E) -> io::Result<()> {
    let mut out = conn.try_clone()?;
    for line in BufReader::new(conn).lines() {
        let line = line?;
        let command = line.trim().to_string();
        if command.is_empty() {
            continue;
        }
        let (rtx, rrx) = mpsc::channel();
        if tx
            .send(wrap(ControlRequest {
                command: command.clone(),
                reply: rtx,
            }))
            .is_err()
        {
            return Ok(());
        }
        let Ok(mut text) = rrx.recv() else {
            return Ok(());
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        out.write_all(text.as_bytes())?;
        out.flush()?;
        if command == "quit" {
            return Ok(());
        }
    }
    Ok(())
}

/// A multi-line answer: one line per item, then a line `.`.
pub fn lines<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut out = String::new();
    for i in items {
        out.push_str(&i.to_string());
        out.push('\n');
    }
    out.push('.');
    out
}
