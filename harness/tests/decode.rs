//! The `decode` path end to end: captures made by other tools, the readable
//! dump of every sample (snapshots), the JSON form, and the CLI's errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use hmip6spec::capture_file::{self, CapturedFrame, LinkKind};
use hmip6spec::dump;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hmip6spec"))
}

/// A capture written by Scapy (tools/make_scapy_capture.py): frames 1-16
/// are well-formed, 17-22 each break one rule.
#[test]
fn scapy_capture_decodes_every_field_and_flags_every_malformed_frame() {
    let frames =
        capture_file::read_capture(&repo().join("captures/examples/scapy-hmipv6.pcap")).unwrap();
    assert_eq!(frames.len(), 22);
    let decoded: Vec<_> = frames.iter().map(|f| dump::decode(f).unwrap()).collect();
    for (i, d) in decoded.iter().enumerate().take(16) {
        assert!(d.findings.is_empty(), "frame {}: {:?}", i + 1, d.findings);
        // Byte-exact re-emission of another tool's frames.
        assert_eq!(d.frame.emit(), frames[i].data, "frame {}", i + 1);
    }
    let expected = [
        (17, "RFC4140-5-dist"),
        (18, "RFC4140-5-length"),
        (19, "RFC4861-6.1-hop-limit"),
        (20, "RFC4140-4.1-m-without-a"),
        (21, "RFC6275-6.1.1-checksum"),
        (22, "RFC6275-6.1.1-payload-proto"),
    ];
    for (n, rule) in expected {
        let f = &decoded[n - 1].findings;
        assert!(
            f.iter().any(|x| x.rule == rule),
            "frame {n}: want {rule}, got {f:?}"
        );
    }
    // Field spot checks against what the script asked Scapy for.
    let j = |n: usize| dump::frame_json(&frames[n - 1], Some(&decoded[n - 1]));
    let ra = j(1);
    let map = &ra["layers"][2]["message"]["router_advert"]["options"][5]["map"];
    assert_eq!(map["dist"], 1);
    assert_eq!(map["pref"], 10);
    assert_eq!(map["r_flag"], true);
    assert_eq!(map["valid_lifetime"], 3600);
    assert_eq!(map["address"], "2001:db8:ffff::1");
    let bu = j(3);
    assert_eq!(
        bu["layers"][2]["options"][1]["home_address"]["address"],
        "2001:db8:ffff::2:2"
    );
    let b = &bu["layers"][3]["message"]["binding_update"];
    assert_eq!(
        (
            b["seq"].as_u64(),
            b["a_flag"].as_bool(),
            b["m_flag"].as_bool(),
            b["h_flag"].as_bool()
        ),
        (Some(100), Some(true), Some(true), Some(false))
    );
    assert_eq!(b["lifetime"], 15);
    let ba = j(6);
    assert_eq!(
        ba["layers"][2]["data"]["type2"]["home_address"],
        "2001:db8:ffff::2:2"
    );
    assert_eq!(ba["layers"][3]["message"]["binding_ack"]["status"], 134);
    let hoti = j(10);
    let srcs: Vec<_> = hoti["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["layer"] == "ipv6")
        .map(|l| l["src"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        srcs,
        ["2001:db8:1::2", "2001:db8:ffff::2:2", "2001:db8:aaaa::2"]
    );
}

/// The readable dump of every sample frame, as a reviewed snapshot.
#[test]
fn readable_dump_of_every_sample() {
    for s in wire::samples::all() {
        let frame = CapturedFrame {
            number: 1,
            timestamp: None,
            link: LinkKind::Ethernet,
            interface: None,
            comments: vec![s.name.to_string()],
            data: s.frame.emit(),
        };
        let d = dump::decode(&frame);
        let mut out = Vec::new();
        dump::write_text(&mut out, &frame, d.as_ref()).unwrap();
        let text = String::from_utf8(out).unwrap();
        if let Some(rule) = s.breaks {
            assert!(text.contains(&format!("!! [{rule}]")), "{}: {text}", s.name);
        } else {
            assert!(text.contains("(no findings)"), "{}: {text}", s.name);
        }
        insta::assert_snapshot!(s.name, text);
    }
}

#[test]
fn json_lines_have_the_documented_shape() {
    let out = bin()
        .args(["decode", "--json"])
        .arg(repo().join("captures/examples/scapy-hmipv6.pcap"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 22);
    for (i, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["frame"], i + 1);
        assert!(v["layers"]
            .as_array()
            .is_some_and(|l| l.iter().all(|x| x["layer"].is_string())));
        for f in v["findings"].as_array().unwrap() {
            assert!(f["rule"].is_string() && f["message"].is_string() && f["offset"].is_u64());
        }
    }
    let last: serde_json::Value = serde_json::from_str(lines[21]).unwrap();
    assert_eq!(last["findings"][0]["rule"], "RFC6275-6.1.1-payload-proto");
    assert_eq!(last["findings"][0]["offset"], 78);
}

#[test]
fn check_flag_gates_on_findings() {
    let st = |file: &str| {
        bin()
            .args(["decode", "--check"])
            .arg(repo().join(file))
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(st("captures/examples/scapy-hmipv6.pcap"), Some(1));
    assert_eq!(
        st("captures/examples/hmipv6-samples-well-formed.pcapng"),
        Some(0)
    );
}

#[test]
fn not_a_capture_is_exit_2_with_a_reason() {
    let dir = std::env::temp_dir().join(format!("hmip6spec-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("notes.txt");
    std::fs::write(&bogus, "hello, this is text").unwrap();
    let out = bin().arg("decode").arg(&bogus).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    let out = bin()
        .arg("decode")
        .arg(dir.join("missing.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A pcap cut inside a record.
    let mut bytes = std::fs::read(repo().join("captures/examples/scapy-hmipv6.pcap")).unwrap();
    bytes.truncate(100);
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, bytes).unwrap();
    let out = bin().arg("decode").arg(&cut).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("malformed capture at byte"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The shipped sample captures are exactly what the samples emit today.
#[test]
fn shipped_sample_captures_are_current() {
    for (file, well_formed) in [
        ("hmipv6-samples.pcapng", None),
        ("hmipv6-samples-well-formed.pcapng", Some(true)),
    ] {
        let frames =
            capture_file::read_capture(&repo().join("captures/examples").join(file)).unwrap();
        let samples: Vec<_> = wire::samples::all()
            .into_iter()
            .filter(|s| well_formed.is_none() || s.breaks.is_none())
            .collect();
        assert_eq!(
            frames.len(),
            samples.len(),
            "{file}: regenerate with `cargo run -p hmip6spec --example write_samples`"
        );
        for (f, s) in frames.iter().zip(&samples) {
            assert_eq!(
                f.data,
                s.frame.emit(),
                "{file}: {} changed; regenerate",
                s.name
            );
            assert_eq!(f.comments, vec![s.name.to_string()]);
        }
    }
}
