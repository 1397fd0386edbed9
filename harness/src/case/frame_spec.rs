//! Frame descriptions (see the table in [`super`]): [`build`] turns the
//! resolved description of a `send` step into a `wire` frame; [`view`]
//! turns a received frame into the same shape, which `expect` patterns
//! match. One vocabulary serves both directions, so whatever a case can
//! send it can also expect.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use wire::frame::{Frame, Layer};
use wire::ipv6_options::Ipv6Option;
use wire::mobility::MobilityRepr;
use wire::mobility_options::MobilityOption;
use wire::MacAddr;

use crate::case::esp::{self, SaTable, SealSpec, Sealer};
use crate::yaml::{path_text, segs, Seg};

/// Keys of a packet description, in the order the layers go on the wire
/// (RFC 6275 6.3: the Home Address option after a routing header and
/// before Fragment, AH and ESP).
pub const PACKET_KEYS: &[&str] = &[
    "ipv6",
    "hop_by_hop",
    "routing",
    "dest_opts",
    "fragment",
    "ah",
    "esp",
    "icmpv6",
    "mh",
    "payload",
    "tunnel",
];

/// Keys of a frame description besides the packet's.
pub const FRAME_KEYS: &[&str] = &["eth", "truncate", "layers", "raw"];

/// Why a description cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// Path inside the description.
    pub path: Vec<Seg>,
    pub message: String,
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", path_text(&self.path), self.message)
        }
    }
}

fn err(path: &[Seg], message: impl Into<String>) -> SpecError {
    SpecError {
        path: path.to_vec(),
        message: message.into(),
    }
}

fn with(path: &[Seg], key: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Key(key.to_string()));
    p
}

/// What the sender's end of the link supplies.
#[derive(Clone, Copy, Debug)]
pub struct Defaults {
    /// Ethernet source: the sending node's MAC.
    pub src_mac: MacAddr,
    /// Ethernet destination for a unicast IPv6 destination: the IUT's MAC.
    pub unicast_dst_mac: MacAddr,
}

/// A built frame: layers, or raw octets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Built {
    Frame(Frame),
    Raw(Vec<u8>),
}

impl Built {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Built::Frame(f) => f.emit(),
            Built::Raw(b) => b.clone(),
        }
    }
}

/// One function, instantiated for every layer's own `wire` type: the
/// dispatch on a tagged layer's kind, written once for the checks that
/// deserialise that type again.
struct PerRepr<Out> {
    ethernet: fn(Value) -> Option<Out>,
    ipv6: fn(Value) -> Option<Out>,
    options: fn(Value) -> Option<Out>,
    routing: fn(Value) -> Option<Out>,
    fragment: fn(Value) -> Option<Out>,
    ah: fn(Value) -> Option<Out>,
    esp: fn(Value) -> Option<Out>,
    icmpv6: fn(Value) -> Option<Out>,
    mobility: fn(Value) -> Option<Out>,
    octets: fn(Value) -> Option<Out>,
}

macro_rules! per_repr {
    ($f:ident) => {
        PerRepr {
            ethernet: $f::<wire::ethernet::EthernetRepr>,
            ipv6: $f::<wire::ipv6::Ipv6Repr>,
            options: $f::<wire::ipv6_options::OptionsHeaderRepr>,
            routing: $f::<wire::routing::RoutingRepr>,
            fragment: $f::<wire::fragment::FragmentRepr>,
            ah: $f::<wire::ipsec::AhRepr>,
            esp: $f::<wire::ipsec::EspRepr>,
            icmpv6: $f::<wire::icmpv6::Icmpv6Repr>,
            mobility: $f::<MobilityRepr>,
            octets: $f::<wire::frame::Octets>,
        }
    };
}

/// Runs the function of `f` for the type the tag of `v` names, on the
/// layer's own fields.
fn dispatch<Out>(v: &Value, f: PerRepr<Out>) -> Option<Out> {
    let (kind, v) = untagged(v)?;
    let run = match kind.as_str() {
        "ethernet" => f.ethernet,
        "ipv6" => f.ipv6,
        "hop_by_hop" | "destination_options" => f.options,
        "routing" => f.routing,
        "fragment" => f.fragment,
        "ah" => f.ah,
        "esp" => f.esp,
        "icmpv6" => f.icmpv6,
        "mobility" => f.mobility,
        "payload" | "trailer" => f.octets,
        _ => return None,
    };
    run(v)
}

fn layer(path: &[Seg], v: Value) -> Result<Layer, SpecError> {
    let l = layer_typed(path, v.clone())?;
    // `wire`'s types accept fields they do not know (their linking fields
    // are flattened, which rules out deny_unknown_fields): a misspelt field
    // would silently be left at its default.
    if let Some(at) = ignored_field(&v) {
        let name = match at.last() {
            Some(Seg::Key(k)) => k.clone(),
            _ => String::new(),
        };
        // The fields there: those of the layer as built (fields left out
        // when at their default do not show; a hint only).
        let mut known = serde_json::to_value(&l).ok();
        for seg in &at[..at.len().saturating_sub(1)] {
            known = known.and_then(|k| match seg {
                Seg::Key(s) => k.get(s).cloned(),
                Seg::Index(i) => k.get(i).cloned(),
            });
        }
        let fields: Vec<String> = known
            .as_ref()
            .and_then(Value::as_object)
            .map(|m| m.keys().filter(|k| *k != "layer").cloned().collect())
            .unwrap_or_default();
        let hint = if fields.is_empty() {
            "see `hmip6spec decode --json` for the fields".to_string()
        } else {
            format!("expected one of: {}", fields.join(", "))
        };
        let mut p = path.to_vec();
        p.extend(at);
        return Err(err(
            &p,
            format!("unknown field `{name}` (it would be ignored); {hint}"),
        ));
    }
    Ok(l)
}

