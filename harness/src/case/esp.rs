//! ESP in frame descriptions (RFC 4140 12.1: local BUs and BAs protected
//! with ESP in transport mode), with the one transform `wire::esp_auth`
//! speaks: NULL encryption and HMAC-SHA-256-128.
//!
//! Sending: `esp: {sa: NAME}` in a packet description seals the layers that
//! follow it (see [`super::frame_spec::build_with`]); with the profile's
//! `protect.mobility_header`, a packet carrying `mh` and no `esp` key is
//! sealed without asking. Receiving: an ESP packet whose SPI belongs to a
//! security association of the profile is opened, and the view shows
//! `esp: {spi, seq, sa, icv_ok}` followed by the layers it carried (see
//! [`open_layers`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use wire::esp_auth::{self, OpenError};
use wire::frame::{Frame, Layer, Octets};
use wire::ipsec::EspRepr;
use wire::proto;

use crate::case::Case;
use crate::profile::Profile;

/// One security association, keys decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sa {
    pub name: String,
    pub spi: u32,
    pub key: Vec<u8>,
}

/// The security associations of a profile, by name and by SPI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaTable {
    sas: Vec<Sa>,
}

impl SaTable {
    pub fn new(sas: Vec<Sa>) -> SaTable {
        SaTable { sas }
    }

    /// The profile's `security_associations` (`Err`: an `auth_key` that is
    /// not hex octets, which lint reports first).
    pub fn from_profile(p: &Profile) -> Result<SaTable, String> {
        let mut sas = Vec::new();
        for (name, sa) in &p.security_associations {
            let key = sa
                .key()
                .map_err(|e| format!("security_associations.{name}.auth_key: {e}"))?;
            sas.push(Sa {
                name: name.clone(),
                spi: sa.spi,
                key,
            });
        }
        Ok(SaTable { sas })
    }

    pub fn is_empty(&self) -> bool {
        self.sas.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&Sa> {
        self.sas.iter().find(|s| s.name == name)
    }

    pub fn by_spi(&self, spi: u32) -> Option<&Sa> {
        self.sas.iter().find(|s| s.spi == spi)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sas.iter().map(|s| s.name.as_str())
    }
}

/// What sending needs: the SAs, the auto-protection, and the sequence
/// numbers used so far (one counter per SA, for the whole case).
#[derive(Clone, Debug, Default)]
pub struct Sealer {
    pub sas: SaTable,
    /// `protect.mobility_header`: the SA that seals every sent packet
    /// carrying `mh` and no `esp` key.
    pub protect_mh: Option<String>,
    /// `protect.router_advert`: the SA that seals every sent Router
    /// Advertisement without an `esp` key.
    pub protect_ra: Option<String>,
    counters: BTreeMap<String, u32>,
}

impl Sealer {
    pub fn new(sas: SaTable, protect_mh: Option<String>) -> Sealer {
        Sealer {
            sas,
            protect_mh,
            protect_ra: None,
            counters: BTreeMap::new(),
        }
    }

    /// The profile's SAs and `protect`, counters at zero.
    pub fn from_profile(p: &Profile) -> Result<Sealer, String> {
        let mut s = Sealer::new(
            SaTable::from_profile(p)?,
            p.protect.as_ref().and_then(|x| x.mobility_header.clone()),
        );
        s.protect_ra = p.protect.as_ref().and_then(|x| x.router_advert.clone());
        Ok(s)
    }

    /// The next sequence number of `sa`: 1, 2, 3, ... per case.
    pub fn next_seq(&mut self, sa: &str) -> u32 {
        let c = self.counters.entry(sa.to_string()).or_insert(0);
        *c = c.wrapping_add(1);
        *c
    }
}

/// The keys of the sealed form `esp: {sa: NAME, ...}`.
pub const SEAL_KEYS: &[&str] = &["sa", "seq", "spi", "icv", "next_header"];

/// A sealed `esp` of a description, as parsed: where its layer is and how
/// to seal what follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealSpec {
    pub sa: String,
    /// `None`: the SA's next sequence number.
    pub seq: Option<u32>,
    /// `None`: the SA's SPI.
    pub spi: Option<u32>,
    /// Flip a bit of the ICV.
    pub corrupt: bool,
    /// The ESP trailer's Next Header (`None`: the protocol of the first
    /// sealed layer).
    pub next_header: Option<u8>,
}

