//! `hmip6-ref map`: the MAP on real links. One reader thread per link, the
//! control socket's threads and the signal thread feed one channel; the
//! core loop waits on it until the engine's next deadline.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::control::{self, ControlRequest};
use crate::link::{self, FrameSink, PacketSocket};
use crate::log::{s, Logger};
use crate::signals;

use super::config::MapConfig;
use super::{Map, ACCESS, CORE};

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

/// Run the MAP until SIGTERM, SIGINT or `quit`. An error is a start-up
/// failure (a socket that could not be opened).
pub fn run(cfg: MapConfig) -> Result<(), String> {
    let (tx, rx) = mpsc::channel::<Event>();
    signals::watch(tx.clone(), shutdown_event).map_err(|e| format!("signals: {e}"))?;
    let open = |name: &str| {
        PacketSocket::open(name)
            .map(Arc::new)
            .map_err(|e| format!("cannot open a packet socket on {name}: {e}"))
    };
    let socks = [open(&cfg.access)?, open(&cfg.core)?];
    let log = Logger::new(cfg.log, "map");
    let _control = match &cfg.control {
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
    let mut map = Map::new(
        cfg.clone(),
        [socks[ACCESS].mac, socks[CORE].mac],
        log.clone(),
        Instant::now(),
    );
    log.event(
        "started",
        &[
            ("access", s(&cfg.access)),
            ("core", s(&cfg.core)),
            ("address", s(cfg.address)),
            ("access_mac", s(socks[ACCESS].mac)),
            ("core_mac", s(socks[CORE].mac)),
        ],
    );
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    loop {
        let now = Instant::now();
        map.tick(now);
        flush(&mut map, &socks, &log);
        let wait = map
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(Event::Frame(link, bytes)) => map.handle_frame(Instant::now(), link, &bytes),
            Ok(Event::Control(req)) => {
                let (answer, quit) = map.control(Instant::now(), &req.command);
                req.answer(answer);
                if quit {
                    flush(&mut map, &socks, &log);
                    // Let the control thread write the answer out.
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
            }
            Ok(Event::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        flush(&mut map, &socks, &log);
    }
    log.event("stopped", &[]);
    Ok(())
}

fn flush(map: &mut Map, socks: &[Arc<PacketSocket>; 2], log: &Logger) {
    for (link, frame) in map.take_output() {
        if let Err(e) = socks[link].send_frame(&frame) {
            log.event(
                "send_failed",
                &[("link", s(&socks[link].ifname)), ("error", s(e))],
            );
        }
    }
}
