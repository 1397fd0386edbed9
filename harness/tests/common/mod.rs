//! /proc-based observations shared by the topology tests: what namespaces
//! exist (through any process, thread or fd), what processes we have.
#![allow(dead_code)] // each test binary uses a different subset

pub mod engine;
pub mod kernel;

use std::collections::BTreeMap;
use std::path::Path;

/// Every network namespace referenced from /proc: `/proc/*/ns/net`,
/// `/proc/*/task/*/ns/net` and fds `net:[INODE]` (our anonymous namespaces
/// are only held by fds). Maps inode -> one place that references it.
pub fn netns_refs() -> BTreeMap<u64, String> {
    let mut refs = BTreeMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return refs;
    };
    for p in procs.flatten() {
        let name = p.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let base = Path::new("/proc").join(pid);
        note(&mut refs, &base.join("ns/net"));
        if let Ok(tasks) = std::fs::read_dir(base.join("task")) {
            for t in tasks.flatten() {
                note(&mut refs, &t.path().join("ns/net"));
            }
        }
        if let Ok(fds) = std::fs::read_dir(base.join("fd")) {
            for fd in fds.flatten() {
                note(&mut refs, &fd.path());
            }
        }
    }
    refs
}

fn note(refs: &mut BTreeMap<u64, String>, link: &Path) {
    if let Ok(target) = std::fs::read_link(link) {
        if let Some(ino) = target
            .to_str()
            .and_then(|t| t.strip_prefix("net:["))
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.parse().ok())
        {
            refs.entry(ino)
                .or_insert_with(|| link.display().to_string());
        }
    }
}

/// (pid, state) of the processes whose parent is `ppid`.
pub fn children_of(ppid: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Ok(stat) = std::fs::read_to_string(p.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...; comm may contain spaces: split after ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let state = f.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let parent: u32 = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let pid: u32 = head
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if parent == ppid {
            out.push((pid, state));
        }
    }
    out
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .is_some_and(|s| s != "Z" && s != "X"),
        Err(_) => false,
    }
}

/// Names of veth interfaces in the calling thread's namespace (the host's,
/// for tests), as `ip -o link show type veth` lists them.
pub fn host_veths() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["-o", "link", "show", "type", "veth"])
        .output();
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Number of open fds of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A 60-byte Ethernet frame with a local experimental EtherType and a
/// payload marker.
pub fn frame(dst: [u8; 6], src: [u8; 6], marker: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(64);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend_from_slice(marker);
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}
