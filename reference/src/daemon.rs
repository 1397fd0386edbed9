//! The daemon loop every role runs on real links: one reader thread per
//! link, the control socket's threads and the signal thread feed one
//! channel; the core loop waits on it until the engine's next deadline,
//! then sends what the engine produced.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use wire::MacAddr;

use crate::control::{self, ControlRequest};
use crate::link::{self, FrameSink, PacketSocket};
use crate::log::{s, LogFormat, Logger};
use crate::signals;

/// Link index of the access link.
pub const ACCESS: usize = 0;
/// Link index of the core link.
pub const CORE: usize = 1;

/// A role's protocol engine, free of I/O.
pub trait Engine {
    /// A frame received on link `link` at `now`.
    fn handle_frame(&mut self, now: Instant, link: usize, frame: &[u8]);
    /// Do what is due at `now`.
    fn tick(&mut self, now: Instant);
    /// When [`tick`](Self::tick) next has something to do.
    fn next_deadline(&self) -> Option<Instant>;
    /// Frames to send, by link, in order.
    fn take_output(&mut self) -> Vec<(usize, Vec<u8>)>;
    /// Answer a control command; `true` asks the daemon to stop.
    fn control(&mut self, now: Instant, command: &str) -> (String, bool);
}

/// `impl Engine for $t` by the inherent methods of the same names.
#[macro_export]
macro_rules! impl_engine {
    ($t:ty) => {
        impl $crate::daemon::Engine for $t {
            fn handle_frame(&mut self, now: std::time::Instant, link: usize, frame: &[u8]) {
                <$t>::handle_frame(self, now, link, frame)
            }
            fn tick(&mut self, now: std::time::Instant) {
                <$t>::tick(self, now)
            }
            fn next_deadline(&self) -> Option<std::time::Instant> {
                <$t>::next_deadline(self)
            }
            fn take_output(&mut self) -> Vec<(usize, Vec<u8>)> {
                <$t>::take_output(self)
            }
            fn control(&mut self, now: std::time::Instant, command: &str) -> (String, bool) {
                <$t>::control(self, now, command)
            }
        }
    };
}

/// What the loop needs to know besides the engine.
pub struct Setup<'a> {
    /// The role's name in the log (`map`, `ar`, `mn`).
    pub role: &'static str,
    /// The links by index: (name in the log, interface). The routers have
    /// `access` ([`ACCESS`]) and `core` ([`CORE`]); the MN one link.
    pub links: Vec<(&'static str, &'a str)>,
    pub control: Option<&'a PathBuf>,
    pub log: LogFormat,
}

/// What the core loop waits for.
pub enum Event {
    Frame(usize, Vec<u8>),
    Control(ControlRequest),
    Shutdown,
}

fn frame_event(link: usize, bytes: Vec<u8>) -> Event {
    Event::Frame(link, bytes)
}

fn control_event(r: ControlRequest) -> Event {
    Event::Control(r)
}

fn shutdown_event() -> Event {
    Event::Shutdown
}

/// Run the engine `make` builds (from the links' MACs by index, the logger and the
/// start time) until SIGTERM, SIGINT or `quit`, printing `ready` on stdout
/// once every socket is open and logging `started` with the links and
/// `fields`. An error is a start-up failure (a socket that could not be
/// opened).
pub fn run<E: Engine>(
    setup: Setup<'_>,
    fields: Vec<(&str, Value)>,
    make: impl FnOnce(&[MacAddr], Logger, Instant) -> E,
) -> Result<(), String> {
    let (tx, rx) = mpsc::channel::<Event>();
    signals::watch(tx.clone(), shutdown_event).map_err(|e| format!("signals: {e}"))?;
    let open = |name: &str| {
        PacketSocket::open(name)
            .map(Arc::new)
            .map_err(|e| format!("cannot open a packet socket on {name}: {e}"))
    };
    let socks = setup
        .links
        .iter()
        .map(|(_, ifname)| open(ifname))
        .collect::<Result<Vec<_>, _>>()?;
    let log = Logger::new(setup.log, setup.role);
    let _control = match setup.control {
        Some(p) => Some(
            control::serve(p, tx.clone(), control_event)
                .map_err(|e| format!("--control {}: {e}", p.display()))?,
        ),
        None => None,
    };
    for (i, sock) in socks.iter().enumerate() {
        link::spawn_reader(sock.clone(), i, tx.clone(), frame_event)
            .map_err(|e| format!("reader thread: {e}"))?;
    }
    drop(tx);
    let macs: Vec<MacAddr> = socks.iter().map(|s| s.mac).collect();
    let mut engine = make(&macs, log.clone(), Instant::now());
    let mac_keys: Vec<String> = setup
        .links
        .iter()
        .map(|(name, _)| format!("{name}_mac"))
        .collect();
    let mut started: Vec<(&str, Value)> = Vec::new();
    for (((name, ifname), key), mac) in setup.links.iter().zip(&mac_keys).zip(&macs) {
        started.push((name, s(ifname)));
        started.push((key.as_str(), s(mac)));
    }
    started.extend(fields);
    log.event("started", &started);
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    loop {
        engine.tick(Instant::now());
        flush(&mut engine, &socks, &log);
        let wait = engine
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(Event::Frame(link, bytes)) => engine.handle_frame(Instant::now(), link, &bytes),
            Ok(Event::Control(req)) => {
                let (answer, quit) = engine.control(Instant::now(), &req.command);
                req.answer(answer);
                if quit {
                    flush(&mut engine, &socks, &log);
                    // Let the control thread write the answer out.
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
            }
            Ok(Event::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        flush(&mut engine, &socks, &log);
    }
    log.event("stopped", &[]);
    Ok(())
}

fn flush<E: Engine>(engine: &mut E, socks: &[Arc<PacketSocket>], log: &Logger) {
    for (link, frame) in engine.take_output() {
        let Some(sock) = socks.get(link) else {
            continue;
        };
        if let Err(e) = sock.send_frame(&frame) {
            log.event("send_failed", &[("link", s(&sock.ifname)), ("error", s(e))]);
        }
    }
}
