//! Anonymous network namespaces owned by a file descriptor.
//!
//! A namespace is created by `unshare(CLONE_NEWNET)` in a throwaway thread and
//! kept alive only by the `/proc/thread-self/ns/net` fd we open there: no
//! `/run/netns` entry exists, so when the fd is closed (drop, crash, SIGKILL)
//! and no process or socket lives in it any more, the kernel destroys it and
//! every interface in it.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::sched::{setns, unshare, CloneFlags};

/// Sysctls written on `all` and `default` of every new namespace, before any
/// link exists, so that interfaces are born quiet: no DAD, no Router
/// Solicitations, no auto-generated link-local address (hence no
/// solicited-node MLD report). A capture then holds only what the tester and
/// the IUT chose to send.
const QUIET_IPV6: &[(&str, &str)] = &[
    ("accept_dad", "0"),
    ("dad_transmits", "0"),
    ("router_solicitations", "0"),
    ("addr_gen_mode", "1"),
];

/// An anonymous network namespace. Dropping it closes the fd; the kernel frees
/// the namespace once nothing else (a process, a socket) refers to it.
#[derive(Debug)]
pub struct NetNs {
    fd: OwnedFd,
    inode: u64,
}

impl NetNs {
    /// Creates a namespace with loopback up and quiet IPv6 defaults
    /// (see [`QUIET_IPV6`]). New interfaces start with `disable_ipv6=1`:
    /// callers turn IPv6 on per interface where a kernel stack should run.
    pub fn new() -> io::Result<NetNs> {
        let ns = std::thread::scope(|s| {
            s.spawn(|| -> io::Result<NetNs> {
                // Only this thread moves; the thread dies right after, so the
                // rest of the process never sees the new namespace.
                unshare(CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
                let file = File::open("/proc/thread-self/ns/net")?;
                let inode = file.metadata()?.ino();
                set_link_up("lo")?;
                for conf in ["all", "default"] {
                    for (key, value) in QUIET_IPV6 {
                        write_sysctl(&format!("net/ipv6/conf/{conf}/{key}"), value)?;
                    }
                }
                write_sysctl("net/ipv6/conf/default/disable_ipv6", "1")?;
                Ok(NetNs {
                    fd: OwnedFd::from(file),
                    inode,
                })
            })
            .join()
            .map_err(|_| io::Error::other("namespace creation thread panicked"))?
        })?;
        Ok(ns)
    }

    /// The calling thread's own namespace (not a new one): for an attached
    /// topology, whose interfaces live where the harness runs. Dropping it
    /// only closes the fd.
    pub fn current() -> io::Result<NetNs> {
        let file = File::open("/proc/thread-self/ns/net")?;
        let inode = file.metadata()?.ino();
        Ok(NetNs {
            fd: OwnedFd::from(file),
            inode,
        })
    }

    /// The namespace's inode number (what `/proc/PID/ns/net` links show as
    /// `net:[INODE]`): a stable identity for leak checks and reports.
    pub fn inode(&self) -> u64 {
        self.inode
    }

    /// Runs `f` in a fresh thread that has entered this namespace, and returns
    /// its result. Sockets created by `f` stay bound to this namespace and can
    /// be used from any thread afterwards. `f` runs outside any tokio runtime.
    pub fn run<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        std::thread::scope(|s| {
            s.spawn(|| -> io::Result<R> {
                setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
                Ok(f())
            })
            .join()
            .map_err(|_| io::Error::other("thread running inside the namespace panicked"))?
        })
    }

    /// Writes one sysctl of this namespace, `path` relative to `/proc/sys`
    /// (e.g. `net/ipv6/conf/all/forwarding`). Only `net/` sysctls are
    /// per-namespace; anything else is refused rather than changing the host.
    pub fn set_sysctl(&self, path: &str, value: &str) -> io::Result<()> {
        self.set_sysctls(&[(path.to_string(), value.to_string())])
    }

    /// Writes several sysctls of this namespace in one thread, in order.
    pub fn set_sysctls(&self, settings: &[(String, String)]) -> io::Result<()> {
        for (path, _) in settings {
            check_sysctl_path(path)?;
        }
        self.run(|| {
            for (path, value) in settings {
                write_sysctl(path, value)?;
            }
            Ok(())
        })?
    }

    /// Writes an IPv6 per-interface sysctl (`net/ipv6/conf/IFNAME/KEY`).
    pub fn set_if_sysctl(&self, ifname: &str, key: &str, value: &str) -> io::Result<()> {
        self.set_sysctl(&if_sysctl_path(ifname, key)?, value)
    }

