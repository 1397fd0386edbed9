//! An in-process link: two endpoints, frames go from one to the other through
//! channels. For unit tests of the engine and for runs without privileges.

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, Mutex};

use super::capture::Capture;
use super::link::{Direction, Frame, FrameLink};

/// Constructor for a pair of connected [`MemoryEndpoint`]s.
pub struct MemoryLink;

/// Records what crosses a memory link into a capture, as interface `link`.
#[derive(Clone)]
struct Tap {
    capture: Arc<Capture>,
    link: usize,
}

/// One end of an in-memory link.
pub struct MemoryEndpoint {
    name: String,
    tx: mpsc::UnboundedSender<Frame>,
    rx: Mutex<mpsc::UnboundedReceiver<Frame>>,
    tap: Option<Tap>,
}

impl MemoryLink {
    /// Two connected endpoints: what one sends, the other receives, in order.
    pub fn pair(name: &str) -> (MemoryEndpoint, MemoryEndpoint) {
        Self::build(name, None)
    }

    /// Like [`MemoryLink::pair`], and every frame (both directions) is also
    /// written to `capture` as its interface number `link`.
    pub fn pair_captured(
        name: &str,
        capture: Arc<Capture>,
        link: usize,
    ) -> (MemoryEndpoint, MemoryEndpoint) {
        Self::build(name, Some(Tap { capture, link }))
    }

    fn build(name: &str, tap: Option<Tap>) -> (MemoryEndpoint, MemoryEndpoint) {
        let (a_tx, b_rx) = mpsc::unbounded_channel();
        let (b_tx, a_rx) = mpsc::unbounded_channel();
        (
            MemoryEndpoint {
                name: name.to_string(),
                tx: a_tx,
                rx: Mutex::new(a_rx),
                tap: tap.clone(),
            },
            MemoryEndpoint {
                name: name.to_string(),
                tx: b_tx,
                rx: Mutex::new(b_rx),
                tap,
            },
        )
    }
}

impl MemoryEndpoint {
    /// Sends a frame to the other endpoint; fails once it is dropped.
    pub async fn send(&self, frame: &[u8]) -> io::Result<()> {
        let f = Frame {
            bytes: frame.to_vec(),
            timestamp: SystemTime::now(),
            kernel_timestamp: false,
            direction: Direction::Incoming,
        };
        if let Some(tap) = &self.tap {
            // The capture records the frame as sent (one record per frame).
            let mut rec = f.clone();
            rec.direction = Direction::Outgoing;
            tap.capture.record(tap.link, &rec)?;
        }
        self.tx
            .send(f)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "memory link peer dropped"))
    }

    /// Waits for the next frame from the other endpoint.
    pub async fn recv(&self) -> io::Result<Frame> {
        let mut rx = self.rx.lock().await;
        rx.recv()
            .await
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "memory link peer dropped"))
    }
}

impl FrameLink for MemoryEndpoint {
    fn name(&self) -> &str {
        &self.name
    }

    fn send<'a>(&'a self, frame: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(MemoryEndpoint::send(self, frame))
    }

    fn recv(&self) -> BoxFuture<'_, io::Result<Frame>> {
        Box::pin(MemoryEndpoint::recv(self))
    }
}
