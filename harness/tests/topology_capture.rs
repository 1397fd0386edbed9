//! Every frame of every link, both directions, in one pcapng.

mod common;

use std::time::Duration;

use common::frame;
use hmip6spec::topology::testing::{require_root, require_tshark};
use hmip6spec::topology::{LinkSpec, Outgoing, Side, Topology, TopologySpec};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::blocks::interface_statistics::InterfaceStatisticsOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use tokio::time::Instant;

struct Epb {
    iface: u32,
    ts: Duration,
    data: Vec<u8>,
    comments: Vec<String>,
    flags: Option<u32>,
}

struct Read {
    idbs: Vec<(String, Option<u8>)>,
    epbs: Vec<Epb>,
    /// Comments of the Interface Statistics Blocks, per interface.
    isb_comments: Vec<(u32, String)>,
}

fn read_capture(path: &std::path::Path) -> Read {
    let file = std::fs::File::open(path).unwrap();
    let mut r = PcapNgReader::new(file).unwrap();
    let mut idbs = Vec::new();
    let mut epbs = Vec::new();
    let mut isb_comments = Vec::new();
    while let Some(b) = r.next_block() {
        match b.unwrap() {
            Block::InterfaceStatistics(s) => {
                for o in &s.options {
                    if let InterfaceStatisticsOption::Comment(c) = o {
                        isb_comments.push((s.interface_id, c.to_string()));
                    }
                }
            }
            Block::InterfaceDescription(i) => {
                let mut name = String::new();
                let mut tsresol = None;
                for o in &i.options {
                    match o {
                        InterfaceDescriptionOption::IfName(n) => name = n.to_string(),
                        InterfaceDescriptionOption::IfTsResol(t) => tsresol = Some(*t),
                        _ => {}
                    }
                }
                idbs.push((name, tsresol));
            }
            Block::EnhancedPacket(e) => epbs.push(Epb {
                iface: e.interface_id,
                ts: e.timestamp,
                data: e.data.to_vec(),
                comments: e
                    .options
                    .iter()
                    .filter_map(|o| match o {
                        EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                        _ => None,
                    })
                    .collect(),
                flags: e.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Flags(f) => Some(*f),
                    _ => None,
                }),
            }),
            _ => {}
        }
    }
    Read {
        idbs,
        epbs,
        isb_comments,
    }
}

#[tokio::test]
async fn capture_holds_both_links_both_directions_in_order_with_comments() {
    if !require_root("capture_holds_both_links_both_directions_in_order_with_comments") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hmip6spec-capture-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("case.pcapng");
    let spec = TopologySpec {
        links: vec![LinkSpec::new("access"), LinkSpec::new("core")],
        seed: 9,
        capture: Some(path.clone()),
    };
    let topo = Topology::build(spec).await.unwrap();
    let (a, c) = (topo.links()[0].clone(), topo.links()[1].clone());
    let access = topo.tester_link("access").unwrap();
    let core = topo.tester_link("core").unwrap();
    let iut_access = topo
        .open_socket(Side::Iut, "access", Outgoing::Drop)
        .unwrap();

    // tester->IUT on access, core, access; then IUT->tester on access.
    let f1 = frame(a.iut_mac, a.tester_mac, b"one");
    let f2 = frame(c.iut_mac, c.tester_mac, b"two");
    let f3 = frame(a.iut_mac, a.tester_mac, b"three");
    let f4 = frame(a.tester_mac, a.iut_mac, b"four");
    topo.annotate("access", "step 1: send one").unwrap();
    access.send(&f1).await.unwrap();
    topo.annotate("core", "step 2: send two").unwrap();
    core.send(&f2).await.unwrap();
    access.send(&f3).await.unwrap();
    topo.annotate("access", "step 4: expect four").unwrap();
    iut_access.send(&f4).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    assert!(access
        .recv_until(deadline, |b| b == f4.as_slice())
        .await
        .unwrap()
        .is_some());
    topo.annotate("core", "step 5: nothing follows").unwrap();
    let summary = topo.close().unwrap().expect("capture summary");
    assert_eq!(summary.frames, vec![3, 1]);
    assert_eq!(summary.drops, vec![0, 0]);

    let Read {
        idbs,
        epbs,
        isb_comments,
    } = read_capture(&path);
    assert_eq!(
        isb_comments,
        vec![(
            1,
            "annotation not followed by a frame: step 5: nothing follows".to_string()
        )]
    );
    assert_eq!(
        idbs,
        vec![
            ("access".to_string(), Some(9)),
            ("core".to_string(), Some(9))
        ]
    );
    let got: Vec<(u32, &[u8])> = epbs.iter().map(|e| (e.iface, e.data.as_slice())).collect();
    assert_eq!(
        got,
        vec![(0, &f1[..]), (1, &f2[..]), (0, &f3[..]), (0, &f4[..])],
        "frames missing, extra, out of order or on the wrong interface"
    );
    for w in epbs.windows(2) {
        assert!(w[0].ts <= w[1].ts, "timestamps out of order");
    }
    assert!(epbs
        .iter()
        .all(|e| e.ts > Duration::from_secs(1_600_000_000)));
    // outbound = sent by the tester, inbound = sent by the IUT.
    let flags: Vec<Option<u32>> = epbs.iter().map(|e| e.flags).collect();
    assert_eq!(flags, vec![Some(2), Some(2), Some(2), Some(1)]);
    let comments: Vec<Vec<String>> = epbs.iter().map(|e| e.comments.clone()).collect();
    assert_eq!(
        comments,
        vec![
            vec!["step 1: send one".to_string()],
            vec!["step 2: send two".to_string()],
            vec![],
            vec!["step 4: expect four".to_string()],
        ]
    );

    if require_tshark(
        "capture_holds_both_links_both_directions_in_order_with_comments (tshark part)",
    ) {
        let out = std::process::Command::new("tshark")
            .args(["-r"])
            .arg(&path)
            .args([
                "-T",
                "fields",
                "-e",
                "frame.interface_name",
                "-e",
                "frame.comment",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "tshark failed: {stderr}");
        assert!(
            !stderr.to_lowercase().contains("error"),
            "tshark complained: {stderr}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines,
            vec![
                "access\tstep 1: send one",
                "core\tstep 2: send two",
                "access\t",
                "access\tstep 4: expect four",
            ],
            "tshark's view differs"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
