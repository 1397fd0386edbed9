//! The MAP daemon on real links: two veth pairs between two anonymous
//! network namespaces (held by `unshare -n` children, so nothing is left
//! behind when they die), `hmip6-ref map` in one, the test's packet
//! sockets in the other.
//!
//! Needs root (CAP_SYS_ADMIN for namespaces, CAP_NET_ADMIN for links).
//! Without it the test prints `SKIP: needs root` and passes, unless
//! HMIP6SPEC_REQUIRE_ALL=1.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hmip6_ref::link::{FrameSink, PacketSocket};
use wire::frame::{Decoded, ExtLayer, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipv6_options::{Ipv6Option, OptionsHeaderRepr};
use wire::mobility::{BindingUpdateRepr, MhMessage, MobilityRepr};
use wire::nd::{LinkLayerAddrRepr, NdOption};
use wire::MacAddr;

const MAP_ACCESS_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0a, 0x01]);
const MAP_CORE_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0c, 0x01]);
const MN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x06]);
const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
const ROUTER: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0xfe);
const LCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
const RCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 2, 2);
const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 5);

const ACCESS: usize = 0;
const CORE: usize = 1;

/// Kills (and reaps) every child when dropped: the namespace holders and
/// the daemon. The namespaces and their veths go with the holders.
#[derive(Default)]
struct Children(Vec<Child>);

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
fn holder(children: &mut Children) -> u32 {
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

fn in_ns(pid: u32, args: &[&str]) -> Command {
    let mut c = Command::new("nsenter");
    c.arg("-t").arg(pid.to_string()).arg("-n").args(args);
    c
}

/// A veth pair `a` (in `ns_a`) – `b` (in `ns_b`), kernel IPv6 off on both, up.
fn veth(ns_a: u32, a: &str, mac_a: MacAddr, ns_b: u32, b: &str, mac_b: MacAddr) {
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
fn socket_in(pid: u32, ifname: &str) -> Arc<PacketSocket> {
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

/// Frames from both tester sockets, tagged by link.
fn readers(socks: &[Arc<PacketSocket>; 2], stop: Arc<AtomicBool>) -> Receiver<(usize, Vec<u8>)> {
    let (tx, rx) = mpsc::channel();
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
    rx
}

fn bu(seq: u16) -> Vec<u8> {
    Frame::new(vec![
        Layer::ethernet(MN_MAC, MAP_ACCESS_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr::aligned(vec![
            Ipv6Option::HomeAddress {
                length: None,
                address: RCOA,
            },
        ]))),
        Layer::Mobility(MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(seq, 15)),
            vec![],
        )),
    ])
    .emit()
}

fn na(src_mac: MacAddr, dst_mac: MacAddr, target: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
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

/// The tester's side of both links: answers NS for the emulated MN and
/// router, and collects the rest.
struct Tester {
    socks: [Arc<PacketSocket>; 2],
    rx: Receiver<(usize, Vec<u8>)>,
}

impl Tester {
    fn send(&self, link: usize, frame: &[u8]) {
        self.socks[link].send_frame(frame).expect("send");
    }

    /// Wait for a frame on `link` satisfying `pred`, answering address
    /// resolution for the emulated nodes meanwhile.
    fn expect(
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
            self.reflexes(l, &d);
            if l == link && pred(&d) {
                return d;
            }
        }
    }

    fn reflexes(&self, link: usize, d: &Decoded) {
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
        let (mac, ours) = match link {
            ACCESS => (MN_MAC, *target == LCOA),
            _ => (ROUTER_MAC, *target == ROUTER),
        };
        if ours {
            let dst_mac = hmip6_ref::nd::slla(options).unwrap_or(MAP_ACCESS_MAC);
            self.send(link, &na(mac, dst_mac, *target, src));
        }
    }
}

fn ba_of(d: &Decoded) -> Option<wire::mobility::BindingAckRepr> {
    match d.frame.mobility().map(|m| &m.message) {
        Some(MhMessage::BindingAck(b)) => Some(b.clone()),
        _ => None,
    }
}

fn rh2_of(d: &Decoded) -> Option<Ipv6Addr> {
    d.frame.layers.iter().find_map(|l| match l {
        Layer::Routing(r) => r.repr.type2_address(),
        _ => None,
    })
}

