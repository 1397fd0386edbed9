//! Processes started inside a namespace (the IUT, helper tools).
//!
//! Guarantees: the child enters the namespace before `exec` (setns in
//! `pre_exec`), its stdout and stderr are kept for reports, it is killed (with
//! its whole process group) when its handle drops, and it dies with the
//! harness even on SIGKILL (`PR_SET_PDEATHSIG`).

use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::io::unix::AsyncFd;
use tokio::sync::watch;
use tokio::time::Instant;

use super::netns::NetNs;

/// Which output stream of a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Default)]
struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_eof: bool,
    stderr_eof: bool,
}

/// A process running inside a namespace. Killed (SIGKILL to its process
/// group) and reaped when dropped.
pub struct NsChild {
    child: Option<Child>,
    pid: u32,
    output: Arc<Mutex<Output>>,
    changed: watch::Receiver<u64>,
    status: Option<ExitStatus>,
}

type Job = Box<dyn FnOnce() + Send>;

/// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not
/// the process. All forks therefore happen on one thread that lives as long
/// as the process, so children die exactly when the harness dies.
fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("hmip6spec-spawner".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .expect("cannot start the process spawner thread");
        Mutex::new(tx)
    })
}

impl NsChild {
    /// Starts `cmd` inside `ns`. stdin is /dev/null; stdout and stderr are
    /// captured (see [`NsChild::stdout`], [`NsChild::wait_for_line`]).
    pub fn spawn(ns: &NetNs, mut cmd: Command) -> io::Result<NsChild> {
        // Duplicate the namespace fd so the child setup does not depend on
        // the NetNs outliving the fork; closed again right after spawning.
        let ns_fd: OwnedFd = ns.as_fd_dup()?;
        let raw_ns: RawFd = ns_fd.as_raw_fd();
        let parent = std::process::id() as libc::pid_t;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: the closure only makes async-signal-safe syscalls.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(raw_ns, libc::CLONE_NEWNET) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // Own process group, so a drop kills the IUT's helpers too.
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                // The harness may have died between fork and prctl.
                if libc::getppid() != parent {
                    libc::_exit(127);
                }
                Ok(())
            });
        }
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(cmd.spawn());
        });
        spawner()
            .lock()
            .map_err(|_| io::Error::other("spawner lock poisoned"))?
            .send(job)
            .map_err(|_| io::Error::other("spawner thread is gone"))?;
        let mut child = rx
            .recv()
            .map_err(|_| io::Error::other("spawner thread is gone"))??;
        drop(ns_fd);
        let pid = child.id();
        let output = Arc::new(Mutex::new(Output::default()));
        let (changed_tx, changed) = watch::channel(0u64);
        let changed_tx = Arc::new(changed_tx);
        if let Some(out) = child.stdout.take() {
            start_reader(out, Stream::Stdout, output.clone(), changed_tx.clone())?;
        }
        if let Some(err) = child.stderr.take() {
            start_reader(err, Stream::Stderr, output.clone(), changed_tx)?;
        }
        Ok(NsChild {
            child: Some(child),
            pid,
            output,
            changed,
            status: None,
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Everything the child wrote to stdout so far (lossy UTF-8).
    pub fn stdout(&self) -> String {
        self.snapshot(Stream::Stdout)
    }

    /// Everything the child wrote to stderr so far (lossy UTF-8).
    pub fn stderr(&self) -> String {
        self.snapshot(Stream::Stderr)
    }

    fn snapshot(&self, stream: Stream) -> String {
        let out = self.output.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = match stream {
            Stream::Stdout => &out.stdout,
            Stream::Stderr => &out.stderr,
        };
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// Waits until a complete line of `stream` satisfies `pred` (e.g. the
    /// IUT's "ready" line) and returns it; `None` at the deadline or when the
    /// stream closed without such a line.
    pub async fn wait_for_line(
        &self,
        stream: Stream,
        deadline: Instant,
        mut pred: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        let mut changed = self.changed.clone();
        let mut seen = 0usize;
        loop {
            let eof = {
                let out = self.output.lock().unwrap_or_else(|p| p.into_inner());
                let (bytes, eof) = match stream {
                    Stream::Stdout => (&out.stdout, out.stdout_eof),
                    Stream::Stderr => (&out.stderr, out.stderr_eof),
                };
                while let Some(nl) = bytes[seen..].iter().position(|&b| b == b'\n') {
                    let line = String::from_utf8_lossy(&bytes[seen..seen + nl]).into_owned();
                    seen += nl + 1;
                    if pred(&line) {
                        return Some(line);
                    }
                }
                eof
            };
            if eof {
                return None;
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                // Readers gone (EOF on both) or deadline passed.
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// Returns the exit status if the child has exited, without blocking.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(st) = self.status {
            return Ok(Some(st));
        }
        match self.child.as_mut() {
            Some(c) => {
                let st = c.try_wait()?;
                self.status = st;
                Ok(st)
            }
            None => Err(io::Error::other("child already reaped")),
        }
    }

    /// Waits for the child to exit, up to `deadline`; `Ok(None)` on timeout.
    /// Event-driven: a pidfd becomes readable when the process exits. On
    /// exit it also waits (same deadline) until stdout and stderr are read
    /// to their end, so [`NsChild::stdout`] is then complete.
    pub async fn wait_until(&mut self, deadline: Instant) -> io::Result<Option<ExitStatus>> {
        let st = match self.try_wait()? {
            Some(st) => st,
            None => {
                // SAFETY: the OwnedFd is moved into the AsyncFd and neither
                // closed nor replaced while registered.
                let pidfd = unsafe { AsyncFd::register(pidfd_open(self.pid)?)? };
                match tokio::time::timeout_at(deadline, pidfd.readable()).await {
                    Ok(guard) => drop(guard?),
                    Err(_) => return Ok(None),
                }
                match self.try_wait()? {
                    Some(st) => st,
                    None => return Ok(None),
                }
            }
        };
        self.wait_output_eof(deadline).await;
        Ok(Some(st))
    }

    /// Waits until both output pipes reached EOF, or `deadline` (a helper
    /// process that inherited the pipes may keep them open).
    async fn wait_output_eof(&self, deadline: Instant) {
        let mut changed = self.changed.clone();
        loop {
            {
                let out = self.output.lock().unwrap_or_else(|p| p.into_inner());
                if out.stdout_eof && out.stderr_eof {
                    return;
                }
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return,
            }
        }
    }

    /// Sends SIGKILL to the child's process group and reaps the child.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(st) = self.status {
            return Ok(st);
        }
        let Some(child) = self.child.as_mut() else {
            return Err(io::Error::other("child already reaped"));
        };
        // SAFETY: kill(2) on the group we created for this child in pre_exec.
        unsafe {
            libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL);
        }
        let _ = child.kill();
        let st = child.wait()?;
        self.status = Some(st);
        Ok(st)
    }
}

