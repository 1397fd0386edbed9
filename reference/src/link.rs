//! Link I/O for every role: one AF_PACKET socket per interface, a reader
//! thread per socket feeding the core loop's channel, and the interface
//! facts (index, MAC) the roles need.
//!
//! The daemons run where the kernel's IPv6 is off on their links and do
//! their own IPv6: the socket sees every frame (ETH_P_ALL, promiscuous),
//! skips the ones it sent itself (PACKET_OUTGOING), and the role filters
//! by destination MAC.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread;

use wire::MacAddr;

/// Largest frame read in one go.
const RECV_BUF: usize = 65536 + 256;

/// Where frames go out: the daemon's sockets, or a test's outbox.
pub trait FrameSink {
    fn send_frame(&self, frame: &[u8]) -> io::Result<()>;
}

/// A blocking AF_PACKET/SOCK_RAW socket bound to one interface.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    pub ifname: String,
    pub ifindex: u32,
    pub mac: MacAddr,
}

fn setsockopt_int(fd: i32, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
    // SAFETY: valid fd, pointer to a live c_int of the advertised size.
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

/// An `ifreq` naming `ifname`.
fn ifreq(ifname: &str) -> io::Result<libc::ifreq> {
    if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {ifname:?} is empty or too long"),
        ));
    }
    // SAFETY: ifreq is plain old data.
    let mut ifr: libc::ifreq = unsafe { zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(ifname.bytes()) {
        *d = s as libc::c_char;
    }
    Ok(ifr)
}

/// The index of interface `ifname` in this namespace.
pub fn ifindex(ifname: &str) -> io::Result<u32> {
    let c = CString::new(ifname)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in interface name"))?;
    // SAFETY: valid C string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface named {ifname:?}"),
        ));
    }
    Ok(i)
}

/// The MAC address of `ifname`, and brings the interface up if it is down.
fn mac_and_up(fd: i32, ifname: &str) -> io::Result<MacAddr> {
    let mut ifr = ifreq(ifname)?;
    // SAFETY: valid fd and ifreq.
    if unsafe { libc::ioctl(fd, libc::SIOCGIFHWADDR, &mut ifr) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFHWADDR filled the sockaddr union member.
    let sa = unsafe { ifr.ifr_ifru.ifru_hwaddr };
    let mut mac = [0u8; 6];
    for (d, s) in mac.iter_mut().zip(sa.sa_data.iter()) {
        *d = *s as u8;
    }
    let mut ifr = ifreq(ifname)?;
    // SAFETY: valid fd and ifreq.
    if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut ifr) } == 0 {
        // SAFETY: SIOCGIFFLAGS filled the flags member.
        let flags = unsafe { ifr.ifr_ifru.ifru_flags };
        if flags & libc::IFF_UP as libc::c_short == 0 {
            ifr.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
            // SAFETY: valid fd and ifreq. Failure (no CAP_NET_ADMIN) is
            // not fatal: the link may be brought up by whoever made it.
            let _ = unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &mut ifr) };
        }
    }
    Ok(MacAddr(mac))
}

impl PacketSocket {
    /// Open a promiscuous ETH_P_ALL socket on `ifname`.
    pub fn open(ifname: &str) -> io::Result<PacketSocket> {
        let ifindex = ifindex(ifname)?;
        // Protocol 0 until bound, so no frame of another interface slips in.
        // SAFETY: plain socket(2).
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mac = mac_and_up(raw, ifname)?;
        let _ = setsockopt_int(raw, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1);
        let _ = setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, 1 << 20);
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
        // SAFETY: packet_mreq is plain old data.
        let mut mreq: libc::packet_mreq = unsafe { zeroed() };
        mreq.mr_ifindex = ifindex as libc::c_int;
        mreq.mr_type = libc::PACKET_MR_PROMISC as libc::c_ushort;
        // SAFETY: valid fd and a properly sized packet_mreq.
        let rc = unsafe {
            libc::setsockopt(
                raw,
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                &mreq as *const libc::packet_mreq as *const libc::c_void,
                size_of::<libc::packet_mreq>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket {
            fd,
            ifname: ifname.to_string(),
            ifindex,
            mac,
        })
    }

    /// Make [`recv`](Self::recv) give up with `WouldBlock` after `t`
    /// (`None`: block for ever).
    pub fn set_read_timeout(&self, t: Option<std::time::Duration>) -> io::Result<()> {
        let t = t.unwrap_or_default();
        let tv = libc::timeval {
            tv_sec: t.as_secs() as libc::time_t,
            tv_usec: t.subsec_micros() as libc::suseconds_t,
        };
        // SAFETY: valid fd, pointer to a live timeval of the advertised size.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const libc::timeval as *const libc::c_void,
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Block until a frame arrives that this host did not send.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: sockaddr_ll is plain old data.
            let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
            let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: valid fd, buffer and address out-parameters.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                    &mut sll as *mut libc::sockaddr_ll as *mut libc::sockaddr,
                    &mut len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) | Some(libc::ENETDOWN) => continue,
                    _ => return Err(e),
                }
            }
            if sll.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            return Ok(n as usize);
        }
    }
}

impl FrameSink for PacketSocket {
    fn send_frame(&self, frame: &[u8]) -> io::Result<()> {
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
        Ok(())
    }
}

/// Start a thread that reads frames from `sock` for ever and sends
/// `wrap(link, frame)` into `tx`; it ends when the channel closes or the
/// socket fails.
pub fn spawn_reader<E: Send + 'static>(
    sock: Arc<PacketSocket>,
    link: usize,
    tx: Sender<E>,
    wrap: fn(usize, Vec<u8>) -> E,
) -> io::Result<thread::JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("rx-{}", sock.ifname))
        .spawn(move || {
            let mut buf = vec![0u8; RECV_BUF];
            loop {
                match sock.recv(&mut buf) {
                    Ok(n) => {
                        let n = n.min(buf.len());
                        if tx.send(wrap(link, buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        eprintln!("hmip6-ref: reading {} failed: {e}", sock.ifname);
                        return;
                    }
                }
            }
        })
}
