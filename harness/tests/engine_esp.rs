//! ESP-protected cases run by the engine against a small MAP of this
//! test's own (RFC 4140 12.1: local BUs and their BAs protected with ESP in
//! transport mode). No emulated node speaks ESP, so this binary re-executes
//! itself as the IUT (`HMIP6SPEC_ESP_MAP` set): a raw-socket MAP that opens
//! BUs sealed with `mn_to_map` (with the harness's own codec) and answers
//! with a BA sealed with `map_to_mn`, carrying a type 2 routing header. Its
//! faults:
//! - `--plain-ba`: the BA goes out unprotected;
//! - `--ignore-icv`: a BU whose ICV does not verify is accepted anyway;
//! - `--accept-plain`: an unprotected BU is accepted.
//!
//! The cases live in a temporary suite (the repository's catalogues, role
//! `map`); each must pass the conformant MAP and fail the faulty one, and
//! is NOT-APPLICABLE to a profile without the SAs it names.
//!
//! Own `main` (harness = false), for the child mode.

mod common;

use std::path::Path;

use common::engine::{load_profile, run, suite};
use hmip6spec::case::esp::{Sa, SaTable, Sealer};
use hmip6spec::case::frame_spec::{build_with, view_with, Defaults};
use hmip6spec::suite::Suite;
use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{Outgoing, PacketSocket, RawPacketSocket};
use hmip6spec::verdict::{CaseResult, Verdict};
use serde_json::{json, Value};
use wire::frame::{Frame, Layer};
use wire::MacAddr;

const CHILD_ENV: &str = "HMIP6SPEC_ESP_MAP";
const MN_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const MAP_KEY: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

fn sas() -> SaTable {
    let key = |h: &str| wire::hex::decode(h).unwrap();
    SaTable::new(vec![
        Sa {
            name: "mn_to_map".into(),
            spi: 0x1000,
            key: key(MN_KEY),
        },
        Sa {
            name: "map_to_mn".into(),
            spi: 0x2000,
            key: key(MAP_KEY),
        },
    ])
}

/// The BU sequence number of an ESP packet that fails its ICV, read past
/// the check (NULL encryption: the MH is in the clear).
fn seq_ignoring_icv(frame: &Frame) -> Option<u64> {
    let esp = frame.layers.iter().find_map(|l| match l {
        Layer::Esp(e) => Some(e),
        _ => None,
    })?;
    let body = esp.data.get(..esp.data.len().checked_sub(16)?)?;
    let pad = *body.get(body.len().checked_sub(2)?)? as usize;
    let mh = body.get(..body.len().checked_sub(2 + pad)?)?;
    // MH type 5 (BU): the sequence number follows the 6-octet header.
    (mh.get(2) == Some(&5)).then(|| u64::from(u16::from_be_bytes([mh[6], mh[7]])))
}

/// The MAP: `<ifname> [--plain-ba] [--ignore-icv] [--accept-plain]`.
fn esp_map(args: &[String]) -> i32 {
    let Some(ifname) = args.first() else {
        eprintln!("esp map: which interface?");
        return 2;
    };
    let flag = |f: &str| args.iter().any(|a| a == f);
    let (plain_ba, ignore_icv, accept_plain) = (
        flag("--plain-ba"),
        flag("--ignore-icv"),
        flag("--accept-plain"),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let raw = match RawPacketSocket::open_here(ifname, Outgoing::Drop) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("esp map: socket on {ifname}: {e}");
                return 2;
            }
        };
        let sock = PacketSocket::from_raw(ifname, raw).unwrap();
        println!("ready");
        let table = sas();
        let mut sealer = Sealer::new(table.clone(), None);
        while let Ok(f) = sock.recv().await {
            let decoded = Frame::decode(&f.bytes);
            let v = view_with(&decoded.frame, &[], &table);
            let esp = v.get("esp");
            let sa = esp.and_then(|e| e.get("sa")).and_then(Value::as_str);
            let icv_ok = esp.and_then(|e| e.get("icv_ok")) == Some(&json!(true));
            let seq = match (sa, icv_ok) {
                (Some("mn_to_map"), true) => {
                    v.pointer("/mh/binding_update/seq").and_then(Value::as_u64)
                }
                (Some("mn_to_map"), false) if ignore_icv => seq_ignoring_icv(&decoded.frame),
                (None, _) if accept_plain && esp.is_none() => {
                    v.pointer("/mh/binding_update/seq").and_then(Value::as_u64)
                }
                _ => None,
            };
            let Some(seq) = seq else {
                continue;
            };
            let rcoa = v["dest_opts"]
                .as_array()
                .and_then(|o| o.iter().find_map(|o| o.pointer("/home_address/address")))
                .cloned()
                .unwrap_or(Value::Null);
            let mut ba = json!({
                "eth": {"src": v["eth"]["dst"], "dst": v["eth"]["src"]},
                "ipv6": {"src": v["ipv6"]["dst"], "dst": v["ipv6"]["src"]},
                "routing": {"type": 2, "home_address": rcoa},
                "mh": {"binding_ack": {"status": 0, "seq": seq, "lifetime": 15}},
            });
            if !plain_ba {
                ba["esp"] = json!({"sa": "map_to_mn"});
            }
            let d = Defaults {
                src_mac: MacAddr([0; 6]),
                unicast_dst_mac: MacAddr([0; 6]),
            };
            match build_with(&ba, &d, &mut sealer) {
                Ok(b) => {
                    let _ = sock.send(&b.bytes()).await;
                }
                Err(e) => eprintln!("esp map: cannot build the BA: {e}"),
            }
        }
        0
    })
}