    /// Reads a sysctl of this namespace (trimmed), e.g. to verify a setting.
    pub fn sysctl(&self, path: &str) -> io::Result<String> {
        check_sysctl_path(path)?;
        self.run(|| std::fs::read_to_string(format!("/proc/sys/{path}")))?
            .map(|s| s.trim().to_string())
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for NetNs {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

/// `net/ipv6/conf/IFNAME/KEY`, after checking both parts are plain names.
pub(crate) fn if_sysctl_path(ifname: &str, key: &str) -> io::Result<String> {
    super::check_ifname(ifname).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    check_component(key)?;
    Ok(format!("net/ipv6/conf/{ifname}/{key}"))
}

fn check_component(c: &str) -> io::Result<()> {
    if c.is_empty() || c == "." || c == ".." || c.contains('/') || c.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid sysctl path component {c:?}"),
        ));
    }
    Ok(())
}

/// Refuses paths that would escape `/proc/sys/net` (and so touch the host).
pub(crate) fn check_sysctl_path(path: &str) -> io::Result<()> {
    let mut parts = path.split('/');
    if parts.next() != Some("net") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("sysctl {path:?} is not under net/: only network sysctls are per namespace"),
        ));
    }
    parts.try_for_each(check_component)
}

/// Writes `/proc/sys/PATH` as seen by the calling thread's namespace.
pub(crate) fn write_sysctl(path: &str, value: &str) -> io::Result<()> {
    let full = format!("/proc/sys/{path}");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&full)
        .map_err(|e| io::Error::new(e.kind(), format!("{full}: {e}")))?;
    f.write_all(value.as_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("{full} = {value}: {e}")))
}

/// Sets IFF_UP on an interface of the calling thread's namespace with the
/// SIOCSIFFLAGS ioctl: cheaper than a netlink round trip for lo and for the
/// IUT's ends, whose namespace has no netlink connection of ours.
pub(crate) fn set_link_up(ifname: &str) -> io::Result<()> {
    set_link_flag(ifname, true)
}

/// A socket to issue interface ioctls on, and an `ifreq` naming `ifname`.
fn ifreq_for(ifname: &str) -> io::Result<(OwnedFd, libc::ifreq)> {
    let name = ifname.as_bytes();
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {ifname:?}"),
        ));
    }
    // SAFETY: plain socket(2); the fd is owned right away.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `sock` is a fresh valid fd that nothing else owns.
    let sock: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(sock) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name) {
        *dst = *src as libc::c_char;
    }
    Ok((sock, ifr))
}

/// Clears or sets IFF_UP (see [`set_link_up`]).
pub(crate) fn set_link_flag(ifname: &str, up: bool) -> io::Result<()> {
    let (sock, mut ifr) = ifreq_for(ifname)?;
    // SAFETY: valid fd and a properly initialised ifreq for SIOCGIFFLAGS.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) } < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{ifname}: {e}")));
    }
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe {
        if up {
            ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        } else {
            ifr.ifr_ifru.ifru_flags &= !(libc::IFF_UP as libc::c_short);
        }
    }
    // SAFETY: as above, SIOCSIFFLAGS reads the same ifreq.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) } < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{ifname} up: {e}")));
    }
    Ok(())
}

/// Flags (`IFF_*`) and MTU of an interface of the calling thread's
/// namespace, read with the SIOCGIFFLAGS and SIOCGIFMTU ioctls (changes
/// nothing).
pub(crate) fn link_flags_mtu(ifname: &str) -> io::Result<(libc::c_int, u32)> {
    let (sock, mut ifr) = ifreq_for(ifname)?;
    // SAFETY: valid fd and a properly initialised ifreq.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) } < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{ifname}: {e}")));
    }
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    let flags = unsafe { ifr.ifr_ifru.ifru_flags } as libc::c_int & 0xffff;
    // SAFETY: as above.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU, &mut ifr) } < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{ifname}: {e}")));
    }
    // SAFETY: SIOCGIFMTU filled the mtu member of the union.
    let mtu = unsafe { ifr.ifr_ifru.ifru_mtu } as u32;
    Ok((flags, mtu))
}

/// Index of an interface in the calling thread's namespace.
pub(crate) fn ifindex(ifname: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(ifname)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in interface name"))?;
    // SAFETY: valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{ifname}: {e}")));
    }
    Ok(idx)
}
