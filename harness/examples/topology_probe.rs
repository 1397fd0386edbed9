//! Exercise the topology layer by hand: `cargo run --example topology_probe
//! -- [doctor|build N]`. Calls the rootless re-exec first, as the CLI will.

use std::time::Instant;

use hmip6spec::topology::{rootless, LinkSpec, Topology, TopologySpec};

fn main() {
    if let Err(e) = rootless::reexec_if_needed() {
        eprintln!("rootless: {e}");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => {
            let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                for _ in 0..n {
                    let t0 = Instant::now();
                    let t = Topology::build(TopologySpec {
                        links: vec![LinkSpec::new("access"), LinkSpec::new("core")],
                        seed: 1,
                        capture: Some(std::env::temp_dir().join("probe.pcapng")),
                    })
                    .await
                    .expect("build");
                    let built = t0.elapsed();
                    drop(t);
                    println!("build {built:?} total {:?}", t0.elapsed());
                }
            });
        }
        Some("many") => {
            // How many topologies can exist at once: build and keep them
            // until N or the first error.
            let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
            let capture = args.get(2).is_some_and(|a| a == "capture");
            let dir = std::env::temp_dir().join("hmip6spec-many");
            std::fs::create_dir_all(&dir).expect("temp dir");
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                let mut keep = Vec::new();
                let t0 = Instant::now();
                for i in 0..n {
                    let t1 = Instant::now();
                    match Topology::build(TopologySpec {
                        links: vec![LinkSpec::new("access"), LinkSpec::new("core")],
                        seed: i as u64,
                        capture: capture.then(|| dir.join(format!("{i}.pcapng"))),
                    })
                    .await
                    {
                        Ok(t) => keep.push(t),
                        Err(e) => {
                            println!("stopped at {i}: {e}");
                            break;
                        }
                    }
                    if (i + 1) % 100 == 0 {
                        println!("{} alive, last build {:?}", i + 1, t1.elapsed());
                    }
                }
                println!(
                    "{} topologies alive at once, built in {:?}",
                    keep.len(),
                    t0.elapsed()
                );
                let t2 = Instant::now();
                drop(keep);
                println!("all dropped in {:?}", t2.elapsed());
            });
            std::fs::remove_dir_all(&dir).ok();
        }
        _ => {
            let ok = hmip6spec::doctor::run(&mut std::io::stdout());
            std::process::exit(if ok { 0 } else { 1 });
        }
    }
}
