//! The in-memory link: same interface as the kernel link, no privileges.

use std::sync::Arc;
use std::time::Duration;

use hmip6spec::topology::{Capture, FrameLink, FrameLinkExt, MemoryLink};
use tokio::time::Instant;

#[tokio::test]
async fn frames_go_both_ways_in_order() {
    let (a, b) = MemoryLink::pair("access");
    assert_eq!(FrameLink::name(&a), "access");
    a.send(b"one").await.unwrap();
    a.send(b"two").await.unwrap();
    b.send(b"back").await.unwrap();
    assert_eq!(b.recv().await.unwrap().bytes, b"one");
    assert_eq!(b.recv().await.unwrap().bytes, b"two");
    let f = a.recv().await.unwrap();
    assert_eq!(f.bytes, b"back");
    assert!(!f.kernel_timestamp);
}

#[tokio::test]
async fn recv_until_skips_non_matching_and_honours_the_deadline() {
    let (a, b) = MemoryLink::pair("core");
    for m in [&b"x1"[..], b"y", b"x2"] {
        a.send(m).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let got = b
        .recv_until(deadline, |f| f.starts_with(b"y"))
        .await
        .unwrap();
    assert_eq!(got.unwrap().bytes, b"y");
    // "x1" was consumed while looking; "x2" is next.
    assert_eq!(b.recv().await.unwrap().bytes, b"x2");
    // Nothing matching: None once the deadline passes, not before.
    let start = Instant::now();
    let deadline = start + Duration::from_millis(50);
    assert!(b.recv_until(deadline, |_| true).await.unwrap().is_none());
    assert!(Instant::now() >= deadline);
}

#[tokio::test]
async fn works_through_dyn_frame_link() {
    let (a, b) = MemoryLink::pair("access");
    let links: Vec<Box<dyn FrameLink>> = vec![Box::new(a), Box::new(b)];
    links[0].send(b"dyn").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let f = links[1]
        .recv_until(deadline, |f| f == b"dyn")
        .await
        .unwrap();
    assert!(f.is_some());
}

#[tokio::test]
async fn dropped_peer_is_an_error_not_a_hang() {
    let (a, b) = MemoryLink::pair("access");
    a.send(b"last").await.unwrap();
    drop(a);
    // Queued frames are still delivered, then the closed link is reported.
    assert_eq!(b.recv().await.unwrap().bytes, b"last");
    assert_eq!(
        b.recv().await.unwrap_err().kind(),
        std::io::ErrorKind::BrokenPipe
    );
    assert!(b.send(b"x").await.is_err());
}

#[tokio::test]
async fn captured_memory_link_writes_pcapng() {
    let dir = std::env::temp_dir().join(format!("hmip6spec-memcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mem.pcapng");
    let cap = Arc::new(Capture::create(&path, &["access".to_string()]).unwrap());
    let (a, b) = MemoryLink::pair_captured("access", cap.clone(), 0);
    cap.annotate(0, "step 1").unwrap();
    a.send(&[0u8; 60]).await.unwrap();
    b.send(&[1u8; 60]).await.unwrap();
    assert!(cap.annotate(5, "no such link").is_err());
    let s = cap.finish().unwrap();
    assert_eq!(s.frames, vec![2]);
    let mut r = pcap_file::pcapng::PcapNgReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut n = 0;
    while let Some(b) = r.next_block() {
        if let pcap_file::pcapng::Block::EnhancedPacket(e) = b.unwrap() {
            n += 1;
            assert_eq!(e.data.len(), 60);
        }
    }
    assert_eq!(n, 2);
    std::fs::remove_dir_all(&dir).ok();
}
