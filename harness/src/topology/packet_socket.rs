//! AF_PACKET sockets on one interface: the tester's (and the capture's) view
//! of a veth end.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::link::{Direction, Frame, FrameLink};
use super::netns::{ifindex, NetNs};

/// Largest frame we read in one go: a 64 KiB GSO super-frame plus headers.
const RECV_BUF: usize = 65536 + 256;
/// Socket receive buffer asked for, so bursts (and slow capture writes) do
/// not drop frames.
const RCVBUF_BYTES: libc::c_int = 4 << 20;

/// What a packet socket keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// Drop frames sent from this interface (the tester's own frames).
    Drop,
    /// Keep them, marked [`Direction::Outgoing`] (for captures).
    Keep,
}

/// A non-blocking AF_PACKET/SOCK_RAW socket bound to one interface, usable
/// without a runtime (the capture thread uses it with poll(2)).
#[derive(Debug)]
pub struct RawPacketSocket {
    fd: OwnedFd,
    ifindex: u32,
    outgoing: Outgoing,
    buf: Mutex<Vec<u8>>,
}

impl RawPacketSocket {
    /// Opens a socket on `ifname` of the calling thread's namespace.
    pub fn open_here(ifname: &str, outgoing: Outgoing) -> io::Result<RawPacketSocket> {
        let ifindex = ifindex(ifname)?;
        // Protocol 0: the socket receives nothing until bound, so no frame of
        // another interface can slip in between socket() and bind().
        // SAFETY: plain socket(2).
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let raw = fd.as_raw_fd();
        setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
        // FORCE needs CAP_NET_ADMIN (we normally have it); fall back to the
        // rmem_max-capped request otherwise.
        if setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF_BYTES).is_err() {
            setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF_BYTES)?;
        }
        if outgoing == Outgoing::Drop {
            // Let the kernel skip our own frames (we check sll_pkttype too, in
            // case the kernel predates PACKET_IGNORE_OUTGOING).
            let _ = setsockopt_int(raw, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1);
        }
        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: valid fd, properly sized sockaddr_ll.
        let rc = unsafe {
            libc::bind(
                raw,
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(RawPacketSocket {
            fd,
            ifindex,
            outgoing,
            buf: Mutex::new(vec![0u8; RECV_BUF]),
        })
    }

    /// Receives frames for any destination MAC, not only the interface's
    /// own: a PACKET_MR_PROMISC membership, which the kernel counts and
    /// takes back when the socket closes (as tcpdump does). A veth needs
    /// none; a real NIC wired to an external IUT filters unicast frames for
    /// the emulated nodes' MACs without it.
    pub fn set_promiscuous(&self) -> io::Result<()> {
        // SAFETY: packet_mreq is plain old data.
        let mut mreq: libc::packet_mreq = unsafe { zeroed() };
        mreq.mr_ifindex = self.ifindex as libc::c_int;
        mreq.mr_type = libc::PACKET_MR_PROMISC as libc::c_ushort;
        // SAFETY: valid fd and a properly sized packet_mreq.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                &mreq as *const libc::packet_mreq as *const libc::c_void,
                size_of::<libc::packet_mreq>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads and discards every frame queued on the socket; returns how many.
    pub fn drain(&self) -> usize {
        let mut n = 0;
        while let Ok(Some(_)) = self.try_recv() {
            n += 1;
        }
        n
    }

    /// The interface index this socket is bound to (in its namespace).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends one frame; `WouldBlock` when the socket buffer is full.
    pub fn try_send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: valid fd and buffer.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != frame.len() {
            return Err(io::Error::other(format!(
                "short packet write: {n} of {} bytes",
                frame.len()
            )));
        }
        Ok(())
    }

    /// Reads the next frame kept by this socket; `Ok(None)` when none is
    /// queued. Own outgoing frames are skipped unless [`Outgoing::Keep`].
    pub fn try_recv(&self) -> io::Result<Option<Frame>> {
        let mut buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            // SAFETY: all-zero is valid for these POD structs.
            let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
            // u64 alignment for the cmsg buffer; room for a timespec cmsg.
            let mut cbuf = [0u64; 16];
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr() as *mut libc::c_void,
                iov_len: buf.len(),
            };
            // SAFETY: msghdr is POD.
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_name = &mut sll as *mut _ as *mut libc::c_void;
            msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = size_of::<[u64; 16]>();
            // SAFETY: every pointer in msg refers to live local buffers.
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_TRUNC) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    return Ok(None);
                }
                // The kernel posts ENETDOWN once when the interface is (or
                // was, at bind time) down; reading it clears it, and the
                // socket receives again as soon as the link is back up.
                if e.raw_os_error() == Some(libc::ENETDOWN) {
                    continue;
                }
                return Err(e);
            }
            let outgoing = sll.sll_pkttype == libc::PACKET_OUTGOING;
            if outgoing && self.outgoing == Outgoing::Drop {
                continue;
            }
            // MSG_TRUNC makes recvmsg return the real length; keep what fit.
            let len = (n as usize).min(buf.len());
            let mut timestamp = None;
            // SAFETY: walking the control buffer the kernel filled, with the
            // libc CMSG helpers.
            unsafe {
                let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
                while !cmsg.is_null() {
                    if (*cmsg).cmsg_level == libc::SOL_SOCKET
                        && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
                    {
                        let ts: libc::timespec = std::ptr::read_unaligned(
                            libc::CMSG_DATA(cmsg) as *const libc::timespec
                        );
                        timestamp = Some(
                            SystemTime::UNIX_EPOCH
                                + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                        );
                    }
                    cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
                }
            }
            return Ok(Some(Frame {
                bytes: buf[..len].to_vec(),
                timestamp: timestamp.unwrap_or_else(SystemTime::now),
                kernel_timestamp: timestamp.is_some(),
                direction: if outgoing {
                    Direction::Outgoing
                } else {
                    Direction::Incoming
                },
            }));
        }
    }

    /// Frames dropped by the kernel for this socket since the last call
    /// (receive buffer full), from PACKET_STATISTICS.
    pub fn take_drops(&self) -> io::Result<u64> {
        // SAFETY: POD.
        let mut st: libc::tpacket_stats = unsafe { zeroed() };
        let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: valid fd and out-buffer of the advertised size.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut st as *mut _ as *mut libc::c_void,
                &mut len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(st.tp_drops as u64)
    }
}