/// The Next Header value announcing `l` (No Next Header for a layer
/// without one).
pub fn protocol(l: &Layer) -> u8 {
    l.protocol().unwrap_or(proto::NO_NEXT_HEADER)
}

/// Replaces `frame.layers[at]` (a placeholder) and every layer after it by
/// the ESP packet sealing them: the layers are emitted as if ESP were
/// absent (transport mode: upper-layer checksums with the packet's
/// addresses, Home Address option and type 2 routing header included),
/// then sealed with the SA's key. `Err` names an SA `sas` lacks.
pub fn seal_at(
    frame: &mut Frame,
    at: usize,
    spec: &SealSpec,
    sealer: &mut Sealer,
) -> Result<(), String> {
    let Some(sa) = sealer.sas.get(&spec.sa).cloned() else {
        let known: Vec<&str> = sealer.sas.names().collect();
        return Err(format!(
            "no security association named {:?}; {}",
            spec.sa,
            if known.is_empty() {
                "the profile declares none (`security_associations`)".to_string()
            } else {
                format!("the profile declares {}", known.join(", "))
            }
        ));
    };
    let mut plain_frame = Frame::new(frame.layers[..at].to_vec());
    plain_frame
        .layers
        .extend(frame.layers[at + 1..].iter().cloned());
    let offset: usize = frame.layers[..at].iter().map(Layer::buffer_len).sum();
    let emitted = plain_frame.emit();
    let plain = &emitted[offset.min(emitted.len())..];
    let next_header = spec.next_header.unwrap_or_else(|| {
        frame
            .layers
            .get(at + 1)
            .map(protocol)
            .unwrap_or(proto::NO_NEXT_HEADER)
    });
    let seq = match spec.seq {
        Some(s) => s,
        None => sealer.next_seq(&spec.sa),
    };
    let spi = spec.spi.unwrap_or(sa.spi);
    let mut sealed = esp_auth::seal(spi, seq, &sa.key, next_header, plain);
    if spec.corrupt {
        if let Some(last) = sealed.last_mut() {
            *last ^= 0x01;
        }
    }
    let esp = EspRepr {
        spi,
        seq,
        data: sealed[esp_auth::HEADER_LEN..].to_vec(),
    };
    frame.layers.truncate(at);
    frame.layers.push(Layer::Esp(esp));
    Ok(())
}

/// What [`open_layers`] makes of a frame: the layers to view (each opened
/// ESP followed by what it carried), the view of each ESP it recognised
/// (by index in `layers`), and the findings of the layers it opened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Opened {
    pub layers: Vec<Layer>,
    pub esp: BTreeMap<usize, Map<String, Value>>,
    pub findings: Vec<String>,
}

/// How many ESP packets, one inside another, are opened at most.
const MAX_OPEN: usize = 4;

