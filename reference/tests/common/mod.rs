//! What the daemon tests share: two anonymous network namespaces (held by
//! `unshare -n` children, so nothing is left behind when they die) joined
//! by veth pairs with the kernel's IPv6 off, the daemon in one, the test's
//! packet sockets in the other, and a tester that answers address
//! resolution for the nodes it emulates.
//!
//! Needs root (CAP_SYS_ADMIN for namespaces, CAP_NET_ADMIN for links):
//! without it [`root_or_skip`] says `SKIP: needs root`, unless
//! HMIP6SPEC_REQUIRE_ALL=1.

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hmip6_ref::link::{FrameSink, PacketSocket};
use wire::frame::{Decoded, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::nd::{LinkLayerAddrRepr, NdOption};
use wire::MacAddr;

pub const ACCESS: usize = 0;
pub const CORE: usize = 1;

/// Whether the test can run; prints `SKIP: needs root` if not (and panics
/// instead under HMIP6SPEC_REQUIRE_ALL=1).
pub fn root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("HMIP6SPEC_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("{test} needs root and HMIP6SPEC_REQUIRE_ALL=1 is set");
    }
    println!("SKIP: needs root");
    false
}

/// Kills (and reaps) every child when dropped: the namespace holders and
/// the daemon. The namespaces and their veths go with the holders.
#[derive(Default)]
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn run(mut cmd: Command) {
    cmd.stdin(Stdio::null());
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An anonymous network namespace held by a sleeping child; its pid.
pub fn holder(children: &mut Children) -> u32 {
    let mut c = Command::new("unshare")
        .args(["-n", "sleep", "300"])
        .stdin(Stdio::null())
        .spawn()
        .expect("unshare");
    let pid = c.id();
    // Wait until the child is in its own namespace (unshare has exec'd sleep).
    let me = std::fs::read_link("/proc/self/ns/net").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(ns) = std::fs::read_link(format!("/proc/{pid}/ns/net")) {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if ns != me && comm.trim() == "sleep" {
                break;
            }
        }
        if let Ok(Some(st)) = c.try_wait() {
            panic!("unshare -n exited: {st}");
        }
        assert!(Instant::now() < deadline, "namespace holder did not start");
        thread::sleep(Duration::from_millis(10));
    }
    children.0.push(c);
    pid
}

pub fn in_ns(pid: u32, args: &[&str]) -> Command {
    let mut c = Command::new("nsenter");
    c.arg("-t").arg(pid.to_string()).arg("-n").args(args);
    c
}

/// A veth pair `a` (in `ns_a`) – `b` (in `ns_b`), kernel IPv6 off on both, up.
pub fn veth(ns_a: u32, a: &str, mac_a: MacAddr, ns_b: u32, b: &str, mac_b: MacAddr) {
    run(in_ns(
        ns_a,
        &[
            "ip",
            "link",
            "add",
            a,
            "address",
            &mac_a.to_string(),
            "type",
            "veth",
            "peer",
            "name",
            b,
            "address",
            &mac_b.to_string(),
            "netns",
            &ns_b.to_string(),
        ],
    ));
    for (ns, ifname) in [(ns_a, a), (ns_b, b)] {
        run(in_ns(
            ns,
            &[
                "sh",
                "-c",
                &format!("echo 1 > /proc/sys/net/ipv6/conf/{ifname}/disable_ipv6"),
            ],
        ));
        run(in_ns(ns, &["ip", "link", "set", ifname, "up"]));
    }
}

/// Open a packet socket on `ifname` inside the namespace of `pid`.
pub fn socket_in(pid: u32, ifname: &str) -> Arc<PacketSocket> {
    let path = format!("/proc/{pid}/ns/net");
    let ifname = ifname.to_string();
    thread::spawn(move || {
        let f = File::open(&path).expect("open netns");
        // SAFETY: setns on this throwaway thread only.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        Arc::new(PacketSocket::open(&ifname).expect("packet socket"))
    })
    .join()
    .expect("socket thread")
}

/// A solicited NA for `target` (at `src_mac`) to `dst`.
pub fn na(src_mac: MacAddr, dst_mac: MacAddr, target: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(src_mac, dst_mac),
        Layer::ipv6(target, dst, 255),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::NeighborAdvert {
            r_flag: false,
            s_flag: true,
            o_flag: true,
            reserved: 0,
            target,
            options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                length: None,
                addr: src_mac,
            })],
        })),
    ])
    .emit()
}