fn wait_ready(stdout: ChildStdout) {
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
        .expect("the MAP did not print `ready`");
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn map_daemon_on_veths() {
    if !is_root() {
        if std::env::var("HMIP6SPEC_REQUIRE_ALL").as_deref() == Ok("1") {
            panic!("map_daemon_on_veths needs root and HMIP6SPEC_REQUIRE_ALL=1 is set");
        }
        println!("SKIP: needs root");
        return;
    }
    let mut children = Children::default();
    let map_ns = holder(&mut children);
    let test_ns = holder(&mut children);
    veth(map_ns, "access0", MAP_ACCESS_MAC, test_ns, "tacc0", MN_MAC);
    veth(map_ns, "core0", MAP_CORE_MAC, test_ns, "tcore0", ROUTER_MAC);
    let socks = [socket_in(test_ns, "tacc0"), socket_in(test_ns, "tcore0")];
    let stop = Arc::new(AtomicBool::new(false));
    let tester = Tester {
        rx: readers(&socks, stop.clone()),
        socks,
    };

    let control = std::env::temp_dir().join(format!("hmip6-ref-map-{}.sock", std::process::id()));
    let mut daemon = in_ns(map_ns, &[env!("CARGO_BIN_EXE_hmip6-ref")])
        .args([
            "map",
            "--access",
            "access0",
            "--core",
            "core0",
            "--address",
            &MAP.to_string(),
            "--access-prefix",
            "2001:db8:1::/64",
            "--default-router",
            &ROUTER.to_string(),
            "--retrans-timer",
            "200ms",
            "--log",
            "json",
            "--control",
        ])
        .arg(&control)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hmip6-ref map");
    let stdout = daemon.stdout.take().unwrap();
    let mut stderr = daemon.stderr.take().unwrap();
    children.0.push(daemon);
    wait_ready(stdout);

    // A local BU: DAD NS for the RCoA on core, then the BA with RH2 = RCoA.
    tester.send(ACCESS, &bu(100));
    tester.expect(CORE, "DAD NS for the RCoA", Duration::from_secs(3), |d| {
        d.frame
            .ipv6_headers()
            .next()
            .is_some_and(|i| i.src.is_unspecified())
            && matches!(d.frame.icmpv6().map(|m| &m.message),
                Some(Icmpv6Message::NeighborSolicit { target, .. }) if *target == RCOA)
    });
    let ba = tester.expect(ACCESS, "BA", Duration::from_secs(3), |d| ba_of(d).is_some());
    let b = ba_of(&ba).unwrap();
    assert_eq!((b.status, b.seq, b.lifetime), (0, 100, 15));
    assert_eq!(rh2_of(&ba), Some(RCOA));
    assert!(ba.findings.is_empty(), "{:?}", ba.findings);

    // Proxy ND: an NS for the RCoA from the router is answered by the MAP.
    let ns = hmip6_ref::nd::ns_frame(ROUTER_MAC, ROUTER, RCOA);
    tester.send(CORE, &ns);
    let proxy = tester.expect(CORE, "proxy NA for the RCoA", Duration::from_secs(2), |d| {
        matches!(d.frame.icmpv6().map(|m| &m.message),
            Some(Icmpv6Message::NeighborAdvert { target, s_flag: true, .. }) if *target == RCOA)
    });
    let tlla = hmip6_ref::nd::tlla(proxy.frame.icmpv6().unwrap().message.options().unwrap());
    assert_eq!(tlla, Some(MAP_CORE_MAC));

    // A packet for the RCoA is tunnelled to the LCoA.
    let to_rcoa = Frame::new(vec![
        Layer::ethernet(ROUTER_MAC, MAP_CORE_MAC),
        Layer::ipv6(CN, RCOA, 40),
        Layer::Icmpv6(Icmpv6Repr::new(Icmpv6Message::EchoRequest {
            ident: 9,
            seq: 1,
            data: b"tunnel me".to_vec(),
        })),
    ])
    .emit();
    tester.send(CORE, &to_rcoa);
    let tunnelled = tester.expect(ACCESS, "tunnelled packet", Duration::from_secs(2), |d| {
        d.frame.ipv6_headers().count() == 2
    });
    let ips: Vec<_> = tunnelled.frame.ipv6_headers().cloned().collect();
    assert_eq!((ips[0].src, ips[0].dst), (MAP, LCOA));
    assert_eq!((ips[1].src, ips[1].dst, ips[1].hop_limit), (CN, RCOA, 39));

    // A truncated BU does not kill it: it still answers the next BU.
    let full = bu(101);
    tester.send(ACCESS, &full[..full.len() - 13]);
    tester.send(ACCESS, &full[..60]);
    tester.send(ACCESS, &bu(101));
    let ba = tester.expect(
        ACCESS,
        "BA after truncated BUs",
        Duration::from_secs(2),
        |d| ba_of(d).is_some(),
    );
    assert_eq!(ba_of(&ba).unwrap().seq, 101);

    // The control socket lists the binding.
    let mut c = UnixStream::connect(&control).expect("control socket");
    c.write_all(b"bindings\n").unwrap();
    let mut answer = String::new();
    let mut r = BufReader::new(c.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 || line.trim() == "." {
            break;
        }
        answer.push_str(&line);
    }
    assert!(
        answer.contains("\"rcoa\":\"2001:db8:ffff::2:2\""),
        "{answer}"
    );
    assert!(answer.contains("\"lcoa\":\"2001:db8:1::2\""), "{answer}");
    drop(c);

    // SIGTERM: a clean exit.
    let mut daemon = children.0.pop().unwrap();
    // SAFETY: signalling our own child. (nsenter forwards it to the MAP.)
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(st) = daemon.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the MAP did not stop on SIGTERM");
        thread::sleep(Duration::from_millis(20));
    };
    let mut log = String::new();
    let _ = stderr.read_to_string(&mut log);
    assert!(status.success(), "exit {status}; log:\n{log}");
    for event in [
        "bu_received",
        "dad_start",
        "binding_created",
        "ba_sent",
        "tunnel_encap",
        "drop",
    ] {
        assert!(
            log.contains(&format!("\"event\":\"{event}\"")),
            "no {event} in:\n{log}"
        );
    }
    assert!(!control.exists(), "control socket left behind");
    stop.store(true, Ordering::Relaxed);
}
