//! Waiting for links to be operationally up, event-driven.
//!
//! Bringing a veth end up is not enough to send through it: the kernel's
//! linkwatch work turns the carrier on and activates the queueing discipline
//! a little later, asynchronously, and frames sent before that are dropped.
//! Linkwatch announces the change with an RTM_NEWLINK carrying
//! IFLA_OPERSTATE, after the qdisc is active. A [`LinkMonitor`] subscribes
//! to those messages (and dumps the current state, so nothing is missed) and
//! waits with a deadline: no polling, no sleeps.

use std::collections::HashMap;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

const RTMGRP_LINK: u32 = 1;
const IFLA_OPERSTATE: u16 = 16;
/// RFC 2863 operational state "up", as in `linux/if.h` (IF_OPER_UP).
pub const IF_OPER_UP: u8 = 6;
const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;

/// A NETLINK_ROUTE socket of one namespace, subscribed to link changes.
#[derive(Debug)]
pub struct LinkMonitor {
    fd: OwnedFd,
    /// Latest operstate per ifindex.
    state: HashMap<u32, u8>,
}

impl LinkMonitor {
    /// Opens a monitor on the calling thread's namespace and asks for a dump
    /// of all links (their current state arrives like events).
    pub fn open_here() -> io::Result<LinkMonitor> {
        // SAFETY: plain socket(2).
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd, owned here only.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is POD.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        sa.nl_groups = RTMGRP_LINK;
        // SAFETY: valid fd and address of the right size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // RTM_GETLINK dump request: nlmsghdr + ifinfomsg (AF_UNSPEC).
        let mut req = [0u8; NLMSG_HDRLEN + IFINFOMSG_LEN];
        req[0..4].copy_from_slice(&((NLMSG_HDRLEN + IFINFOMSG_LEN) as u32).to_ne_bytes());
        req[4..6].copy_from_slice(&libc::RTM_GETLINK.to_ne_bytes());
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        req[6..8].copy_from_slice(&flags.to_ne_bytes());
        req[8..12].copy_from_slice(&1u32.to_ne_bytes());
        // SAFETY: valid fd and buffer; the kernel is the default destination.
        let n = unsafe {
            libc::send(
                fd.as_raw_fd(),
                req.as_ptr() as *const libc::c_void,
                req.len(),
                0,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LinkMonitor {
            fd,
            state: HashMap::new(),
        })
    }

    /// Reads what is queued without blocking and updates the state.
    fn drain(&mut self) -> io::Result<()> {
        let mut buf = vec![0u8; 65536];
        loop {
            // SAFETY: valid fd and buffer.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock => Ok(()),
                    // ENOBUFS (events lost) cannot happen with the handful
                    // of links we watch; reported rather than guessed at.
                    _ => Err(io::Error::new(
                        e.kind(),
                        format!("netlink link monitor: {e}"),
                    )),
                };
            }
            parse(&buf[..n as usize], &mut self.state);
        }
    }

    /// Waits until every ifindex in `links` has operstate UP (`up` true) or
    /// not UP (`up` false), or `deadline` passes (then an error naming the
    /// links still waited for).
    pub fn wait(&mut self, links: &[u32], up: bool, deadline: Instant) -> io::Result<()> {
        loop {
            self.drain()?;
            let pending: Vec<u32> = links
                .iter()
                .copied()
                .filter(|i| (self.state.get(i) == Some(&IF_OPER_UP)) != up)
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "interfaces {pending:?} did not become operationally {} in time",
                        if up { "up" } else { "down" }
                    ),
                ));
            }
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return Err(io::Error::last_os_error());
            }
        }
    }
}

/// Walks netlink messages, recording IFLA_OPERSTATE of RTM_NEWLINK ones.
/// Malformed input is skipped, never trusted for lengths.
fn parse(mut buf: &[u8], state: &mut HashMap<u32, u8>) {
    let u16_at = |b: &[u8], o: usize| u16::from_ne_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    while buf.len() >= NLMSG_HDRLEN {
        let len = u32_at(buf, 0) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return;
        }
        let msg = &buf[..len];
        if u16_at(msg, 4) == libc::RTM_NEWLINK && len >= NLMSG_HDRLEN + IFINFOMSG_LEN {
            let index = u32_at(msg, NLMSG_HDRLEN + 4);
            let mut attrs = &msg[NLMSG_HDRLEN + IFINFOMSG_LEN..];
            while attrs.len() >= 4 {
                let alen = u16_at(attrs, 0) as usize;
                if alen < 4 || alen > attrs.len() {
                    break;
                }
                if u16_at(attrs, 2) == IFLA_OPERSTATE && alen >= 5 {
                    state.insert(index, attrs[4]);
                }
                let step = (alen + 3) & !3;
                attrs = &attrs[step.min(attrs.len())..];
            }
        }
        let step = (len + 3) & !3;
        buf = &buf[step.min(buf.len())..];
    }
}
