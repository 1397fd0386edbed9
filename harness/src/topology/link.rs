//! What the engine sees of a link: frames in, frames out, with timestamps.
//!
//! [`FrameLink`] is implemented by the AF_PACKET socket on a veth end
//! ([`super::PacketSocket`]) and by the in-memory link
//! ([`super::MemoryEndpoint`]), so the engine and its unit tests do not care
//! which one they drive.

use std::io;
use std::time::SystemTime;

use futures::future::BoxFuture;
use tokio::time::Instant;

/// Which way a frame went, as seen from the socket that got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the peer (for the tester: by the IUT or anything behind it).
    Incoming,
    /// Sent from this side (only capture sockets report these).
    Outgoing,
}

/// One Ethernet frame as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The whole frame from the destination MAC on (no FCS).
    pub bytes: Vec<u8>,
    /// When the kernel saw it (CLOCK_REALTIME, nanoseconds), or when the
    /// in-memory link carried it.
    pub timestamp: SystemTime,
    /// Whether `timestamp` came from the kernel (SO_TIMESTAMPNS). False only
    /// if the kernel gave none, in which case it is the time of the read.
    pub kernel_timestamp: bool,
    pub direction: Direction,
}

/// A link end that sends and receives whole Ethernet frames.
///
/// Dyn-compatible (boxed futures) so the engine can hold
/// `Box<dyn FrameLink>` regardless of the kind of link. All methods are
/// cancel-safe: dropping a pending `recv` loses no frame.
pub trait FrameLink: Send + Sync {
    /// The link's name (its role: `access`, `core`, ...).
    fn name(&self) -> &str;

    /// Sends one frame, as is.
    fn send<'a>(&'a self, frame: &'a [u8]) -> BoxFuture<'a, io::Result<()>>;

    /// Waits for the next frame sent by the other side.
    fn recv(&self) -> BoxFuture<'_, io::Result<Frame>>;
}

/// Helpers every [`FrameLink`] gets.
pub trait FrameLinkExt: FrameLink {
    /// Receives frames until one satisfies `pred`, and returns it; `Ok(None)`
    /// once `deadline` passes. Frames that do not match are consumed.
    fn recv_until<'a, P>(
        &'a self,
        deadline: Instant,
        mut pred: P,
    ) -> BoxFuture<'a, io::Result<Option<Frame>>>
    where
        P: FnMut(&[u8]) -> bool + Send + 'a,
    {
        Box::pin(async move {
            loop {
                match tokio::time::timeout_at(deadline, self.recv()).await {
                    Err(_) => return Ok(None),
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(frame)) => {
                        if pred(&frame.bytes) {
                            return Ok(Some(frame));
                        }
                    }
                }
            }
        })
    }
}

impl<T: FrameLink + ?Sized> FrameLinkExt for T {}
