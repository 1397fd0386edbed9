//! Topology costs: build + teardown of a 2-namespace / 2-link topology with
//! its capture, and frames/s through one veth via AF_PACKET.
//! Needs root (or the rootless re-exec); without it, prints SKIP and exits.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{LinkSpec, Outgoing, Side, Topology, TopologySpec};

fn spec(capture: Option<std::path::PathBuf>) -> TopologySpec {
    TopologySpec {
        links: vec![LinkSpec::new("access"), LinkSpec::new("core")],
        seed: 1,
        capture,
    }
}

fn build_teardown(c: &mut Criterion) {
    if !require_root("bench build_teardown") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let path = std::env::temp_dir().join(format!("hmip6spec-bench-{}.pcapng", std::process::id()));
    c.bench_function("topology/build+teardown 2ns 2links capture", |b| {
        b.iter(|| {
            rt.block_on(async {
                let t = Topology::build(spec(Some(path.clone()))).await.unwrap();
                drop(t);
            })
        })
    });
    std::fs::remove_file(&path).ok();
}

const BATCH: usize = 1000;

fn frames_per_second(c: &mut Criterion) {
    if !require_root("bench frames_per_second") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (topo, iut) = rt.block_on(async {
        let t = Topology::build(spec(None)).await.unwrap();
        let iut = t.open_socket(Side::Iut, "access", Outgoing::Drop).unwrap();
        (t, iut)
    });
    let tester = topo.tester_link("access").unwrap();
    let l = topo.links()[0].clone();
    let mut frame = Vec::new();
    frame.extend_from_slice(&l.iut_mac);
    frame.extend_from_slice(&l.tester_mac);
    frame.extend_from_slice(&[0x86, 0xdd]);
    frame.resize(100, 0xab);
    let mut g = c.benchmark_group("veth");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("af_packet send+recv (100-byte frames)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let send = async {
                    for _ in 0..BATCH {
                        tester.send(&frame).await.unwrap();
                    }
                };
                let recv = async {
                    for _ in 0..BATCH {
                        tokio::time::timeout(Duration::from_secs(5), iut.recv())
                            .await
                            .expect("frame lost")
                            .unwrap();
                    }
                };
                tokio::join!(send, recv);
            })
        })
    });
    g.finish();
    drop(topo);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = build_teardown, frames_per_second
}
criterion_main!(benches);