/// Opens every ESP packet of `frame` whose SPI belongs to an SA of `sas`:
/// the ICV is checked and, when it holds, the payload is decoded as if it
/// followed the headers before the ESP directly (its checksums verified
/// with their addresses), so that patterns over `mh`, `icmpv6` or `tunnel`
/// match a protected message as they match a plain one.
pub fn open_layers(frame: &Frame, sas: &SaTable) -> Opened {
    let mut out = Opened {
        layers: frame.layers.clone(),
        ..Opened::default()
    };
    if sas.is_empty() {
        return out;
    }
    let trailer = match frame.layers.last() {
        Some(t @ Layer::Trailer(_)) => Some(t.clone()),
        _ => None,
    };
    // `wire`: the frame as the wire has it with the ESP packets opened so
    // far replaced by their contents (consistent: it emits and decodes);
    // `out.layers[i + shift]` is `wire.layers[i]` from `start` on.
    let mut wire = frame.clone();
    let mut shift = 0;
    let mut start = 0;
    let mut opened_any = false;
    for _ in 0..MAX_OPEN {
        let Some(k) = (start..wire.layers.len()).find(|&i| matches!(wire.layers[i], Layer::Esp(_)))
        else {
            break;
        };
        let Layer::Esp(e) = &wire.layers[k] else {
            break;
        };
        start = k + 1;
        let Some(sa) = sas.by_spi(e.spi) else {
            continue;
        };
        let mut note = Map::new();
        note.insert("spi".into(), json!(e.spi));
        note.insert("seq".into(), json!(e.seq));
        note.insert("sa".into(), json!(sa.name));
        let mut packet = Vec::with_capacity(esp_auth::HEADER_LEN + e.data.len());
        packet.extend_from_slice(&e.spi.to_be_bytes());
        packet.extend_from_slice(&e.seq.to_be_bytes());
        packet.extend_from_slice(&e.data);
        let opened = match esp_auth::open(&sa.key, &packet) {
            Ok(o) => o,
            Err(err) => {
                let icv_ok = matches!(err, OpenError::BadPadding { .. });
                note.insert("icv_ok".into(), json!(icv_ok));
                note.insert("error".into(), json!(err.to_string()));
                out.esp.insert(k + shift, note);
                continue;
            }
        };
        note.insert("icv_ok".into(), json!(true));
        // The headers before the ESP, then its payload in its place.
        let mut prefix: Vec<Layer> = wire.layers[..k].to_vec();
        for l in &mut prefix {
            if let Layer::Ipv6(ip) = l {
                ip.payload_len = None;
            }
        }
        if let Some(last) = prefix.last_mut() {
            let nh = Some(opened.next_header);
            match last {
                Layer::Ipv6(l) => l.next_header = nh,
                Layer::HopByHop(l) | Layer::DestinationOptions(l) => l.next_header = nh,
                Layer::Routing(l) => l.next_header = nh,
                Layer::Fragment(l) => l.next_header = nh,
                Layer::Ah(l) => l.next_header = nh,
                _ => {}
            }
        }
        let offset: usize = prefix.iter().map(Layer::buffer_len).sum();
        prefix.push(Layer::Payload(Octets {
            data: opened.payload,
        }));
        let bytes = Frame::new(prefix).emit();
        let decoded = if matches!(wire.layers.first(), Some(Layer::Ethernet(_))) {
            Frame::decode(&bytes)
        } else {
            Frame::decode_ipv6(&bytes)
        };
        out.findings.extend(
            decoded
                .findings
                .iter()
                .filter(|f| f.offset >= offset)
                .map(|f| f.rule.to_string()),
        );
        out.esp.insert(k + shift, note);
        out.layers.truncate(k + shift + 1);
        out.layers.extend(
            decoded
                .frame
                .layers
                .iter()
                .skip(k)
                .filter(|l| !matches!(l, Layer::Trailer(_)))
                .cloned(),
        );
        shift += 1;
        start = k;
        wire = decoded.frame;
        opened_any = true;
    }
    if opened_any {
        if let Some(t) = trailer {
            if !matches!(out.layers.last(), Some(Layer::Trailer(_))) {
                out.layers.push(t);
            }
        }
    }
    out
}

/// Every SA name a case uses: `esp: {sa: NAME}` in its `send` steps and
/// its patterns, at any depth (tunnels, repeats).
pub fn sa_names(case: &Case) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let steps = serde_json::to_value(&case.steps).unwrap_or(Value::Null);
    collect_sa_names(&steps, &mut out);
    out
}

/// The SA names under `esp` keys in a JSON tree.
pub fn collect_sa_names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, sub) in m {
                if k == "esp" {
                    if let Some(Value::String(s)) = sub.get("sa") {
                        out.insert(s.clone());
                    }
                }
                collect_sa_names(sub, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_sa_names(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_per_sa_from_one() {
        let mut s = Sealer::default();
        assert_eq!(s.next_seq("a"), 1);
        assert_eq!(s.next_seq("a"), 2);
        assert_eq!(s.next_seq("b"), 1);
        assert_eq!(s.next_seq("a"), 3);
    }

    #[test]
    fn sa_names_are_found_in_sends_and_patterns() {
        let v = json!([
            {"send": {"esp": {"sa": "mn_to_map"}, "tunnel": {"esp": {"sa": "x"}}}},
            {"expect": {"esp": {"sa": "map_to_mn", "icv_ok": true}}},
            {"expect": {"esp": "absent"}},
            {"repeat": {"count": 2, "steps": [{"send": {"esp": {"sa": "y"}}}]}}
        ]);
        let mut out = BTreeSet::new();
        collect_sa_names(&v, &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            vec!["map_to_mn", "mn_to_map", "x", "y"]
        );
    }
}