impl Drop for NsChild {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.kill();
        } else {
            // Exited on its own; still clear out any helper it left behind.
            // SAFETY: kill(2) on the process group created for this child.
            unsafe {
                libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL);
            }
        }
    }
}

impl std::fmt::Debug for NsChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NsChild")
            .field("pid", &self.pid)
            .field("status", &self.status)
            .finish()
    }
}

/// Reads one pipe to EOF in a plain thread (independent of any runtime) and
/// notifies waiters after each chunk.
fn start_reader<R: Read + Send + 'static>(
    mut pipe: R,
    stream: Stream,
    output: Arc<Mutex<Output>>,
    changed: Arc<watch::Sender<u64>>,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("hmip6spec-child-output".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                {
                    let mut out = output.lock().unwrap_or_else(|p| p.into_inner());
                    match (stream, n) {
                        (Stream::Stdout, 0) => out.stdout_eof = true,
                        (Stream::Stderr, 0) => out.stderr_eof = true,
                        (Stream::Stdout, n) => out.stdout.extend_from_slice(&buf[..n]),
                        (Stream::Stderr, n) => out.stderr.extend_from_slice(&buf[..n]),
                    }
                }
                changed.send_modify(|v| *v += 1);
                if n == 0 {
                    return;
                }
            }
        })?;
    Ok(())
}

/// pidfd_open(2): an fd that polls readable once the process has exited.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: raw syscall with plain integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a fresh fd that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

impl NetNs {
    /// A duplicate (CLOEXEC) of the namespace fd.
    pub(crate) fn as_fd_dup(&self) -> io::Result<OwnedFd> {
        use std::os::fd::AsFd;
        self.as_fd().try_clone_to_owned()
    }

    /// Starts `cmd` inside this namespace (see [`NsChild::spawn`]).
    pub fn spawn(&self, cmd: Command) -> io::Result<NsChild> {
        NsChild::spawn(self, cmd)
    }
}