/// The first field of a tagged layer `v` that deserialising its type
/// ignores.
fn ignored_field(v: &Value) -> Option<Vec<Seg>> {
    fn find_ignored<T: serde::de::DeserializeOwned>(v: Value) -> Option<Vec<Seg>> {
        fn walk(p: &serde_ignored::Path, out: &mut Vec<Seg>) {
            match p {
                serde_ignored::Path::Root => {}
                serde_ignored::Path::Seq { parent, index } => {
                    walk(parent, out);
                    out.push(Seg::Index(*index));
                }
                serde_ignored::Path::Map { parent, key } => {
                    walk(parent, out);
                    out.push(Seg::Key(key.clone()));
                }
                serde_ignored::Path::Some { parent }
                | serde_ignored::Path::NewtypeStruct { parent }
                | serde_ignored::Path::NewtypeVariant { parent } => walk(parent, out),
            }
        }
        /// serde_ignored's paths leave out enum variants (`message.dta`
        /// for `message.echo_request.dta`): follow them in `v`, entering
        /// a one-key mapping (an externally tagged enum) where a key is
        /// missing.
        fn in_value(v: &Value, segs: &[Seg]) -> Vec<Seg> {
            let mut out = Vec::new();
            let mut node = v;
            let mut rest = segs;
            while let Some((seg, more)) = rest.split_first() {
                let next = match seg {
                    Seg::Key(k) => node.get(k),
                    Seg::Index(i) => node.get(i),
                };
                match (next, node.as_object()) {
                    (Some(n), _) => {
                        out.push(seg.clone());
                        node = n;
                        rest = more;
                    }
                    (None, Some(m)) if m.len() == 1 => {
                        let (variant, inner) = m.iter().next().expect("one entry");
                        out.push(Seg::Key(variant.clone()));
                        node = inner;
                    }
                    _ => {
                        out.extend(rest.iter().cloned());
                        break;
                    }
                }
            }
            out
        }
        let mut first: Option<Vec<Seg>> = None;
        let _: Result<T, _> = serde_ignored::deserialize(v.clone(), |p| {
            if first.is_none() {
                let mut out = Vec::new();
                walk(&p, &mut out);
                first = Some(out);
            }
        });
        first.map(|segs| in_value(&v, &segs))
    }
    dispatch(v, per_repr!(find_ignored))
}

/// A tagged layer's kind and its fields without the tag and the linking
/// fields (those of `wire::frame`'s layer types, not of the inner type).
fn untagged(v: &Value) -> Option<(String, Value)> {
    let mut m = v.as_object()?.clone();
    let kind = m.remove("layer")?.as_str()?.to_string();
    let linking: &[&str] = match kind.as_str() {
        "ethernet" => &["ethertype"],
        "ipv6" => &["next_header", "payload_len"],
        "hop_by_hop" | "destination_options" | "routing" | "fragment" | "ah" => &["next_header"],
        _ => &[],
    };
    for k in linking {
        m.remove(*k);
    }
    Some((kind, Value::Object(m)))
}

fn layer_typed(path: &[Seg], v: Value) -> Result<Layer, SpecError> {
    serde_path_to_error::deserialize::<_, Layer>(v.clone()).map_err(|e| {
        let mut p = path.to_vec();
        // `Layer` is internally tagged (and its linking fields flattened),
        // so serde buffers the layer and the error has no path inside it:
        // deserialising the layer's own type again finds the field.
        match inner_error(&v) {
            Some((inner, message)) => {
                p.extend(inner);
                err(&p, message)
            }
            None => {
                p.extend(segs(e.path()));
                err(&p, e.inner().to_string())
            }
        }
    })
}

/// The path and message of the error in a tagged layer `v`, found by
/// deserialising the type the tag names (without the tag and the linking
/// fields); `None` when that gives no path.
fn inner_error(v: &Value) -> Option<(Vec<Seg>, String)> {
    fn find_error<T: serde::de::DeserializeOwned>(v: Value) -> Option<(Vec<Seg>, String)> {
        let e = serde_path_to_error::deserialize::<_, T>(v.clone()).err()?;
        let p = segs(e.path());
        if p.is_empty() {
            return None;
        }
        let mut message = e.inner().to_string();
        // Parse errors of addresses and the like do not show the value.
        let plain = ["invalid type", "invalid value", "unknown", "missing"];
        if !plain.iter().any(|w| message.starts_with(w)) {
            let mut at = Some(&v);
            for seg in &p {
                at = match seg {
                    Seg::Key(k) => at.and_then(|x| x.get(k)),
                    Seg::Index(i) => at.and_then(|x| x.get(i)),
                };
            }
            if let Some(found) = at.filter(|x| !x.is_object() && !x.is_array()) {
                message = format!("{message}, found {found}");
            }
        }
        Some((p, message))
    }
    dispatch(v, per_repr!(find_error))
}

/// An error in a layer built from a short form: `from` (the wire form's
/// path, after `path`) becomes `to`, as the case file writes it.
fn rewrite(mut e: SpecError, path: &[Seg], from: &[&str], to: &[&str]) -> SpecError {
    let n = path.len();
    let matches = e.path.len() >= n + from.len()
        && e.path[..n] == *path
        && e.path[n..n + from.len()]
            .iter()
            .zip(from)
            .all(|(s, f)| *s == Seg::Key((*f).to_string()));
    if matches {
        let rest = e.path.split_off(n + from.len());
        e.path.truncate(n);
        e.path.extend(to.iter().map(|t| Seg::Key((*t).to_string())));
        e.path.extend(rest);
    }
    e
}

fn tagged(kind: &str, body: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("layer".into(), Value::String(kind.into()));
    m.extend(body);
    Value::Object(m)
}

fn object<'a>(path: &[Seg], v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, SpecError> {
    v.as_object()
        .ok_or_else(|| err(path, format!("expected {what} (a mapping), found {v}")))
}

/// Builds the frame a resolved `send` description says, without security
/// associations (`esp: {sa: NAME}` is then an error).
pub fn build(desc: &Value, d: &Defaults) -> Result<Built, SpecError> {
    build_with(desc, d, &mut Sealer::default())
}

