//! The two shared-IUT profile modes end to end, as root.
//!
//! `restart: per-run`: the Linux-host cases against one kernel for the whole
//! run (they pass with the profile's `reset`, and show why it is needed
//! without it); an IUT command started once for several cases; one that
//! dies during a case (that case is an ERROR, the next one relaunches it);
//! one that cannot be launched again (every remaining case is an ERROR).
//!
//! `attach`: the test makes an "external box" (a network namespace whose
//! kernel is the IUT) wired by a veth to `ext0`, an interface of a namespace
//! that the harness then runs in; the host cases pass against the box, and
//! the harness leaves `ext0` exactly as it found it.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::engine::{linux_host, load_profile, select, suite};
use common::kernel::{note, require_ping};
use hmip6spec::engine::applicability;
use hmip6spec::profile::LoadedProfile;
use hmip6spec::suite::Suite;
use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::NetNs;
use hmip6spec::verdict::{CaseResult, Verdict};

const IGNORED: &str = "host.map-option.ignored-autoconfigures";
const LENGTH_ZERO: &str = "host.map-option.length-zero-discards-ra";
const ODD: &str = "host.map-option.odd-values-ignored";
const PLAIN: &str = "host.map-option.plain-ipv6";

/// profiles/linux-host.yaml switched to `restart: per-run`, then `edit`ed.
fn per_run(
    suite: &Suite,
    dir: &Path,
    name: &str,
    edit: impl Fn(String) -> String,
) -> LoadedProfile {
    linux_host(suite, dir, name, |text| {
        assert!(text.contains("  # restart: per-run\n"));
        edit(text.replace("  # restart: per-run\n", "  restart: per-run\n"))
    })
}

/// Gives the per-run profile an IUT command (a stand-in process: the kernel
/// still does the IPv6) with a ready line.
fn with_command(script: &str) -> impl Fn(String) -> String + '_ {
    common::engine::with_command(script, "{stdout_line: ready, within: 3s}")
}

fn run(suite: &Suite, profile: LoadedProfile, dir: &Path, ids: &[&str]) -> Vec<CaseResult> {
    assert_eq!(select(suite, ids).len(), ids.len());
    // -j 4: a shared IUT runs its cases one at a time all the same.
    let rs = common::engine::run(suite, profile, dir, ids, 4);
    for r in &rs {
        note(&format!(
            "{} {} ({} ms): {}",
            r.verdict, r.id, r.duration_ms, r.reason
        ));
    }
    assert_eq!(
        rs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ids,
        "results in case order"
    );
    rs
}

fn assert_verdicts(rs: &[CaseResult], want: &[Verdict]) {
    let got: Vec<Verdict> = rs.iter().map(|r| r.verdict).collect();
    assert_eq!(
        got,
        want,
        "{:#?}",
        rs.iter()
            .map(|r| (&r.id, &r.reason, &r.iut_stderr))
            .collect::<Vec<_>>()
    );
}

/// Lines of a capture as tshark shows them: interface name and protocol
/// summary (empty when tshark is missing).
fn capture_lines(path: &Path) -> Option<Vec<String>> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "_ws.col.Info",
        ])
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    })
}

