//! Decode throughput of typical HMIPv6 frames, in frames per second.
//!
//! `cargo bench -p hmip6-wire --bench decode`
//!
//! Before criterion runs, the bench prints how many heap allocations one
//! `Frame::decode` of each frame makes (including dropping its result), as
//! counted by a global allocator that wraps `System`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wire::frame::Frame;

/// `System`, counting every call that obtains memory (alloc, alloc_zeroed
/// and realloc).
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The typical HMIPv6 frames: RAs with MAP options, local BU / BA, a BU to
/// the HA through the MAP, the MAP's tunnel to the LCoA, a doubly tunnelled
/// HoTI.
const MIX: &[&str] = &[
    "ra-full",
    "ra-two-maps",
    "bu-local",
    "ba-accepted",
    "tunnel-map-to-lcoa",
    "hoti-double-tunnel",
    "bu-home-via-map",
];

/// Each frame of the mix, emitted once.
fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let all = wire::samples::all();
    MIX.iter()
        .map(|&name| {
            let s = all
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("no sample named {name}"));
            let bytes = s.frame.emit();
            // The bench is only meaningful on frames that decode cleanly.
            let d = Frame::decode(&bytes);
            assert!(d.findings.is_empty(), "{name}: {:?}", d.findings);
            assert_eq!(d.frame.emit(), bytes, "{name}");
            (name, bytes)
        })
        .collect()
}

/// Heap allocations made by one decode of `bytes` (and the drop of its result).
fn allocations_per_decode(bytes: &[u8]) -> usize {
    // Warm up anything lazily initialised, then count a few runs.
    drop(black_box(Frame::decode(black_box(bytes))));
    const RUNS: usize = 16;
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..RUNS {
        drop(black_box(Frame::decode(black_box(bytes))));
    }
    (ALLOCS.load(Ordering::Relaxed) - before) / RUNS
}

fn report_allocations(frames: &[(&'static str, Vec<u8>)]) {
    for (name, bytes) in frames {
        println!(
            "allocations per decode: {name} = {}",
            allocations_per_decode(bytes)
        );
    }
}

fn decode(c: &mut Criterion) {
    let frames = frames();
    report_allocations(&frames);

    let mut mix = c.benchmark_group("decode/mix");
    mix.throughput(Throughput::Elements(frames.len() as u64));
    mix.bench_function("Frame::decode", |b| {
        b.iter(|| {
            for (_, bytes) in &frames {
                black_box(Frame::decode(black_box(bytes)));
            }
        })
    });
    mix.finish();

    let mut each = c.benchmark_group("decode/kind");
    each.throughput(Throughput::Elements(1));
    for (name, bytes) in &frames {
        each.bench_function(*name, |b| {
            b.iter(|| black_box(Frame::decode(black_box(bytes))))
        });
    }
    each.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = decode
}
criterion_main!(benches);
