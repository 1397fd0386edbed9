//! The host cases against faulty hosts: each case must fail an IUT that
//! breaks the requirement it checks, not only pass the Linux kernel.
//!
//! The Linux kernel cannot be made to accept an RA with an option of
//! Length 0, nor to act on a MAP option, so this test carries a small
//! faulty host of its own, run as the IUT (this binary re-executed in the
//! IUT's namespace, `HMIP6SPEC_FAULTY_HOST` set). It does its own IPv6 on a
//! raw socket and has two faults:
//! - `--no-option-validation`: on every RA it forms an address from each
//!   Prefix Information option with A set and probes it with DAD, without
//!   checking the RA's options (RFC 4861 6.1.2: an RA with an option of
//!   Length 0 must be discarded);
//! - `--register-with-map`: on every RA carrying a MAP option it sends a
//!   local Binding Update to that MAP, as if it were HMIPv6-aware (a node
//!   without HMIPv6 must ignore the option).
//!
//! Own `main` (harness = false), for the child mode.

mod common;

use std::net::Ipv6Addr;

use common::engine::{linux_host, run, suite};
use common::kernel::require_ping;
use hmip6spec::case::frame_spec::{build, view, Defaults};
use hmip6spec::topology::node::eui64_address;
use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{Outgoing, PacketSocket, RawPacketSocket};
use hmip6spec::verdict::Verdict;
use serde_json::{json, Value};
use wire::frame::Frame;
use wire::MacAddr;

const CHILD_ENV: &str = "HMIP6SPEC_FAULTY_HOST";

/// The faulty host: `<ifname> [--no-option-validation] [--register-with-map]`.
fn faulty_host(args: &[String]) -> i32 {
    let Some(ifname) = args.first() else {
        eprintln!("faulty host: which interface?");
        return 2;
    };
    let dad = args.iter().any(|a| a == "--no-option-validation");
    let register = args.iter().any(|a| a == "--register-with-map");
    let mac = match mac_of(ifname) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("faulty host: MAC of {ifname}: {e}");
            return 2;
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let raw = match RawPacketSocket::open_here(ifname, Outgoing::Drop) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("faulty host: socket on {ifname}: {e}");
                return 2;
            }
        };
        let sock = PacketSocket::from_raw(ifname, raw).unwrap();
        println!("ready");
        let d = Defaults {
            src_mac: mac,
            unicast_dst_mac: MacAddr([0xff; 6]),
        };
        let mut seq = 1u16;
        while let Ok(f) = sock.recv().await {
            let decoded = Frame::decode(&f.bytes);
            let v = view(&decoded.frame, &[]);
            let Some(ra) = v.pointer("/icmpv6/router_advert") else {
                continue;
            };
            let eth_src = v.pointer("/eth/src").cloned().unwrap_or(Value::Null);
            let options = ra["options"].as_array().cloned().unwrap_or_default();
            let mut address = None;
            for o in &options {
                let Some(p) = o.get("prefix_information") else {
                    continue;
                };
                if p["a_flag"] != json!(true) {
                    continue;
                }
                let prefix: Ipv6Addr = p["prefix"].as_str().unwrap_or("::").parse().unwrap();
                let a = eui64_address(prefix, mac);
                address = Some(a);
                if dad {
                    let o = a.octets();
                    let group = format!("ff02::1:ff{:02x}:{:02x}{:02x}", o[13], o[14], o[15]);
                    let ns = json!({
                        "ipv6": {"src": "::", "dst": group},
                        "icmpv6": {"neighbor_solicit": {"target": a.to_string()}},
                    });
                    let _ = sock.send(&build(&ns, &d).unwrap().bytes()).await;
                }
            }
            if register {
                let map = options.iter().find_map(|o| o.get("map"));
                if let (Some(map), Some(lcoa)) = (map, address) {
                    let bu = json!({
                        "eth": {"dst": eth_src},
                        "ipv6": {"src": lcoa.to_string(), "dst": map["address"]},
                        "dest_opts": [{"home_address": {"address": lcoa.to_string()}}],
                        "mh": {"binding_update": {"seq": seq, "a_flag": true, "m_flag": true, "lifetime": 15}},
                    });
                    seq = seq.wrapping_add(1);
                    let _ = sock.send(&build(&bu, &d).unwrap().bytes()).await;
                }
            }
        }
        0
    })
}