/// Builds the frame a resolved `send` description says, sealing its
/// `esp: {sa: NAME}` layers (and, with `protect.mobility_header`, a packet
/// carrying `mh` and no `esp` key) with the security associations of
/// `sealer`, whose sequence numbers advance.
pub fn build_with(desc: &Value, d: &Defaults, sealer: &mut Sealer) -> Result<Built, SpecError> {
    let mut top = object(&[], desc, "a frame description")?.clone();
    let sugar = !top.contains_key("layers") && !top.contains_key("raw");
    if sugar && !top.contains_key("esp") {
        let is_ra = top
            .get("icmpv6")
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key("router_advert"));
        let sa = if top.contains_key("mh") {
            sealer.protect_mh.as_ref()
        } else if is_ra {
            sealer.protect_ra.as_ref()
        } else {
            None
        };
        if let Some(sa) = sa {
            top.insert("esp".into(), json!({ "sa": sa }));
        }
    }
    let top = &top;
    if let Some(raw) = top.get("raw") {
        let s = raw
            .as_str()
            .ok_or_else(|| err(&[Seg::Key("raw".into())], "expected hex octets as a string"))?;
        let clean: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':')
            .collect();
        let bytes = decode_hex(&clean).map_err(|m| err(&[Seg::Key("raw".into())], m))?;
        return Ok(Built::Raw(bytes));
    }
    let mut frame = Frame::default();
    if let Some(layers) = top.get("layers") {
        let items = layers
            .as_array()
            .ok_or_else(|| err(&[Seg::Key("layers".into())], "expected a list of layers"))?;
        for (i, item) in items.iter().enumerate() {
            frame.layers.push(layer(
                &[Seg::Key("layers".into()), Seg::Index(i)],
                item.clone(),
            )?);
        }
    } else {
        let mut packet = Vec::new();
        let mut seals = Vec::new();
        packet_layers(top, &[], &mut packet, &mut seals)?;
        let first_dst = packet.iter().find_map(|l| match l {
            Layer::Ipv6(l) => Some(l.repr.dst),
            _ => None,
        });
        let mut eth = Map::new();
        eth.insert("src".into(), json!(d.src_mac.to_string()));
        let dst = match first_dst {
            Some(a) if a.is_multicast() => {
                let o = a.octets();
                MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
            }
            _ => d.unicast_dst_mac,
        };
        eth.insert("dst".into(), json!(dst.to_string()));
        if let Some(e) = top.get("eth") {
            eth.extend(object(&[Seg::Key("eth".into())], e, "Ethernet fields")?.clone());
        }
        frame
            .layers
            .push(layer(&[Seg::Key("eth".into())], tagged("ethernet", eth))?);
        frame.layers.extend(packet);
        // Innermost (last) first: an outer ESP seals what an inner one made.
        for (at, spec, path) in seals.into_iter().rev() {
            esp::seal_at(&mut frame, at + 1, &spec, sealer)
                .map_err(|m| err(&with(&path, "sa"), m))?;
        }
    }
    if let Some(t) = top.get("truncate") {
        let n = t
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                err(
                    &[Seg::Key("truncate".into())],
                    "expected a number of octets",
                )
            })?;
        frame.truncate = Some(n);
    }
    Ok(Built::Frame(frame))
}

fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!(
            "hex octets need an even number of digits, found {}",
            s.len()
        ));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16)
                .map_err(|_| format!("{:?} at digit {i} is not hex", &s[i..i + 2]))
        })
        .collect()
}

const ND_MESSAGES: &[&str] = &[
    "router_solicit",
    "router_advert",
    "neighbor_solicit",
    "neighbor_advert",
];

/// The layers of one packet description (and what it tunnels).
fn packet_layers(
    p: &Map<String, Value>,
    path: &[Seg],
    out: &mut Vec<Layer>,
    seals: &mut Vec<(usize, SealSpec, Vec<Seg>)>,
) -> Result<(), SpecError> {
    let ipv6 = p.get("ipv6").ok_or_else(|| {
        err(
            path,
            "expected an `ipv6` layer (with at least `src` and `dst`)",
        )
    })?;
    let ip_path = with(path, "ipv6");
    let mut ip = object(&ip_path, ipv6, "IPv6 fields")?.clone();
    if !ip.contains_key("hop_limit") {
        let nd = p
            .get("icmpv6")
            .and_then(Value::as_object)
            .is_some_and(|m| m.keys().any(|k| ND_MESSAGES.contains(&k.as_str())));
        ip.insert("hop_limit".into(), json!(if nd { 255 } else { 64 }));
    }
    out.push(layer(&ip_path, tagged("ipv6", ip))?);
    if let Some(v) = p.get("hop_by_hop") {
        out.push(options_header("hop_by_hop", v, &with(path, "hop_by_hop"))?);
    }
    if let Some(v) = p.get("routing") {
        out.push(routing(v, &with(path, "routing"))?);
    }
    if let Some(v) = p.get("dest_opts") {
        out.push(options_header(
            "destination_options",
            v,
            &with(path, "dest_opts"),
        )?);
    }
    for (key, kind) in [("fragment", "fragment"), ("ah", "ah")] {
        if let Some(v) = p.get(key) {
            let kp = with(path, key);
            out.push(layer(
                &kp,
                tagged(kind, object(&kp, v, "header fields")?.clone()),
            )?);
        }
    }
    if let Some(v) = p.get("esp") {
        let kp = with(path, "esp");
        match v {
            // Sent in the clear on purpose (no auto-protection).
            Value::String(s) if s == "none" => {}
            Value::Object(m) if m.contains_key("sa") => {
                let spec = seal_spec(m, &kp)?;
                // A placeholder, replaced when the frame is complete.
                out.push(Layer::Esp(wire::ipsec::EspRepr {
                    spi: 0,
                    seq: 0,
                    data: Vec::new(),
                }));
                seals.push((out.len() - 1, spec, kp));
            }
            _ => out.push(layer(
                &kp,
                tagged(
                    "esp",
                    object(
                        &kp,
                        v,
                        "`{sa: NAME}` (sealed with a security association), `none`, or the wire form `{spi, seq, data}`",
                    )?
                    .clone(),
                ),
            )?),
        }
    }
    let uppers: Vec<&str> = ["icmpv6", "mh", "payload", "tunnel"]
        .into_iter()
        .filter(|k| p.contains_key(*k))
        .collect();
    if uppers.len() > 1 {
        return Err(err(
            path,
            format!(
                "a packet carries one of icmpv6, mh, payload, tunnel; found {}",
                uppers.join(" and ")
            ),
        ));
    }
    if let Some(v) = p.get("icmpv6") {
        out.push(message_layer(
            "icmpv6",
            v,
            &with(path, "icmpv6"),
            &["code", "checksum"],
        )?);
    }
    if let Some(v) = p.get("mh") {
        let mp = with(path, "mh");
        let l = message_layer(
            "mobility",
            v,
            &mp,
            &[
                "payload_proto",
                "header_len",
                "reserved",
                "checksum",
                "options",
            ],
        )?;
        out.push(align_mobility(l));
    }
    if let Some(v) = p.get("payload") {
        let pp = with(path, "payload");
        let s = v
            .as_str()
            .ok_or_else(|| err(&pp, "expected hex octets as a string"))?;
        out.push(layer(&pp, json!({"layer": "payload", "data": s}))?);
    }
    if let Some(v) = p.get("tunnel") {
        let tp = with(path, "tunnel");
        packet_layers(object(&tp, v, "an encapsulated packet")?, &tp, out, seals)?;
    }
    Ok(())
}

