//! Rendering decoded frames for people (a layered dump like `tshark -V`
//! with findings marked) and for programs (one JSON object per frame).

use std::io::{self, Write};

use serde_json::{json, Map, Value};
use wire::frame::{Decoded, Frame};

use crate::capture_file::{CapturedFrame, LinkKind};

/// Decode a captured frame according to its link type.
pub fn decode(frame: &CapturedFrame) -> Option<Decoded> {
    match frame.link {
        LinkKind::Ethernet => Some(Frame::decode(&frame.data)),
        LinkKind::RawIp => Some(Frame::decode_ipv6(&frame.data)),
        LinkKind::LinuxSll => {
            // 16-octet cooked header; protocol type in octets 14-15.
            let d = &frame.data;
            (d.len() >= 16 && d[14..16] == [0x86, 0xdd]).then(|| {
                let mut dec = Frame::decode_ipv6(&d[16..]);
                for f in &mut dec.findings {
                    f.offset += 16;
                }
                for s in &mut dec.spans {
                    s.0 += 16;
                }
                dec
            })
        }
        LinkKind::Other(_) => None,
    }
}

/// The JSON object for one frame: `{"frame", "layers", "findings", ...}`.
pub fn frame_json(frame: &CapturedFrame, decoded: Option<&Decoded>) -> Value {
    let mut obj = Map::new();
    obj.insert("frame".into(), json!(frame.number));
    match decoded {
        Some(d) => {
            let layers: Vec<Value> = d
                .frame
                .layers
                .iter()
                .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
                .collect();
            obj.insert("layers".into(), Value::Array(layers));
            obj.insert(
                "findings".into(),
                serde_json::to_value(&d.findings).unwrap_or(Value::Null),
            );
        }
        None => {
            obj.insert("layers".into(), json!([]));
            obj.insert(
                "findings".into(),
                json!([{"rule": "unsupported-link-type", "message": format!("{:?} frames are not decoded", frame.link), "offset": 0}]),
            );
        }
    }
    obj.insert("length".into(), json!(frame.data.len()));
    if let Some(ts) = frame.timestamp {
        obj.insert("timestamp".into(), json!(epoch_seconds(ts)));
    }
    if let Some(i) = &frame.interface {
        obj.insert("interface".into(), json!(i));
    }
    if !frame.comments.is_empty() {
        obj.insert("comments".into(), json!(frame.comments));
    }
    Value::Object(obj)
}

/// Seconds since the epoch with nanoseconds, as tshark's `frame.time_epoch`.
fn epoch_seconds(ts: std::time::Duration) -> String {
    format!("{}.{:09}", ts.as_secs(), ts.subsec_nanos())
}

/// A title for a layer name, as a dissector would show it.
fn layer_title(name: &str) -> &str {
    match name {
        "ethernet" => "Ethernet II",
        "ipv6" => "Internet Protocol Version 6",
        "hop_by_hop" => "IPv6 Hop-by-Hop Options",
        "destination_options" => "IPv6 Destination Options",
        "routing" => "IPv6 Routing Header",
        "fragment" => "IPv6 Fragment Header",
        "ah" => "Authentication Header",
        "esp" => "Encapsulating Security Payload",
        "icmpv6" => "Internet Control Message Protocol v6",
        "mobility" => "Mobility Header",
        "payload" => "Payload (not decoded)",
        "trailer" => "Trailer",
        other => other,
    }
}

/// Write the readable dump of one frame.
pub fn write_text(
    out: &mut dyn Write,
    frame: &CapturedFrame,
    decoded: Option<&Decoded>,
) -> io::Result<()> {
    write!(out, "Frame {}: {} octets", frame.number, frame.data.len())?;
    if let Some(i) = &frame.interface {
        write!(out, " on {i}")?;
    }
    if let Some(ts) = frame.timestamp {
        write!(out, ", at {}", epoch_seconds(ts))?;
    }
    writeln!(out)?;
    for c in &frame.comments {
        writeln!(out, "  # {c}")?;
    }
    let Some(d) = decoded else {
        writeln!(out, "  ({:?} link type: not decoded)", frame.link)?;
        return Ok(());
    };
    let mut shown = vec![false; d.findings.len()];
    for (i, layer) in d.frame.layers.iter().enumerate() {
        let (start, len) = d.spans.get(i).copied().unwrap_or((0, 0));
        writeln!(
            out,
            "  {} [octets {}..{}]",
            layer_title(layer.name()),
            start,
            start + len
        )?;
        let value = serde_json::to_value(layer).unwrap_or(Value::Null);
        if let Value::Object(map) = value {
            for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "layer") {
                write_field(out, 3, k, v, None)?;
            }
        }
        // Findings located inside this layer come right after it.
        for (fi, f) in d.findings.iter().enumerate() {
            if !shown[fi] && f.offset >= start && f.offset < start + len.max(1) {
                writeln!(
                    out,
                    "  !! [{}] at octet {}: {}",
                    f.rule, f.offset, f.message
                )?;
                shown[fi] = true;
            }
        }
    }
    for (fi, f) in d.findings.iter().enumerate() {
        if !shown[fi] {
            writeln!(
                out,
                "  !! [{}] at octet {}: {}",
                f.rule, f.offset, f.message
            )?;
        }
    }
    if d.findings.is_empty() {
        writeln!(out, "  (no findings)")?;
    }
    Ok(())
}

fn write_field(
    out: &mut dyn Write,
    indent: usize,
    key: &str,
    v: &Value,
    parent: Option<&str>,
) -> io::Result<()> {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(m) => {
            writeln!(out, "{pad}{key}:")?;
            for (k, v) in m {
                write_field(out, indent + 1, k, v, Some(key))?;
            }
        }
        Value::Array(items) if items.is_empty() => writeln!(out, "{pad}{key}: []")?,
        Value::Array(items) => {
            writeln!(out, "{pad}{key}:")?;
            for item in items {
                match item {
                    Value::Object(m) => {
                        for (k, v) in m {
                            write_field(out, indent + 1, &format!("- {k}"), v, Some(key))?;
                        }
                    }
                    other => writeln!(out, "{pad}  - {}", scalar(other))?,
                }
            }
        }
        other => {
            let note = annotation(parent, key, other);
            writeln!(out, "{pad}{key}: {}{note}", scalar(other))?;
        }
    }
    Ok(())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Names for coded values, so a reader need not look them up.
fn annotation(parent: Option<&str>, key: &str, v: &Value) -> String {
    let n = v.as_u64().unwrap_or(u64::MAX);
    let name = match (parent, key) {
        (Some("binding_ack"), "status") => u8::try_from(n)
            .ok()
            .and_then(wire::mobility::ba_status_name),
        (Some("binding_error"), "status") => u8::try_from(n)
            .ok()
            .and_then(wire::mobility::be_status_name),
        (_, "next_header") => u8::try_from(n).ok().map(wire::proto::name),
        (_, "lifetime") if matches!(parent, Some("binding_update" | "binding_ack")) => {
            return format!(" ({} s)", n.saturating_mul(4));
        }
        _ => None,
    };
    name.map(|s| format!(" ({s})")).unwrap_or_default()
}