/// The tester's side of the links: answers NS for the nodes it emulates
/// and collects the rest.
pub struct Tester {
    socks: Vec<Arc<PacketSocket>>,
    rx: Receiver<(usize, Vec<u8>)>,
    stop: Arc<AtomicBool>,
    /// (link, address, MAC) of the emulated nodes.
    nodes: Vec<(usize, Ipv6Addr, MacAddr)>,
}

impl Drop for Tester {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Tester {
    /// Reader threads on `socks` (access, core; or the one link of an MN),
    /// NSs for `nodes` answered.
    pub fn new(
        socks: impl Into<Vec<Arc<PacketSocket>>>,
        nodes: Vec<(usize, Ipv6Addr, MacAddr)>,
    ) -> Self {
        let socks = socks.into();
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        for (i, s) in socks.iter().enumerate() {
            let s = s.clone();
            let tx = tx.clone();
            let stop = stop.clone();
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(n) = s.recv(&mut buf) {
                        if tx.send((i, buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            });
        }
        Tester {
            socks,
            rx,
            stop,
            nodes,
        }
    }

    pub fn send(&self, link: usize, frame: &[u8]) {
        self.socks[link].send_frame(frame).expect("send");
    }

    /// Wait for a frame on `link` satisfying `pred`, answering address
    /// resolution for the emulated nodes meanwhile.
    pub fn expect(
        &self,
        link: usize,
        what: &str,
        within: Duration,
        pred: impl Fn(&Decoded) -> bool,
    ) -> Decoded {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok((l, bytes)) = self.rx.recv_timeout(left) else {
                panic!("no {what} on link {link} within {within:?}");
            };
            let d = Frame::decode(&bytes);
            self.reflexes(l, &d, &bytes);
            if l == link && pred(&d) {
                return d;
            }
        }
    }

    /// Everything received within `within`, reflexes included.
    pub fn collect(&self, within: Duration) -> Vec<(usize, Decoded)> {
        let deadline = Instant::now() + within;
        let mut all = Vec::new();
        while let Ok((l, bytes)) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            let d = Frame::decode(&bytes);
            self.reflexes(l, &d, &bytes);
            all.push((l, d));
        }
        all
    }

    fn reflexes(&self, link: usize, d: &Decoded, bytes: &[u8]) {
        let Some(Icmpv6Message::NeighborSolicit {
            target, options, ..
        }) = d.frame.icmpv6().map(|m| &m.message)
        else {
            return;
        };
        let Some(src) = d.frame.ipv6_headers().next().map(|i| i.src) else {
            return;
        };
        if src.is_unspecified() {
            return;
        }
        let node = self
            .nodes
            .iter()
            .find(|(l, a, _)| *l == link && a == target);
        if let Some(&(_, _, mac)) = node {
            let dst_mac =
                hmip6_ref::nd::slla(options).unwrap_or(MacAddr::from_bytes(&bytes[6..12]));
            self.send(link, &na(mac, dst_mac, *target, src));
        }
    }
}

/// Wait for the line `ready` on the daemon's stdout.
pub fn wait_ready(stdout: ChildStdout) {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if line == "ready" {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the daemon did not print `ready`");
}

/// Start `hmip6-ref ARGS` in the namespace of `ns`, wait for `ready`;
/// its stderr (the log) is returned, the child kept in `children`.
pub fn start_daemon(children: &mut Children, ns: u32, args: &[String]) -> ChildStderr {
    let mut daemon = in_ns(ns, &[env!("CARGO_BIN_EXE_hmip6-ref")])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hmip6-ref");
    let stdout = daemon.stdout.take().unwrap();
    let stderr = daemon.stderr.take().unwrap();
    children.0.push(daemon);
    wait_ready(stdout);
    stderr
}

/// The answer to `command` on the control socket at `path`, up to the
/// line `.`.
pub fn control(path: &Path, command: &str) -> String {
    let mut c = UnixStream::connect(path).expect("control socket");
    c.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    let mut r = BufReader::new(c.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 || line.trim() == "." {
            break;
        }
        answer.push_str(&line);
    }
    answer
}

/// SIGTERM the daemon (the last child) and wait for it: its exit status
/// and its log.
pub fn stop_daemon(children: &mut Children, mut stderr: ChildStderr) -> (ExitStatus, String) {
    let mut daemon = children.0.pop().unwrap();
    // SAFETY: signalling our own child. (nsenter forwards it.)
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(st) = daemon.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not stop on SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    };
    let mut log = String::new();
    let _ = stderr.read_to_string(&mut log);
    (status, log)
}

/// The corpus-against-reference checks (`map_conformance.rs`, `ar_conformance.rs`).
pub mod conformance;
