//! `Frame::decode` and `Frame::decode_ipv6` on arbitrary bytes: they must
//! not panic, must keep every octet (re-emit the input byte for byte), must
//! be stable (decoding the re-emitted octets gives the same frame), and the
//! decoded frame must serialise to JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::frame::Frame;

fuzz_target!(|data: &[u8]| {
    // As an Ethernet frame.
    let d = Frame::decode(data);
    assert_eq!(d.spans.len(), d.frame.layers.len(), "one span per layer");
    let emitted = d.frame.emit();
    assert_eq!(emitted, data, "Frame::decode(data).frame.emit() != data");
    let again = Frame::decode(&emitted);
    assert_eq!(
        again.frame, d.frame,
        "decoding the re-emitted frame differs"
    );
    serde_json::to_string(&d.frame).expect("frame serialises to JSON");
    serde_json::to_string(&d.findings).expect("findings serialise to JSON");

    // As a bare IPv6 packet.
    let d = Frame::decode_ipv6(data);
    assert_eq!(d.spans.len(), d.frame.layers.len(), "one span per layer");
    assert_eq!(
        d.frame.emit(),
        data,
        "Frame::decode_ipv6(data).frame.emit() != data"
    );
    serde_json::to_string(&d.frame).expect("frame serialises to JSON");
});