const CASE_HEAD: &str = "
role: map
requirements: [RFC4140-12.1-BU-AH-ESP]
topology:
  links: [access]
  nodes:
    mn: {link: access, addresses: [\"{pixit.lcoa}\"]}
vars: {rcoa: \"{pixit.map_prefix}::2:2\"}
steps:
  - send:
      from: mn
      ipv6: {src: \"{pixit.lcoa}\", dst: \"{pixit.map_address}\"}
      dest_opts: [{home_address: {address: \"{rcoa}\"}}]
";

const BA_EXPECTED: &str = "
  - expect:
      on: access
      within: 2s
      ipv6: {src: \"{pixit.map_address}\", dst: \"{pixit.lcoa}\"}
      routing: {type: 2, home_address: \"{rcoa}\"}
      esp: {sa: map_to_mn, icv_ok: true}
      mh: {binding_ack: {status: {below: 128}, seq: 100}}
";

/// `when`: the BA is the frame judged; no BA at all is INCONCLUSIVE.
const BA_JUDGED: &str = "
  - expect:
      on: access
      within: 1s
      when: {mh: {binding_ack: {seq: 100}}}
      esp: {sa: map_to_mn, icv_ok: true}
";

const NO_BA: &str = "
  - expect_none:
      on: access
      within: 400ms
      mh: {binding_ack: {present: true}}
";

/// A suite of the repository's catalogues and the ESP cases.
fn esp_suite(dir: &Path) -> Suite {
    let cases = dir.join("cases");
    std::fs::create_dir_all(cases.join("map")).unwrap();
    let repo = common::engine::repo().join("cases");
    for f in ["requirements.yaml", "pics.yaml"] {
        std::fs::copy(repo.join(f), cases.join(f)).unwrap();
    }
    let bu = |esp: &str| {
        format!("{esp}      mh: {{binding_update: {{seq: 100, a_flag: true, m_flag: true, lifetime: 15}}}}\n")
    };
    let files = [
        (
            "ba-protected",
            "A BU sealed with mn_to_map gets a BA sealed with map_to_mn",
            bu("      esp: {sa: mn_to_map}\n") + BA_EXPECTED,
        ),
        (
            "auto-protected",
            "A BU sealed by the profile's protect gets a protected BA",
            bu("") + BA_EXPECTED,
        ),
        (
            "bad-icv-dropped",
            "A BU whose ICV does not verify gets no BA",
            bu("      esp: {sa: mn_to_map, icv: corrupt}\n") + NO_BA,
        ),
        (
            "plain-bu-dropped",
            "An unprotected BU gets no BA",
            bu("      esp: none\n") + NO_BA,
        ),
        (
            "when-judges-the-ba",
            "The BA (the frame `when` names) is judged for its protection",
            bu("      esp: {sa: mn_to_map}\n") + BA_JUDGED,
        ),
        (
            "when-without-ba",
            "With no BA to judge, the expectation is INCONCLUSIVE",
            bu("      esp: none\n") + BA_JUDGED,
        ),
    ];
    for (name, title, steps) in files {
        std::fs::write(
            cases.join("map").join(format!("{name}.yaml")),
            format!("id: map.esp.{name}\ntitle: {title}{CASE_HEAD}{steps}"),
        )
        .unwrap();
    }
    match Suite::load(&cases) {
        Ok(s) => s,
        Err(d) => panic!("the ESP cases do not lint: {d:#?}"),
    }
}

/// Runs the ESP cases against the MAP with `flags`; with `with_sas` the
/// profile declares the two SAs (and `protect`).
fn verdicts(s: &Suite, dir: &Path, name: &str, flags: &str, with_sas: bool) -> Vec<CaseResult> {
    let exe = std::env::current_exe().unwrap().display().to_string();
    let mut p = format!(
        "role: map\nlaunch:\n  command: [{exe:?}, \"{{if.access}}\"{flags}]\n  env: {{{CHILD_ENV}: \"1\"}}\n  ready: {{stdout_line: ready, within: 5s}}\n"
    );
    if with_sas {
        p.push_str(&format!(
            "security_associations:\n  mn_to_map: {{spi: 0x1000, auth_key: \"{MN_KEY}\"}}\n  map_to_mn: {{spi: 0x2000, auth_key: \"{MAP_KEY}\"}}\nprotect:\n  mobility_header: mn_to_map\n"
        ));
    }
    let p = load_profile(s, dir, name, &p);
    run(s, p, dir, &["map.esp.*"], 2)
}

fn verdict<'a>(rs: &'a [CaseResult], id: &str) -> &'a CaseResult {
    rs.iter()
        .find(|r| r.id == format!("map.esp.{id}"))
        .unwrap_or_else(|| panic!("no result for {id}"))
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        std::process::exit(esp_map(&args));
    }
    if !require_root("engine_esp") {
        return;
    }
    // The repository's cases must still load (the ESP ones are separate).
    let _ = suite();
    let tmp = tempfile::tempdir().unwrap();
    let s = esp_suite(tmp.path());

    // The conformant MAP: everything passes, except that a BU it rightly
    // drops leaves `when` nothing to judge.
    let rs = verdicts(&s, tmp.path(), "conformant", "", true);
    let r = verdict(&rs, "when-without-ba");
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.reason);
    assert!(r.reason.contains("`when`"), "{}", r.reason);
    for r in rs.iter().filter(|r| r.id != "map.esp.when-without-ba") {
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "{}: {} {:?}",
            r.id,
            r.reason,
            r.diff
        );
    }
    assert_eq!(rs.len(), 6);

    // A plain BA: the cases expecting a protected one fail, and the diff
    // says the ESP is missing.
    let rs = verdicts(&s, tmp.path(), "plain-ba", ", --plain-ba", true);
    for id in ["ba-protected", "auto-protected", "when-judges-the-ba"] {
        let r = verdict(&rs, id);
        assert_eq!(r.verdict, Verdict::Fail, "{id}: {}", r.reason);
        assert_eq!(r.violated.as_deref(), Some("RFC4140-12.1-BU-AH-ESP"));
        assert!(
            r.diff
                .iter()
                .any(|d| d.field == "esp" && d.observed == "absent"),
            "{id}: {:?}",
            r.diff
        );
    }
    assert_eq!(verdict(&rs, "bad-icv-dropped").verdict, Verdict::Pass);

    // Accepting a forged BU, or an unprotected one.
    let rs = verdicts(&s, tmp.path(), "ignore-icv", ", --ignore-icv", true);
    let r = verdict(&rs, "bad-icv-dropped");
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.reason);
    assert!(r.reason.contains("where none may"), "{}", r.reason);
    assert_eq!(verdict(&rs, "plain-bu-dropped").verdict, Verdict::Pass);
    let rs = verdicts(&s, tmp.path(), "accept-plain", ", --accept-plain", true);
    assert_eq!(verdict(&rs, "plain-bu-dropped").verdict, Verdict::Fail);
    // Now the plain BU is answered (with a protected BA): judged, and fine.
    assert_eq!(verdict(&rs, "when-without-ba").verdict, Verdict::Pass);
    assert_eq!(verdict(&rs, "bad-icv-dropped").verdict, Verdict::Pass);

    // No SAs in the profile: the cases naming one (to send or to expect)
    // do not apply.
    let rs = verdicts(&s, tmp.path(), "no-sas", "", false);
    for id in ["ba-protected", "bad-icv-dropped"] {
        let r = verdict(&rs, id);
        assert_eq!(r.verdict, Verdict::NotApplicable, "{id}: {}", r.reason);
        assert!(r.reason.contains("\"mn_to_map\""), "{id}: {}", r.reason);
    }
    assert_eq!(
        verdict(&rs, "auto-protected").verdict,
        Verdict::NotApplicable
    );
    assert_eq!(verdict(&rs, "plain-bu-dropped").verdict, Verdict::Pass);
    println!("engine_esp: ok (6 cases against a conformant MAP, 3 faulty ones and a profile without SAs)");
}