fn launches(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn per_run_kernel_passes_every_host_case_after_its_reset() {
    let test = "per_run_kernel_passes_every_host_case_after_its_reset";
    if !require_root(test) || !require_ping(test) {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let p = per_run(&s, tmp.path(), "per-run", |t| t);
    let rs = run(&s, p, tmp.path(), &[IGNORED, LENGTH_ZERO, ODD, PLAIN]);
    assert_verdicts(&rs, &[Verdict::Pass; 4]);
    for r in &rs {
        // The reset ran first, then the steps.
        assert_eq!(r.steps[0].kind, "reset", "{:?}", r.steps);
        // One capture per case, of its own link, from its own start: the
        // AR's RAs and the kernel's answers, nothing the previous case left.
        let cap = r.capture.as_ref().expect("capture");
        assert_eq!(cap, &tmp.path().join(format!("{}.pcapng", r.id)));
        if let Some(lines) = capture_lines(cap) {
            assert!(
                lines.iter().all(|l| l.starts_with("access\t")),
                "{}: {lines:#?}",
                r.id
            );
            assert!(
                lines.iter().any(|l| l.contains("Router Advertisement")),
                "{}: {lines:#?}",
                r.id
            );
            if r.id != PLAIN {
                assert!(
                    !lines.iter().any(|l| l.contains("Echo")),
                    "{}: frames of another case: {lines:#?}",
                    r.id
                );
            }
        }
    }

    // Without the reset, the kernel keeps the address the first case made
    // it form: the next case sees no DAD probe. The profile's `reset` is
    // what makes per-run valid for these cases.
    let p = per_run(&s, tmp.path(), "per-run-no-reset", |t| {
        let a = t.find("\nreset:\n").unwrap();
        let b = t.find("actions:\n").unwrap();
        format!("{}{}", &t[..=a], &t[b..]).replace("pixit:\n", "pixit:\n  address_timeout: 1s\n")
    });
    let rs = run(&s, p, tmp.path(), &[IGNORED, ODD]);
    assert_verdicts(&rs, &[Verdict::Pass, Verdict::Fail]);
}

#[test]
fn per_run_starts_the_iut_once_for_all_the_cases() {
    let test = "per_run_starts_the_iut_once_for_all_the_cases";
    if !require_root(test) || !require_ping(test) {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("launches");
    let script = format!("echo $$ >> {}; echo ready; exec sleep 600", file.display());
    let p = per_run(&s, tmp.path(), "once", with_command(&script));
    let rs = run(&s, p, tmp.path(), &[IGNORED, ODD, PLAIN]);
    assert_verdicts(&rs, &[Verdict::Pass; 3]);
    let pids = launches(&file);
    assert_eq!(pids.len(), 1, "launched once for three cases: {pids:?}");
    let launch_notes: Vec<&str> = rs
        .iter()
        .map(|r| {
            r.steps
                .iter()
                .find(|x| x.kind == "launch")
                .map(|x| x.summary.as_str())
                .unwrap_or("")
        })
        .collect();
    assert!(
        launch_notes[0].contains("IUT started (launch 1"),
        "{launch_notes:?}"
    );
    assert!(
        launch_notes[1..]
            .iter()
            .all(|n| n.contains("running since launch 1")),
        "{launch_notes:?}"
    );
    // Killed when the run ended.
    assert!(!common::alive(pids[0]), "the IUT outlived the run");
}

#[test]
fn per_run_iut_dying_in_a_case_is_an_error_and_is_relaunched() {
    let test = "per_run_iut_dying_in_a_case_is_an_error_and_is_relaunched";
    if !require_root(test) || !require_ping(test) {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("launches");
    // The first launch dies 1 s after its ready line: during the second
    // case (which watches the link for 3 s); later launches live on.
    let script = format!(
        "echo $$ >> {f}; echo ready; if [ $(wc -l < {f}) -eq 1 ]; then sleep 1; echo dying >&2; exit 1; fi; exec sleep 600",
        f = file.display()
    );
    let p = per_run(&s, tmp.path(), "dies", with_command(&script));
    let rs = run(&s, p, tmp.path(), &[IGNORED, LENGTH_ZERO, ODD, PLAIN]);
    assert_verdicts(
        &rs,
        &[Verdict::Pass, Verdict::Error, Verdict::Pass, Verdict::Pass],
    );
    assert!(
        rs[1].reason.contains("exited during the case"),
        "{}",
        rs[1].reason
    );
    assert!(
        rs[1].iut_stderr.as_deref().unwrap_or("").contains("dying"),
        "{:?}",
        rs[1].iut_stderr
    );
    assert_eq!(
        launches(&file).len(),
        2,
        "relaunched once, for the third case"
    );
    let relaunch = rs[2].steps.iter().find(|x| x.kind == "launch").unwrap();
    assert!(
        relaunch.summary.contains("launch 2"),
        "{}",
        relaunch.summary
    );
}

#[test]
fn per_run_iut_that_cannot_be_launched_makes_every_remaining_case_an_error() {
    let test = "per_run_iut_that_cannot_be_launched_makes_every_remaining_case_an_error";
    if !require_root(test) {
        return;
    }
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    // Never ready: one launch, no retry per case.
    let file = tmp.path().join("never");
    let script = format!("echo $$ >> {}; echo boom >&2; exit 3", file.display());
    let p = per_run(&s, tmp.path(), "never", with_command(&script));
    let rs = run(&s, p, tmp.path(), &[IGNORED, ODD]);
    assert_verdicts(&rs, &[Verdict::Error; 2]);
    for r in &rs {
        assert!(r.reason.contains("could not be launched"), "{}", r.reason);
        assert!(r.reason.contains("boom"), "{}", r.reason);
    }
    assert_eq!(launches(&file).len(), 1);

    // Ready once, dead during the first case, never ready again.
    let file = tmp.path().join("once-only");
    let script = format!(
        "echo $$ >> {f}; if [ $(wc -l < {f}) -gt 1 ]; then echo gone >&2; exit 2; fi; echo ready; sleep 1; exit 1",
        f = file.display()
    );
    let p = per_run(&s, tmp.path(), "once-only", with_command(&script));
    let rs = run(&s, p, tmp.path(), &[LENGTH_ZERO, ODD, PLAIN]);
    assert_verdicts(&rs, &[Verdict::Error; 3]);
    assert!(
        rs[0].reason.contains("exited during the case"),
        "{}",
        rs[0].reason
    );
    for r in &rs[1..] {
        assert!(
            r.reason.contains("could not be launched again") && r.reason.contains("gone"),
            "{}",
            r.reason
        );
    }
    assert_eq!(launches(&file).len(), 2, "no retry after a failed relaunch");
}

/// An attach profile mapping `links` (link -> host interface).
fn attach_text(links: &[(&str, &str, &str)], box_pid: u32) -> String {
    let mut t = String::from(
        "name: external-box\nrole: host\npixit:\n  prefix: \"2001:db8:1::\"\n  map_address: 2001:db8:ffff::1\n  cn_address: 2001:db8:cccc::5\n  timeout: 2s\nattach:\n  interfaces:\n",
    );
    for (link, ifname, _) in links {
        t.push_str(&format!("    {link}: {ifname}\n"));
    }
    t.push_str("  macs:\n");
    for (link, _, mac) in links {
        t.push_str(&format!("    {link}: \"{mac}\"\n"));
    }
    // The box is reached the way a vendor would reach theirs (ssh, a
    // serial console...): here by entering its namespace.
    t.push_str(&format!(
        "reset:\n  command: [nsenter, -t, {box_pid}, -n, sh, -c, \"ip -6 addr flush scope global && ip -6 route flush proto ra && ip -6 neigh flush all\"]\nactions:\n  echo_request:\n    command: [nsenter, -t, {box_pid}, -n, ping, -6, -n, -c3, -i0.2, -W1, \"{{args.dst}}\"]\n    within: 5s\n"
    ));
    t
}

#[test]
fn a_case_with_a_link_attach_does_not_map_is_not_applicable() {
    let s = suite();
    let tmp = tempfile::tempdir().unwrap();
    let p = load_profile(
        &s,
        tmp.path(),
        "core-only",
        &attach_text(&[("core", "ext0", "02:00:00:00:00:02")], 1),
    );
    let case = s.cases.iter().find(|c| c.case.id == IGNORED).unwrap();
    let why = applicability(&case.case, &p).unwrap_err();
    assert!(why.contains("link \"access\""), "{why}");
    assert!(why.contains("attach.interfaces"), "{why}");
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

/// Everything about a host interface the harness must not change: link
/// state, flags, MTU, MAC, promiscuity, addresses and every IPv4 and IPv6
/// sysctl of it.
fn iface_state(ifname: &str) -> String {
    let mut s = sh(&format!(
        "ip -d link show dev {ifname}; ip addr show dev {ifname}"
    ));
    for fam in ["ipv4", "ipv6"] {
        let dir = format!("/proc/sys/net/{fam}/conf/{ifname}");
        let mut keys: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        keys.sort();
        for k in keys {
            if let Ok(v) = std::fs::read_to_string(format!("{dir}/{k}")) {
                s.push_str(&format!("{fam}.{k}={}", v));
            }
        }
    }
    s
}

#[test]
fn attached_external_box_passes_the_host_cases_and_is_left_alone() {
    let test = "attached_external_box_passes_the_host_cases_and_is_left_alone";
    if !require_root(test) || !require_ping(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    const BOX_MAC: &str = "02:42:ac:11:00:02";
    // The harness runs in a namespace of this thread's own (its "host"):
    // the thread's runtime and every thread it starts are in it.
    let outcome = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        // The user's part: ext0 with IPv6 off, up, wired to the box.
        std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1").unwrap();
        let the_box = NetNs::new().unwrap();
        let mut box_proc = the_box
            .spawn({
                let mut c = Command::new("sleep");
                c.arg("600");
                c
            })
            .unwrap();
        let pid = box_proc.pid();
        sh(&format!(
            "ip link add ext0 type veth peer name eth0 netns {pid} && ip link add ext1 type veth peer name eth1"
        ));
        // The box: the Linux kernel's IPv6 as linux-host.yaml sets it up.
        sh(&format!(
            "nsenter -t {pid} -n sh -c 'ip link set eth0 address {BOX_MAC} && \
             for kv in disable_ipv6=0 addr_gen_mode=0 accept_ra=2 autoconf=1 accept_dad=1 \
             dad_transmits=1 router_solicitation_delay=0; do \
             echo ${{kv#*=}} > /proc/sys/net/ipv6/conf/eth0/${{kv%=*}}; done && ip link set eth0 up'"
        ));
        sh("ip link set ext0 up");
        // Wait (bounded) for the carrier on both ends.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !sh("ip -o link show dev ext0").contains("state UP") {
            assert!(std::time::Instant::now() < deadline, "ext0 never came up");
            std::thread::sleep(Duration::from_millis(10));
        }
        let before = (iface_state("ext0"), iface_state("ext1"), sh("ip -o link"));

        let s = suite();
        let p = load_profile(
            &s,
            &dir,
            "attach",
            &attach_text(&[("access", "ext0", BOX_MAC)], pid),
        );
        let rs = run(&s, p, &dir, &[IGNORED, LENGTH_ZERO, ODD, PLAIN]);
        // ext1 is down: a clear ERROR, and still nothing changed.
        let p = load_profile(
            &s,
            &dir,
            "attach-down",
            &attach_text(&[("access", "ext1", BOX_MAC)], pid),
        );
        let down = run(&s, p, &dir, &[IGNORED]);

        let after = (iface_state("ext0"), iface_state("ext1"), sh("ip -o link"));
        let _ = box_proc.kill();
        (rs, down, before, after)
    })
    .join()
    .unwrap();
    let (rs, down, before, after) = outcome;
    assert_verdicts(&rs, &[Verdict::Pass; 4]);
    for r in &rs {
        let cap = r.capture.as_ref().expect("capture");
        if let Some(lines) = capture_lines(cap) {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("access\tNeighbor Solicitation")),
                "{}: {lines:#?}",
                r.id
            );
        }
    }
    assert_verdicts(&down, &[Verdict::Error]);
    assert!(
        down[0].reason.contains("\"ext1\"") && down[0].reason.contains("is down"),
        "{}",
        down[0].reason
    );
    assert_eq!(before.0, after.0, "ext0 changed");
    assert_eq!(before.1, after.1, "ext1 changed");
    assert_eq!(before.2, after.2, "the harness's interfaces changed");
}