/// `{sa: NAME, seq: N, spi: N, icv: corrupt, next_header: N}`.
fn seal_spec(m: &Map<String, Value>, path: &[Seg]) -> Result<SealSpec, SpecError> {
    for k in m.keys() {
        if !esp::SEAL_KEYS.contains(&k.as_str()) {
            return Err(err(
                &with(path, k),
                format!(
                    "unknown field `{k}` of a sealed ESP; expected one of: {}",
                    esp::SEAL_KEYS.join(", ")
                ),
            ));
        }
    }
    let sa = match &m["sa"] {
        Value::String(s) if !s.is_empty() => s.clone(),
        other => {
            return Err(err(
                &with(path, "sa"),
                format!("expected the name of a security association, found {other}"),
            ))
        }
    };
    let number = |k: &str, max: u64| -> Result<Option<u64>, SpecError> {
        match m.get(k) {
            None => Ok(None),
            Some(v) => {
                let n = match v {
                    Value::String(s) => {
                        let s = s.trim();
                        match s.strip_prefix("0x") {
                            Some(h) => u64::from_str_radix(h, 16).ok(),
                            None => s.parse().ok(),
                        }
                    }
                    other => other.as_u64(),
                };
                n.filter(|n| *n <= max).map(Some).ok_or_else(|| {
                    err(
                        &with(path, k),
                        format!("expected a number from 0 to {max}, found {v}"),
                    )
                })
            }
        }
    };
    let corrupt = match m.get("icv") {
        None => false,
        Some(Value::String(s)) if s == "corrupt" => true,
        Some(Value::String(s)) if s == "valid" => false,
        Some(other) => {
            return Err(err(
                &with(path, "icv"),
                format!("expected `corrupt` (flip a bit of the ICV) or `valid`, found {other}"),
            ))
        }
    };
    Ok(SealSpec {
        sa,
        seq: number("seq", u64::from(u32::MAX))?.map(|n| n as u32),
        spi: number("spi", u64::from(u32::MAX))?.map(|n| n as u32),
        corrupt,
        next_header: number("next_header", 255)?.map(|n| n as u8),
    })
}

/// `[options]` (padded and aligned unless the list pads itself) or the wire
/// form `{options, hdr_ext_len}` as is.
fn options_header(kind: &str, v: &Value, path: &[Seg]) -> Result<Layer, SpecError> {
    match v {
        Value::Array(items) => {
            let mut body = Map::new();
            body.insert("options".into(), Value::Array(items.clone()));
            let mut l =
                layer(path, tagged(kind, body)).map_err(|e| rewrite(e, path, &["options"], &[]))?;
            if let Layer::HopByHop(h) | Layer::DestinationOptions(h) = &mut l {
                let padded = h
                    .repr
                    .options
                    .iter()
                    .any(|o| matches!(o, Ipv6Option::Pad1 | Ipv6Option::PadN { .. }));
                if !padded {
                    h.repr = wire::ipv6_options::OptionsHeaderRepr::aligned(std::mem::take(
                        &mut h.repr.options,
                    ));
                }
            }
            Ok(l)
        }
        Value::Object(m) => layer(path, tagged(kind, m.clone())),
        other => Err(err(
            path,
            format!("expected a list of options, found {other}"),
        )),
    }
}

/// `{type: 2, home_address: X}` or the wire form.
fn routing(v: &Value, path: &[Seg]) -> Result<Layer, SpecError> {
    let m = object(path, v, "routing header fields")?;
    let mut body = m.clone();
    let short = body.contains_key("type");
    if let Some(t) = body.remove("type") {
        if t.as_u64() != Some(2) {
            return Err(err(
                &with(path, "type"),
                format!("the short form is for type 2 only (found {t}); use the wire form `data: {{other: ...}}` for other types"),
            ));
        }
        let home = body
            .remove("home_address")
            .ok_or_else(|| err(path, "a type 2 routing header needs `home_address`"))?;
        body.entry("segments_left").or_insert(json!(1));
        body.insert("data".into(), json!({"type2": {"home_address": home}}));
    }
    layer(path, tagged("routing", body)).map_err(|e| {
        if short {
            rewrite(e, path, &["data", "type2"], &[])
        } else {
            e
        }
    })
}

/// `{<message>: {...}, <header fields>}` -> `{layer, <header fields>,
/// message: {<message>: {...}}}`.
fn message_layer(kind: &str, v: &Value, path: &[Seg], header: &[&str]) -> Result<Layer, SpecError> {
    let m = object(path, v, "a message")?;
    let mut body = Map::new();
    let mut message = Map::new();
    for (k, val) in m {
        if header.contains(&k.as_str()) {
            body.insert(k.clone(), val.clone());
        } else {
            message.insert(k.clone(), val.clone());
        }
    }
    if message.len() != 1 {
        return Err(err(
            path,
            format!(
                "expected exactly one message (e.g. `binding_update: {{...}}`, `echo_request: {{...}}`) besides {}; found {}",
                header.join(", "),
                if message.is_empty() { "none".to_string() } else { message.keys().cloned().collect::<Vec<_>>().join(", ") }
            ),
        ));
    }
    body.insert("message".into(), Value::Object(message));
    layer(path, tagged(kind, body)).map_err(|e| rewrite(e, path, &["message"], &[]))
}

