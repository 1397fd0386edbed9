//! What the shared-IUT modes need from a topology: captures started and
//! finished on an existing topology (one per case), draining the tester's
//! sockets between cases, and attaching to existing host interfaces
//! without changing them.

mod common;

use std::process::Command;
use std::time::Duration;

use common::frame;
use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{
    AttachLink, AttachSpec, LinkSpec, NetNs, Outgoing, Side, Topology, TopologyError, TopologySpec,
};
use tokio::time::Instant;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A captured frame: interface number, bytes, comments.
type Captured = (u32, Vec<u8>, Vec<String>);

/// (interface names, frames) of a pcapng file, read with pcap-file.
fn read(path: &std::path::Path) -> (Vec<String>, Vec<Captured>) {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut r = PcapNgReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let (mut ifs, mut frames) = (Vec::new(), Vec::new());
    while let Some(b) = r.next_block() {
        match b.unwrap() {
            Block::InterfaceDescription(i) => ifs.push(
                i.options
                    .iter()
                    .find_map(|o| match o {
                        InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default(),
            ),
            Block::EnhancedPacket(e) => frames.push((
                e.interface_id,
                e.data.to_vec(),
                e.options
                    .iter()
                    .filter_map(|o| match o {
                        EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                        _ => None,
                    })
                    .collect(),
            )),
            _ => {}
        }
    }
    (ifs, frames)
}

#[test]
fn attach_specs_are_checked_without_touching_the_system() {
    let link = |name: &str, ifname: &str| AttachLink {
        name: name.into(),
        ifname: ifname.into(),
        iut_mac: [2, 0, 0, 0, 0, 1],
    };
    let bad = [
        (vec![], "at least one link"),
        (
            vec![link("access", "ext0"), link("access", "ext1")],
            "appears twice",
        ),
        (
            vec![link("access", "ext0"), link("core", "ext0")],
            "both on host interface \"ext0\"",
        ),
        (vec![link("access", "a/b")], "may only use"),
        (vec![link("all", "ext0")], "reserved"),
    ];
    let rt = rt();
    for (links, want) in bad {
        let e = rt
            .block_on(Topology::attach(AttachSpec {
                links,
                ..AttachSpec::default()
            }))
            .unwrap_err();
        assert!(matches!(e, TopologyError::InvalidSpec(_)), "{e}");
        assert!(e.to_string().contains(want), "{e} (wanted {want:?})");
    }
}

#[test]
fn captures_start_and_finish_on_a_built_topology_and_drain_empties_the_sockets() {
    if !require_root("captures_start_and_finish_on_a_built_topology") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rt = rt();
    rt.block_on(async {
        let topo = Topology::build(TopologySpec {
            links: vec![LinkSpec::new("access"), LinkSpec::new("core")],
            seed: 7,
            capture: None,
        })
        .await
        .unwrap();
        let iut_access = topo
            .open_socket(Side::Iut, "access", Outgoing::Drop)
            .unwrap();
        let iut_core = topo.open_socket(Side::Iut, "core", Outgoing::Drop).unwrap();
        let to_tester = |i: usize| topo.links()[i].tester_mac;
        let from_iut = |i: usize| topo.links()[i].iut_mac;

        // Frames before any capture stay queued on the tester's sockets
        // until drained.
        for n in 0..3u8 {
            iut_access
                .send(&frame(to_tester(0), from_iut(0), &[b'q', n]))
                .await
                .unwrap();
        }
        let tester = topo.tester_link("access").unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        // The first frame proves they arrived; the two others are drained.
        let first = tester.recv_until(deadline, |_| true).await.unwrap();
        assert!(first.is_some());
        let t0 = Instant::now();
        let mut drained = 0;
        while drained < 2 {
            drained += topo.drain();
            assert!(t0.elapsed() < Duration::from_secs(2), "frames never queued");
            tokio::task::yield_now().await;
        }
        assert_eq!(drained, 2);
        let none = tester
            .recv_until(Instant::now() + Duration::from_millis(100), |_| true)
            .await
            .unwrap();
        assert!(none.is_none(), "drained frames came back");

        // Capture 1: core only. Annotations on access are no-ops.
        let one = tmp.path().join("one.pcapng");
        assert!(topo.start_capture(&one, &["nope"]).is_err());
        topo.start_capture(&one, &["core"]).unwrap();
        let again = topo.start_capture(&tmp.path().join("x.pcapng"), &["core"]);
        assert!(again.unwrap_err().to_string().contains("already running"));
        topo.annotate("core", "step 1: expect c1").unwrap();
        topo.annotate("access", "not captured").unwrap();
        iut_core
            .send(&frame(to_tester(1), from_iut(1), b"c1"))
            .await
            .unwrap();
        iut_access
            .send(&frame(to_tester(0), from_iut(0), b"a1"))
            .await
            .unwrap();
        // Both frames reached the tester before the capture finishes.
        let core = topo.tester_link("core").unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        assert!(core.recv_until(deadline, |_| true).await.unwrap().is_some());
        assert!(tester
            .recv_until(deadline, |_| true)
            .await
            .unwrap()
            .is_some());
        let sum = topo.finish_capture().unwrap().expect("a capture ran");
        assert_eq!(sum.frames, vec![1]);
        assert!(topo.finish_capture().unwrap().is_none());

        // Capture 2: both links, in the order asked.
        let two = tmp.path().join("two.pcapng");
        topo.start_capture(&two, &["access", "core"]).unwrap();
        topo.annotate("core", "step 1: expect c2").unwrap();
        iut_core
            .send(&frame(to_tester(1), from_iut(1), b"c2"))
            .await
            .unwrap();
        iut_access
            .send(&frame(to_tester(0), from_iut(0), b"a2"))
            .await
            .unwrap();
        assert!(core.recv_until(deadline, |_| true).await.unwrap().is_some());
        assert!(tester
            .recv_until(deadline, |_| true)
            .await
            .unwrap()
            .is_some());
        topo.close().unwrap().expect("close finishes the capture");

        let (ifs, frames) = read(&one);
        assert_eq!(ifs, ["core"]);
        assert_eq!(frames.len(), 1);
        assert!(has(&frames[0].1, b"c1"));
        assert_eq!(frames[0].2, ["step 1: expect c1"]);
        let (ifs, frames) = read(&two);
        assert_eq!(ifs, ["access", "core"]);
        assert_eq!(frames.len(), 2);
        for (iface, data, comments) in &frames {
            match iface {
                0 => assert!(has(data, b"a2") && comments.is_empty()),
                1 => {
                    assert!(has(data, b"c2"));
                    assert_eq!(comments, &["step 1: expect c2"]);
                }
                _ => panic!("interface {iface}"),
            }
        }
    });
}

/// Whether `data` holds `marker` (frames are padded to 60 bytes).
fn has(data: &[u8], marker: &[u8]) -> bool {
    data.windows(marker.len()).any(|w| w == marker)
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn attach_uses_existing_interfaces_as_they_are() {
    if !require_root("attach_uses_existing_interfaces_as_they_are") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("attached.pcapng");
    std::thread::spawn(move || {
        // This thread's namespace plays the host's.
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1").unwrap();
        let peer_ns = NetNs::new().unwrap();
        let mut holder = peer_ns
            .spawn({
                let mut c = Command::new("sleep");
                c.arg("600");
                c
            })
            .unwrap();
        let pid = holder.pid();
        sh(&format!(
            "ip link add ext0 mtu 1400 type veth peer name eth0 netns {pid} && \
             nsenter -t {pid} -n ip link set eth0 up && ip link set ext0 up"
        ));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !sh("ip -o link show dev ext0").contains("state UP") {
            assert!(std::time::Instant::now() < deadline, "ext0 never came up");
            std::thread::sleep(Duration::from_millis(10));
        }
        let before = sh("ip -d link show dev ext0");
        assert!(before.contains("promiscuity 0"), "{before}");
        let here = std::fs::read_link("/proc/thread-self/ns/net").unwrap();

        let rt = rt();
        rt.block_on(async {
            let missing = Topology::attach(AttachSpec {
                links: vec![AttachLink {
                    name: "access".into(),
                    ifname: "nosuch0".into(),
                    iut_mac: [2, 0, 0, 0, 0, 2],
                }],
                ..AttachSpec::default()
            })
            .await
            .unwrap_err()
            .to_string();
            assert!(missing.contains("\"nosuch0\""), "{missing}");

            let iut_mac = [2, 0x42, 0, 0, 0, 2];
            let topo = Topology::attach(AttachSpec {
                links: vec![AttachLink {
                    name: "access".into(),
                    ifname: "ext0".into(),
                    iut_mac,
                }],
                seed: 9,
                capture: Some(path.clone()),
            })
            .await
            .unwrap();
            assert!(topo.is_attached());
            let l = topo.links()[0].clone();
            assert_eq!((l.name.as_str(), l.ifname.as_str()), ("access", "ext0"));
            assert_eq!((l.mtu, l.iut_mac), (1400, iut_mac));
            assert!(topo.iut_ns().is_none());
            assert!(topo.set_iut_if_sysctl("access", "hop_limit", "1").is_err());
            assert!(topo.set_iut_link_up("access", false).is_err());
            assert!(topo
                .open_socket(Side::Iut, "access", Outgoing::Drop)
                .is_err());
            // The sockets are promiscuous while attached.
            assert!(!sh("ip -d link show dev ext0").contains("promiscuity 0"));

            // IUT-side commands are plain commands where the harness runs.
            let mut c = Command::new("readlink");
            c.arg("/proc/self/ns/net");
            let mut child = topo.spawn_iut(c).unwrap();
            let st = child
                .wait_until(Instant::now() + Duration::from_secs(5))
                .await
                .unwrap();
            assert!(st.is_some_and(|s| s.success()));
            assert_eq!(child.stdout().trim(), here.to_string_lossy());

            // Frames both ways, including to a MAC that is not ext0's.
            let box_side = PeerSocket::open(&peer_ns);
            let tester = topo.tester_link("access").unwrap();
            topo.annotate("access", "step 1: send").unwrap();
            tester
                .send(&frame(iut_mac, l.tester_mac, b"to-box"))
                .await
                .unwrap();
            assert!(box_side.recv_holding(b"to-box"));
            let mut node = l.tester_mac;
            node[5] = 0x10;
            box_side.send(&frame(node, iut_mac, b"to-node"));
            let got = tester
                .recv_until(Instant::now() + Duration::from_secs(2), |b| {
                    has(b, b"to-node")
                })
                .await
                .unwrap();
            assert!(got.is_some(), "a frame for an emulated node's MAC");
            let sum = topo.close().unwrap().unwrap();
            assert_eq!(sum.frames, vec![2]);
        });
        let (ifs, frames) = read(&path);
        assert_eq!(ifs, ["access"]);
        assert_eq!(frames[0].2, ["step 1: send"]);
        // Closed: the interface is as it was.
        assert_eq!(sh("ip -d link show dev ext0"), before);
        let _ = holder.kill();
    })
    .join()
    .unwrap();
}

/// A blocking packet socket on the peer's end (`eth0` in `ns`).
struct PeerSocket(hmip6spec::topology::RawPacketSocket);

impl PeerSocket {
    fn open(ns: &NetNs) -> PeerSocket {
        PeerSocket(
            ns.run(|| hmip6spec::topology::RawPacketSocket::open_here("eth0", Outgoing::Drop))
                .unwrap()
                .unwrap(),
        )
    }

    fn send(&self, f: &[u8]) {
        self.0.try_send(f).unwrap();
    }

    fn recv_holding(&self, tail: &[u8]) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            match self.0.try_recv().unwrap() {
                Some(f) if has(&f.bytes, tail) => return true,
                Some(_) => {}
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        false
    }
}
