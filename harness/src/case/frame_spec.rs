//! Frame descriptions (see the table in [`super`]): [`build`] turns the
//! resolved description of a `send` step into a `wire` frame; [`view`]
//! turns a received frame into the same shape, which `expect` patterns
//! match. One vocabulary serves both directions, so whatever a case can
//! send it can also expect.

use serde_json::{json, Map, Value};
use wire::frame::{Frame, Layer};
use wire::ipv6_options::Ipv6Option;
use wire::mobility::MobilityRepr;
use wire::mobility_options::MobilityOption;
use wire::MacAddr;

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

/// Builds the frame a resolved `send` description says.
pub fn build(desc: &Value, d: &Defaults) -> Result<Built, SpecError> {
    let top = object(&[], desc, "a frame description")?;
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
        packet_layers(top, &[], &mut packet)?;
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
    for (key, kind) in [("fragment", "fragment"), ("ah", "ah"), ("esp", "esp")] {
        if let Some(v) = p.get(key) {
            let kp = with(path, key);
            out.push(layer(
                &kp,
                tagged(kind, object(&kp, v, "header fields")?.clone()),
            )?);
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
        packet_layers(object(&tp, v, "an encapsulated packet")?, &tp, out)?;
    }
    Ok(())
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
    let mut levels: Vec<Map<String, Value>> = vec![Map::new()];
    for l in &frame.layers {
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