impl AsRawFd for RawPacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: valid fd and an int-sized option value.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// An AF_PACKET socket driven by tokio: the tester's end of a link.
#[derive(Debug)]
pub struct PacketSocket {
    name: String,
    io: AsyncFd<RawPacketSocket>,
}

impl PacketSocket {
    /// Opens a socket on interface `ifname` inside `ns` (created in a
    /// setns'd thread; the fd then works from any thread). Must be called
    /// within a tokio runtime.
    pub fn open(ns: &NetNs, ifname: &str, outgoing: Outgoing) -> io::Result<PacketSocket> {
        let raw = ns.run(|| RawPacketSocket::open_here(ifname, outgoing))??;
        PacketSocket::from_raw(ifname, raw)
    }

    /// Wraps an already opened socket (must be within a tokio runtime).
    pub fn from_raw(name: &str, raw: RawPacketSocket) -> io::Result<PacketSocket> {
        // SAFETY: RawPacketSocket owns its fd and never closes or replaces it
        // while the AsyncFd holds it.
        let io = unsafe {
            AsyncFd::register_with_interest(raw, Interest::READABLE | Interest::WRITABLE)?
        };
        Ok(PacketSocket {
            name: name.to_string(),
            io,
        })
    }

    /// Sends one frame as is.
    pub async fn send(&self, frame: &[u8]) -> io::Result<()> {
        loop {
            let mut guard = self.io.writable().await?;
            match guard.try_io(|s| s.get_ref().try_send(frame)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Waits for the next frame (own outgoing frames excluded unless opened
    /// with [`Outgoing::Keep`]).
    pub async fn recv(&self) -> io::Result<Frame> {
        loop {
            let mut guard = self.io.readable().await?;
            let r = guard.try_io(|s| match s.get_ref().try_recv() {
                Ok(Some(f)) => Ok(f),
                Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            });
            match r {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Receives until `pred` accepts a frame or `deadline` passes (`Ok(None)`).
    pub async fn recv_until(
        &self,
        deadline: tokio::time::Instant,
        mut pred: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<Option<Frame>> {
        loop {
            match tokio::time::timeout_at(deadline, self.recv()).await {
                Err(_) => return Ok(None),
                Ok(r) => {
                    let f = r?;
                    if pred(&f.bytes) {
                        return Ok(Some(f));
                    }
                }
            }
        }
    }

    /// The underlying socket (e.g. for drop statistics).
    pub fn raw(&self) -> &RawPacketSocket {
        self.io.get_ref()
    }
}

impl FrameLink for PacketSocket {
    fn name(&self) -> &str {
        &self.name
    }

    fn send<'a>(&'a self, frame: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(PacketSocket::send(self, frame))
    }

    fn recv(&self) -> BoxFuture<'_, io::Result<Frame>> {
        Box::pin(PacketSocket::recv(self))
    }
}