/// The MAC of `ifname` in this network namespace (sysfs would show the
/// namespace it was mounted in, not ours).
fn mac_of(ifname: &str) -> std::io::Result<MacAddr> {
    // SAFETY: plain socket/ioctl/close calls on a zeroed ifreq whose name
    // fits (interface names are at most 15 bytes plus NUL).
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in ifname.bytes().take(libc::IFNAMSIZ - 1).enumerate() {
            req.ifr_name[i] = b as libc::c_char;
        }
        let rc = libc::ioctl(fd, libc::SIOCGIFHWADDR, &mut req);
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if rc < 0 {
            return Err(err);
        }
        let data = req.ifr_ifru.ifru_hwaddr.sa_data;
        Ok(MacAddr(std::array::from_fn(|i| data[i] as u8)))
    }
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        std::process::exit(faulty_host(&args));
    }
    if !require_root("faulty_hosts") || !require_ping("faulty_hosts") {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let launch = |flags: &str, kernel: bool| {
        let exe = exe.display().to_string();
        let flags = flags.to_string();
        move |t: String| {
            let t = t.replace(
                "  # No command: the IUT is the kernel of the IUT namespace itself.\n",
                &format!(
                    "  command: [{exe:?}, \"{{if.access}}\", {flags}]\n  env: {{{CHILD_ENV}: \"1\"}}\n  ready: {{stdout_line: ready, within: 5s}}\n"
                ),
            );
            if kernel {
                t
            } else {
                t.replace("  kernel_ipv6: true", "  kernel_ipv6: false")
            }
        }
    };

    // Forms addresses from RAs whatever their options: the Length-0 case
    // must FAIL (and the case it is built like still passes: the fault is
    // precisely option validation).
    let p = linux_host(
        &s,
        tmp.path(),
        "no-validation",
        launch("--no-option-validation", false),
    );
    let rs = run(
        &s,
        p,
        tmp.path(),
        &[
            "host.map-option.length-zero-discards-ra",
            "host.map-option.ignored-autoconfigures",
        ],
        2,
    );
    let zero = rs
        .iter()
        .find(|r| r.id == "host.map-option.length-zero-discards-ra")
        .unwrap();
    assert_eq!(zero.verdict, Verdict::Fail, "{}", zero.reason);
    assert_eq!(
        zero.violated.as_deref(),
        Some("RFC4861-6.1.2-RA-OPTION-LENGTH-ZERO")
    );
    let ok = rs
        .iter()
        .find(|r| r.id == "host.map-option.ignored-autoconfigures")
        .unwrap();
    assert_eq!(ok.verdict, Verdict::Pass, "{}", ok.reason);

    // The kernel's IPv6 plus a process that registers with the advertised
    // MAP: the plain-IPv6 case must FAIL on its expect_none.
    let p = linux_host(
        &s,
        tmp.path(),
        "registers",
        launch("--register-with-map", true),
    );
    let rs = run(&s, p, tmp.path(), &["host.map-option.plain-ipv6"], 1);
    let plain = &rs[0];
    assert_eq!(plain.verdict, Verdict::Fail, "{}", plain.reason);
    assert_eq!(
        plain.violated.as_deref(),
        Some("RFC4861-6.1.2-RA-IGNORE-UNRECOGNIZED")
    );
    assert!(plain.reason.contains("where none may"), "{}", plain.reason);
    // The evidence names the offending frame.
    assert!(
        plain
            .diff
            .iter()
            .any(|d| d.observed.contains("binding_update")),
        "{:?}",
        plain.diff
    );
    println!("faulty_hosts: ok (3 cases caught or passed as they should)");
}