/// Mobility options without padding get RFC 6275's alignment.
fn align_mobility(l: Layer) -> Layer {
    match l {
        Layer::Mobility(m) => {
            let padded = m
                .options
                .iter()
                .any(|o| matches!(o, MobilityOption::Pad1 | MobilityOption::PadN { .. }));
            if padded {
                return Layer::Mobility(m);
            }
            let mut aligned = MobilityRepr::new(m.message, m.options);
            aligned.payload_proto = m.payload_proto;
            aligned.header_len = m.header_len;
            aligned.reserved = m.reserved;
            aligned.checksum = m.checksum;
            Layer::Mobility(aligned)
        }
        other => other,
    }
}

/// The view of a decoded frame that patterns match: the frame description
/// keys, each holding the layer's fields; `tunnel` for what an IPv6 header
/// encapsulates; `routing` also has `type` and, for type 2, `home_address`;
/// `findings` lists the decoder's rule IDs when there are any; `trailer`
/// holds octets after the packet.
pub fn view(frame: &Frame, findings: &[String]) -> Value {
    view_layers(&frame.layers, &BTreeMap::new(), findings)
}

/// [`view`], with the ESP packets of the SAs in `sas` opened (see
/// [`esp::open_layers`]): such an ESP shows as `esp: {spi, seq, sa,
/// icv_ok}` (and `error` when it cannot be opened), and the layers it
/// carried follow it as if they followed the headers before it; their
/// findings join `findings`.
pub fn view_with(frame: &Frame, findings: &[String], sas: &SaTable) -> Value {
    if sas.is_empty() || !frame.layers.iter().any(|l| matches!(l, Layer::Esp(_))) {
        return view(frame, findings);
    }
    let opened = esp::open_layers(frame, sas);
    let mut all = findings.to_vec();
    all.extend(opened.findings);
    view_layers(&opened.layers, &opened.esp, &all)
}

fn view_layers(
    layers: &[Layer],
    esp_views: &BTreeMap<usize, Map<String, Value>>,
    findings: &[String],
) -> Value {
    let mut levels: Vec<Map<String, Value>> = vec![Map::new()];
    for (i, l) in layers.iter().enumerate() {
        let v = serde_json::to_value(l).unwrap_or(Value::Null);
        let mut body = match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        body.remove("layer");
        let cur = levels.len() - 1;
        match l {
            Layer::Ethernet(_) => {
                levels[cur].insert("eth".into(), Value::Object(body));
            }
            Layer::Ipv6(_) => {
                if levels[cur].contains_key("ipv6") {
                    levels.push(Map::new());
                }
                let cur = levels.len() - 1;
                levels[cur].insert("ipv6".into(), Value::Object(body));
            }
            Layer::HopByHop(h) => {
                levels[cur].entry("hop_by_hop").or_insert_with(|| {
                    serde_json::to_value(&h.repr.options).unwrap_or(Value::Null)
                });
            }
            Layer::DestinationOptions(h) => {
                levels[cur].entry("dest_opts").or_insert_with(|| {
                    serde_json::to_value(&h.repr.options).unwrap_or(Value::Null)
                });
            }
            Layer::Routing(_) => {
                let extra: Option<(Value, Option<Value>)> = match body.get("data") {
                    Some(Value::Object(data)) => data.iter().next().map(|(kind, inner)| {
                        let t = match kind.as_str() {
                            "type2" => json!(2),
                            _ => inner.get("routing_type").cloned().unwrap_or(Value::Null),
                        };
                        (t, inner.get("home_address").cloned())
                    }),
                    _ => None,
                };
                if let Some((t, home)) = extra {
                    body.insert("type".into(), t);
                    if let Some(h) = home {
                        body.insert("home_address".into(), h);
                    }
                }
                levels[cur].insert("routing".into(), Value::Object(body));
            }
            Layer::Fragment(_) => {
                levels[cur].insert("fragment".into(), Value::Object(body));
            }
            Layer::Ah(_) => {
                levels[cur].insert("ah".into(), Value::Object(body));
            }
            Layer::Esp(_) => {
                let body = esp_views.get(&i).cloned().unwrap_or(body);
                levels[cur].insert("esp".into(), Value::Object(body));
            }
            Layer::Icmpv6(_) | Layer::Mobility(_) => {
                let key = if matches!(l, Layer::Icmpv6(_)) {
                    "icmpv6"
                } else {
                    "mh"
                };
                if let Some(Value::Object(msg)) = body.remove("message") {
                    body.extend(msg);
                }
                levels[cur].insert(key.into(), Value::Object(body));
            }
            Layer::Payload(o) => {
                levels[cur].insert("payload".into(), json!(hex(&o.data)));
            }
            Layer::Trailer(o) => {
                levels[0].insert("trailer".into(), json!(hex(&o.data)));
            }
        }
    }
    // Nest the levels: each inner packet is its outer one's `tunnel`.
    let mut inner: Option<Map<String, Value>> = None;
    while let Some(mut level) = levels.pop() {
        if let Some(i) = inner.take() {
            level.insert("tunnel".into(), Value::Object(i));
        }
        inner = Some(level);
    }
    let mut top = inner.unwrap_or_default();
    if !findings.is_empty() {
        top.insert("findings".into(), json!(findings));
    }
    Value::Object(top)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Defaults {
        Defaults {
            src_mac: MacAddr([2, 0, 0, 0, 0, 0x10]),
            unicast_dst_mac: MacAddr([2, 0, 0, 0, 0, 2]),
        }
    }

    fn bu() -> Value {
        json!({
            "ipv6": {"src": "2001:db8:1::2", "dst": "2001:db8:ffff::1"},
            "dest_opts": [{"home_address": {"address": "2001:db8:ffff::2:2"}}],
            "mh": {"binding_update": {"seq": 100, "a_flag": true, "m_flag": true, "lifetime": 15}},
        })
    }

    #[test]
    fn a_local_bu_is_built_like_the_sample() {
        let built = build(&bu(), &d()).unwrap();
        let bytes = built.bytes();
        let decoded = Frame::decode(&bytes);
        assert!(decoded.findings.is_empty(), "{:?}", decoded.findings);
        // Same octets as the hand-built sample, Ethernet addresses aside.
        let sample = wire::samples::all()
            .into_iter()
            .find(|s| s.name == "bu-local")
            .unwrap()
            .frame
            .emit();
        assert_eq!(bytes[14..], sample[14..]);
        assert_eq!(&bytes[0..6], &[2, 0, 0, 0, 0, 2]);
        assert_eq!(&bytes[6..12], &[2, 0, 0, 0, 0, 0x10]);
    }

    #[test]
    fn view_round_trips_what_build_sends() {
        let built = build(&bu(), &d()).unwrap();
        let Built::Frame(f) = built else { panic!() };
        let v = view(&Frame::decode(&f.emit()).frame, &[]);
        let o = crate::case::pattern::match_frame(&bu(), &v);
        assert!(o.matched(), "{:?}", o.diffs);
        assert_eq!(v["ipv6"]["hop_limit"], json!(64));
        assert!(v.get("routing").is_none());
    }

    #[test]
    fn nd_gets_hop_limit_255_and_multicast_mac() {
        let ra = json!({"ipv6": {"src": "fe80::1", "dst": "ff02::1"},
                        "icmpv6": {"router_advert": {"cur_hop_limit": 64, "router_lifetime": 1800}}});
        let Built::Frame(f) = build(&ra, &d()).unwrap() else {
            panic!()
        };
        let bytes = f.emit();
        assert_eq!(&bytes[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(bytes[14 + 7], 255);
    }

    #[test]
    fn tunnels_and_routing_short_form() {
        let desc = json!({
            "ipv6": {"src": "2001:db8:ffff::1", "dst": "2001:db8:1::2"},
            "tunnel": {
                "ipv6": {"src": "2001:db8:cccc::5", "dst": "2001:db8:ffff::2:2"},
                "routing": {"type": 2, "home_address": "2001:db8:aaaa::1"},
                "icmpv6": {"echo_request": {"ident": 1, "seq": 2, "data": "00"}}
            }
        });
        let Built::Frame(f) = build(&desc, &d()).unwrap() else {
            panic!()
        };
        let dec = Frame::decode(&f.emit());
        assert!(dec.findings.is_empty(), "{:?}", dec.findings);
        let v = view(&dec.frame, &[]);
        assert_eq!(
            v["tunnel"]["routing"]["home_address"],
            json!("2001:db8:aaaa::1")
        );
        assert_eq!(v["tunnel"]["routing"]["type"], json!(2));
        assert_eq!(v["tunnel"]["icmpv6"]["echo_request"]["seq"], json!(2));
        assert!(crate::case::pattern::match_frame(&desc, &v).matched());
    }

    #[test]
    fn errors_name_the_path() {
        // The IPv6 fields are flattened in `wire` and layers are tagged, so
        // serde reports the layer; the layer's own type finds the field.
        let e = build(&json!({"ipv6": {"src": "x", "dst": "::1"}}), &d()).unwrap_err();
        assert_eq!(path_text(&e.path), "ipv6.src", "{e}");
        assert!(e.message.contains("IPv6 address"), "{e}");
        assert!(e.message.contains("found \"x\""), "{e}");
        // Short forms: the path is the case's, not the wire form's.
        let ip = json!({"src": "::1", "dst": "::1"});
        let e = build(
            &json!({"ipv6": ip, "icmpv6": {"echo_request": {"ident": 1, "seq": "x"}}}),
            &d(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "icmpv6.echo_request.seq", "{e}");
        let e = build(
            &json!({"ipv6": ip, "routing": {"type": 2, "home_address": "y"}, "payload": ""}),
            &d(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "routing.home_address", "{e}");
        let e = build(
            &json!({"ipv6": ip, "dest_opts": [{"home_address": {"address": "z"}}], "payload": ""}),
            &d(),
        )
        .unwrap_err();
        assert_eq!(
            path_text(&e.path),
            "dest_opts[0].home_address.address",
            "{e}"
        );
        let e = build(
            &json!({"ipv6": {"src": "::1", "dst": "::1"}, "mh": {"binding_update": {"seq": 1, "lifetime": 1}, "binding_ack": {}}}),
            &d(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "mh", "{e}");
        let e = build(&json!({"dest_opts": []}), &d()).unwrap_err();
        assert!(e.message.contains("`ipv6`"), "{e}");
        // Fields the layer does not have are errors, not silently ignored.
        let e = build(
            &json!({"ipv6": {"src": "::1", "dst": "::1", "hop_limt": 1}, "payload": ""}),
            &d(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "ipv6.hop_limt", "{e}");
        let e = build(
            &json!({"ipv6": ip, "icmpv6": {"echo_request": {"ident": 1, "seq": 1, "dta": "00"}}}),
            &d(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "icmpv6.echo_request.dta", "{e}");
        assert!(e.message.starts_with("unknown field `dta`"), "{e}");
        let e = build(&json!({"raw": "0g"}), &d()).unwrap_err();
        assert!(e.message.contains("not hex"), "{e}");
    }

    const MN_KEY: [u8; 32] = [0x11; 32];
    const MAP_KEY: [u8; 32] = [0x22; 32];

    fn sas() -> SaTable {
        SaTable::new(vec![
            esp::Sa {
                name: "mn_to_map".into(),
                spi: 0x1000,
                key: MN_KEY.to_vec(),
            },
            esp::Sa {
                name: "map_to_mn".into(),
                spi: 0x2000,
                key: MAP_KEY.to_vec(),
            },
        ])
    }

    fn sealer() -> Sealer {
        Sealer::new(sas(), None)
    }

    fn protected_bu(esp: Value) -> Value {
        let mut desc = bu();
        desc["esp"] = esp;
        desc
    }

    fn ba() -> Value {
        json!({
            "ipv6": {"src": "2001:db8:ffff::1", "dst": "2001:db8:1::2"},
            "routing": {"type": 2, "home_address": "2001:db8:ffff::2:2"},
            "mh": {"binding_ack": {"status": 0, "seq": 100, "lifetime": 15}},
        })
    }

    fn sent(desc: &Value, s: &mut Sealer) -> Vec<u8> {
        build_with(desc, &d(), s).unwrap().bytes()
    }

    /// The ESP packet of an emitted frame (eth, IPv6, one 24-octet
    /// extension header, ESP).
    fn esp_of(bytes: &[u8]) -> &[u8] {
        &bytes[14 + 40 + 24..]
    }

    #[test]
    fn a_sealed_bu_opens_to_the_plain_mobility_header() {
        let plain = build(&bu(), &d()).unwrap().bytes();
        let bytes = sent(&protected_bu(json!({"sa": "mn_to_map"})), &mut sealer());
        // IPv6 -> Destination Options (HAO) -> ESP.
        assert_eq!(bytes[14 + 6], 60);
        assert_eq!(bytes[14 + 40], 50);
        let dec = Frame::decode(&bytes);
        assert!(dec.findings.is_empty(), "{:?}", dec.findings);
        let opened = wire::esp_auth::open(&MN_KEY, esp_of(&bytes)).unwrap();
        assert_eq!(opened.spi, 0x1000);
        assert_eq!(opened.seq, 1);
        assert_eq!(opened.next_header, 135);
        assert_eq!(opened.payload, &plain[14 + 40 + 24..]);
        // Transport mode: the MH checksum is the one without ESP, over the
        // HAO (RCoA) as source.
        let pseudo = wire::checksum::PseudoHeader {
            src: "2001:db8:ffff::2:2".parse().unwrap(),
            dst: "2001:db8:ffff::1".parse().unwrap(),
            next_header: 135,
        };
        assert_eq!(pseudo.checksum(&opened.payload), 0);
        // The IPv6 Payload Length covers the ESP packet.
        let plen = u16::from_be_bytes([bytes[14 + 4], bytes[14 + 5]]) as usize;
        assert_eq!(plen, bytes.len() - 14 - 40);
    }

    #[test]
    fn sequence_numbers_count_per_sa_and_can_be_given() {
        let mut s = sealer();
        let seq = |b: &[u8]| u32::from_be_bytes(esp_of(b)[4..8].try_into().unwrap());
        let auto = protected_bu(json!({"sa": "mn_to_map"}));
        assert_eq!(seq(&sent(&auto, &mut s)), 1);
        assert_eq!(seq(&sent(&auto, &mut s)), 2);
        let given = protected_bu(json!({"sa": "mn_to_map", "seq": 7}));
        assert_eq!(seq(&sent(&given, &mut s)), 7);
        // A given number leaves the counter alone.
        assert_eq!(seq(&sent(&auto, &mut s)), 3);
        let other = protected_bu(json!({"sa": "map_to_mn"}));
        assert_eq!(seq(&sent(&other, &mut s)), 1);
    }

    #[test]
    fn corrupt_icv_spi_override_and_trailer_next_header() {
        let bytes = sent(
            &protected_bu(json!({"sa": "mn_to_map", "icv": "corrupt"})),
            &mut sealer(),
        );
        assert_eq!(
            wire::esp_auth::open(&MN_KEY, esp_of(&bytes)),
            Err(wire::esp_auth::OpenError::IcvMismatch)
        );
        let bytes = sent(
            &protected_bu(json!({"sa": "mn_to_map", "spi": "0x4242", "next_header": 59})),
            &mut sealer(),
        );
        let opened = wire::esp_auth::open(&MN_KEY, esp_of(&bytes)).unwrap();
        assert_eq!(opened.spi, 0x4242);
        assert_eq!(opened.next_header, 59);
    }

    #[test]
    fn auto_protection_and_opting_out() {
        let mut s = Sealer::new(sas(), Some("mn_to_map".into()));
        let bytes = sent(&bu(), &mut s);
        assert_eq!(bytes[14 + 40], 50, "sealed without asking");
        assert!(wire::esp_auth::open(&MN_KEY, esp_of(&bytes)).is_ok());
        let bytes = sent(&protected_bu(json!("none")), &mut s);
        assert_eq!(bytes[14 + 40], 135, "`esp: none` sends it in the clear");
        // Only packets carrying a Mobility Header.
        let echo = json!({"ipv6": {"src": "::1", "dst": "::2"},
                          "icmpv6": {"echo_request": {"ident": 1, "seq": 1}}});
        assert_eq!(sent(&echo, &mut s)[14 + 6], 58);
        // No `protect`: nothing happens.
        assert_eq!(sent(&bu(), &mut sealer())[14 + 40], 135);
    }

    #[test]
    fn protect_router_advert_seals_sent_ras_only() {
        let mut s = Sealer::new(sas(), None);
        s.protect_ra = Some("mn_to_map".into());
        let ra = json!({"ipv6": {"src": "fe80::1", "dst": "ff02::1"},
                        "icmpv6": {"router_advert": {"cur_hop_limit": 64, "router_lifetime": 1800,
                                                      "options": []}}});
        let bytes = sent(&ra, &mut s);
        assert_eq!(bytes[14 + 6], 50, "the RA is sealed");
        let opened = wire::esp_auth::open(&MN_KEY, &bytes[14 + 40..]).unwrap();
        assert_eq!(opened.next_header, 58);
        assert_eq!(opened.payload[0], 134, "ICMPv6 type Router Advertisement");
        let mut clear = ra.clone();
        clear["esp"] = json!("none");
        assert_eq!(sent(&clear, &mut s)[14 + 6], 58, "`esp: none` opts out");
        // A BU is not an RA: protect.mobility_header is not set here.
        assert_eq!(sent(&bu(), &mut s)[14 + 40], 135);
    }

    #[test]
    fn sealed_form_errors_name_the_field() {
        let e = build_with(
            &protected_bu(json!({"sa": "mn_to_mapp"})),
            &d(),
            &mut sealer(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "esp.sa", "{e}");
        assert!(
            e.message.contains("mn_to_map, map_to_mn")
                || e.message.contains("map_to_mn, mn_to_map"),
            "{e}"
        );
        let e = build(&protected_bu(json!({"sa": "mn_to_map"})), &d()).unwrap_err();
        assert!(e.message.contains("declares none"), "{e}");
        let e = build_with(
            &protected_bu(json!({"sa": "mn_to_map", "icv": "bad"})),
            &d(),
            &mut sealer(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "esp.icv", "{e}");
        let e = build_with(
            &protected_bu(json!({"sa": "mn_to_map", "sequence": 1})),
            &d(),
            &mut sealer(),
        )
        .unwrap_err();
        assert_eq!(path_text(&e.path), "esp.sequence", "{e}");
        assert!(e.message.contains("expected one of: sa, seq"), "{e}");
        // The wire form still works.
        let raw = protected_bu(json!({"spi": 5, "seq": 6, "data": "abcd"}));
        let bytes = build(&raw, &d()).unwrap().bytes();
        assert_eq!(&esp_of(&bytes)[..10], &[0, 0, 0, 5, 0, 0, 0, 6, 0xab, 0xcd]);
    }

    fn viewed(desc: &Value, table: &SaTable) -> Value {
        let bytes = sent(desc, &mut sealer());
        let dec = Frame::decode(&bytes);
        let findings: Vec<String> = dec.findings.iter().map(|f| f.rule.to_string()).collect();
        view_with(&dec.frame, &findings, table)
    }

    #[test]
    fn a_protected_ba_views_as_rh2_esp_mh() {
        let mut desc = ba();
        desc["esp"] = json!({"sa": "map_to_mn"});
        let v = viewed(&desc, &sas());
        assert_eq!(
            v["esp"],
            json!({"spi": 0x2000, "seq": 1, "sa": "map_to_mn", "icv_ok": true})
        );
        assert!(v.get("findings").is_none(), "{v}");
        // The plain BA's pattern matches, and so does one about the ESP.
        let o = crate::case::pattern::match_frame(&ba(), &v);
        assert!(o.matched(), "{:?}", o.diffs);
        let mut p = ba();
        p["esp"] = json!({"sa": "map_to_mn", "icv_ok": true});
        assert!(crate::case::pattern::match_frame(&p, &v).matched());
        p["esp"] = json!("absent");
        assert!(!crate::case::pattern::match_frame(&p, &v).matched());
        // A FAIL shows field by field what differs.
        let p = json!({"esp": {"sa": "mn_to_map"}, "mh": {"binding_ack": {"status": 129}}});
        let o = crate::case::pattern::match_frame(&p, &v);
        let fields: Vec<(&str, &str, &str)> = o
            .diffs
            .iter()
            .map(|d| (d.field.as_str(), d.expected.as_str(), d.observed.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("esp.sa", "mn_to_map", "map_to_mn"),
                ("mh.binding_ack.status", "129", "0")
            ]
        );
        // An unprotected BA: `esp: absent` holds.
        let plain = viewed(&ba(), &sas());
        assert!(crate::case::pattern::match_frame(&json!({"esp": "absent"}), &plain).matched());
    }

    #[test]
    fn a_protected_bu_views_as_hao_esp_mh() {
        let v = viewed(&protected_bu(json!({"sa": "mn_to_map"})), &sas());
        assert_eq!(v["esp"]["sa"], json!("mn_to_map"));
        assert_eq!(v["esp"]["icv_ok"], json!(true));
        assert!(v.get("findings").is_none(), "{v}");
        let o = crate::case::pattern::match_frame(&bu(), &v);
        assert!(o.matched(), "{:?}", o.diffs);
    }

    #[test]
    fn bad_icv_unknown_spi_and_no_sas() {
        let v = viewed(
            &protected_bu(json!({"sa": "mn_to_map", "icv": "corrupt"})),
            &sas(),
        );
        assert_eq!(v["esp"]["icv_ok"], json!(false));
        assert_eq!(v["esp"]["sa"], json!("mn_to_map"));
        assert!(v["esp"]["error"].as_str().unwrap().contains("ICV"));
        assert!(v.get("mh").is_none(), "no inner layers: {v}");
        // An SPI no SA has: the opaque wire form.
        let v = viewed(
            &protected_bu(json!({"sa": "mn_to_map", "spi": 0x9999})),
            &sas(),
        );
        assert_eq!(v["esp"]["spi"], json!(0x9999));
        assert!(v["esp"]["data"].is_string());
        assert!(v["esp"].get("sa").is_none() && v.get("mh").is_none(), "{v}");
        // A profile without SAs sees the same.
        let v = viewed(
            &protected_bu(json!({"sa": "mn_to_map"})),
            &SaTable::default(),
        );
        assert!(v["esp"]["data"].is_string() && v.get("mh").is_none(), "{v}");
    }

    #[test]
    fn opened_layers_are_checked_and_tunnels_open_too() {
        // A bad MH checksum inside the ESP is a finding of the frame.
        let mut desc = protected_bu(json!({"sa": "mn_to_map"}));
        desc["mh"]["checksum"] = json!(0x1234);
        let v = viewed(&desc, &sas());
        assert_eq!(v["findings"], json!([wire::rules::MH_CHECKSUM]));
        // ESP sealing a whole packet (tunnel mode, as a case can say it).
        let desc = json!({
            "ipv6": {"src": "2001:db8:ffff::1", "dst": "2001:db8:1::2"},
            "esp": {"sa": "map_to_mn"},
            "tunnel": {
                "ipv6": {"src": "2001:db8:cccc::5", "dst": "2001:db8:ffff::2:2"},
                "icmpv6": {"echo_request": {"ident": 1, "seq": 2, "data": "00"}}
            }
        });
        let v = viewed(&desc, &sas());
        assert!(v.get("findings").is_none(), "{v}");
        assert_eq!(v["esp"]["icv_ok"], json!(true));
        assert_eq!(v["tunnel"]["icmpv6"]["echo_request"]["seq"], json!(2));
        let o = crate::case::pattern::match_frame(&desc, &v);
        assert!(o.matched(), "{:?}", o.diffs);
    }

    #[test]
    fn crafted_overrides_survive() {
        let mut desc = bu();
        desc["mh"]["checksum"] = json!(0x1234);
        let Built::Frame(f) = build(&desc, &d()).unwrap() else {
            panic!()
        };
        let dec = Frame::decode(&f.emit());
        assert!(!dec.findings.is_empty());
    }
}
