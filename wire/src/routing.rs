//! The Routing header (Next Header 43, RFC 8200 4.4), with the type 2
//! Routing header of Mobile IPv6 (RFC 6275 6.4) decoded.
//!
//! ```text
//! octet 0       Next Header
//! octet 1       Hdr Ext Len (8-octet units, not counting the first 8)
//! octet 2       Routing Type
//! octet 3       Segments Left
//! octets 4..    type-specific data; for type 2:
//!   octets 4-7    Reserved
//!   octets 8-23   Home Address
//! ```
//!
//! A type 2 header has Hdr Ext Len 2 and Segments Left 1 (24 octets). In
//! the MAP's Binding Acknowledgement it carries the MN's RCoA while the IPv6
//! destination is the LCoA.

use std::net::Ipv6Addr;

use crate::finding::Diag;
use crate::rules;
use crate::{Error, Result};

/// Routing Type of the Mobile IPv6 type 2 Routing header.
pub const TYPE2: u8 = 2;
/// Hdr Ext Len of a type 2 Routing header.
pub const TYPE2_HDR_EXT_LEN: u8 = 2;
/// Octets of a type 2 Routing header.
pub const TYPE2_LEN: usize = 24;

mod field {
    use core::ops::{Range, RangeFrom};

    pub const NEXT_HEADER: usize = 0;
    pub const HDR_EXT_LEN: usize = 1;
    pub const ROUTING_TYPE: usize = 2;
    pub const SEGMENTS_LEFT: usize = 3;
    pub const DATA: RangeFrom<usize> = 4..;
    /// End of the fixed part.
    pub const FIXED_END: usize = 4;

    pub const TYPE2_RESERVED: Range<usize> = 4..8;
    pub const TYPE2_HOME_ADDRESS: Range<usize> = 8..24;
}

/// Copy `b[start..start + N]` into an array, zero-filling what lies past the end of `b`.
fn read_padded<const N: usize>(b: &[u8], start: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = b.get(start..) {
        let k = src.len().min(N);
        out[..k].copy_from_slice(&src[..k]);
    }
    out
}

/// Write `v` at `b[start..]`, cutting what lies past the end of `b`.
fn write_cut(b: &mut [u8], start: usize, v: &[u8]) {
    if let Some(dst) = b.get_mut(start..) {
        let k = dst.len().min(v.len());
        dst[..k].copy_from_slice(&v[..k]);
    }
}

/// A checked view of a Routing header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RoutingHeader<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> RoutingHeader<T> {
        RoutingHeader { buffer }
    }

    /// Wrap a buffer, checking that it holds the `(Hdr Ext Len + 1) * 8`
    /// octets the header claims.
    pub fn new_checked(buffer: T) -> Result<RoutingHeader<T>> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// `Err(Error::Truncated)` when the buffer is shorter than the 4-octet
    /// fixed part or the header's stated length.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < field::FIXED_END || len < self.header_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next Header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hdr Ext Len (8-octet units, not counting the first 8 octets).
    pub fn hdr_ext_len(&self) -> u8 {
        self.buffer.as_ref()[field::HDR_EXT_LEN]
    }

    /// The header's length in octets, `(Hdr Ext Len + 1) * 8`.
    pub fn header_len(&self) -> usize {
        (usize::from(self.hdr_ext_len()) + 1) * 8
    }

    /// Routing Type.
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[field::ROUTING_TYPE]
    }

    /// Segments Left.
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[field::SEGMENTS_LEFT]
    }

    /// Type-specific data: the octets after the fixed part, up to the header end.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::FIXED_END..self.header_len()]
    }

    /// Type 2 Reserved field (zero-filled where the header is shorter).
    pub fn type2_reserved(&self) -> u32 {
        let end = self.header_len().min(self.buffer.as_ref().len());
        let b = &self.buffer.as_ref()[..end];
        u32::from_be_bytes(read_padded(b, field::TYPE2_RESERVED.start))
    }

    /// Type 2 Home Address (zero-filled where the header is shorter).
    pub fn type2_home_address(&self) -> Ipv6Addr {
        let end = self.header_len().min(self.buffer.as_ref().len());
        let b = &self.buffer.as_ref()[..end];
        Ipv6Addr::from(read_padded::<16>(b, field::TYPE2_HOME_ADDRESS.start))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RoutingHeader<T> {
    pub fn set_next_header(&mut self, v: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = v;
    }

    pub fn set_hdr_ext_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HDR_EXT_LEN] = v;
    }

    pub fn set_routing_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::ROUTING_TYPE] = v;
    }

    pub fn set_segments_left(&mut self, v: u8) {
        self.buffer.as_mut()[field::SEGMENTS_LEFT] = v;
    }

    /// Type-specific data, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::FIXED_END..end]
    }

    /// Set the type 2 Reserved field (cut where the buffer ends).
    pub fn set_type2_reserved(&mut self, v: u32) {
        write_cut(
            self.buffer.as_mut(),
            field::TYPE2_RESERVED.start,
            &v.to_be_bytes(),
        );
    }

    /// Set the type 2 Home Address (cut where the buffer ends).
    pub fn set_type2_home_address(&mut self, v: Ipv6Addr) {
        write_cut(
            self.buffer.as_mut(),
            field::TYPE2_HOME_ADDRESS.start,
            &v.octets(),
        );
    }
}

/// The type-specific part of a Routing header.
///
/// Serialised externally tagged: `{"type2": {"reserved": 0, "home_address": "..."}}`
/// or `{"other": {"routing_type": 0, "data": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingData {
    /// Mobile IPv6 type 2 (RFC 6275 6.4).
    Type2 {
        #[serde(default)]
        reserved: u32,
        home_address: Ipv6Addr,
    },
    /// Any other Routing Type; `data` is every octet after the 4-octet fixed part.
    Other {
        routing_type: u8,
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
}

/// A Routing header, less its Next Header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct RoutingRepr {
    /// Hdr Ext Len. `None`: computed (2 for type 2; the data rounded up to
    /// 8 octets otherwise). `Some(l)`: the header occupies `(l + 1) * 8`
    /// octets, the data cut short or zero-filled to fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr_ext_len: Option<u8>,
    pub segments_left: u8,
    pub data: RoutingData,
}

impl RoutingRepr {
    /// A well-formed type 2 Routing header carrying `home_address`.
    pub fn type2(home_address: Ipv6Addr) -> RoutingRepr {
        RoutingRepr {
            hdr_ext_len: None,
            segments_left: 1,
            data: RoutingData::Type2 {
                reserved: 0,
                home_address,
            },
        }
    }

    /// Decode the header at the start of `data`; returns it with its Next
    /// Header and the octets it consumed (`(Hdr Ext Len + 1) * 8`, or all of
    /// `data` when the header is cut short, which is reported as truncated
    /// and decoded as far as it goes, zero-filling a type 2 address).
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(Self, u8, usize)> {
        if data.len() < field::FIXED_END {
            diag.truncated(0, "Routing header", 8, data.len());
            return None;
        }
        let h = RoutingHeader::new_unchecked(data);
        let stated = h.header_len();
        let end = if data.len() < stated {
            diag.truncated(0, "Routing header", stated, data.len());
            data.len()
        } else {
            stated
        };
        let h = RoutingHeader::new_unchecked(&data[..end]);
        let routing_type = h.routing_type();
        let segments_left = h.segments_left();
        let body = if routing_type == TYPE2 {
            if h.hdr_ext_len() != TYPE2_HDR_EXT_LEN {
                diag.report(
                    field::HDR_EXT_LEN,
                    rules::RH2_LENGTH,
                    format!(
                        "type 2 Routing header Hdr Ext Len is {}, expected {TYPE2_HDR_EXT_LEN}",
                        h.hdr_ext_len()
                    ),
                );
            }
            if segments_left != 1 {
                diag.report(
                    field::SEGMENTS_LEFT,
                    rules::RH2_SEGMENTS_LEFT,
                    format!("type 2 Routing header Segments Left is {segments_left}, expected 1"),
                );
            }
            if end > TYPE2_LEN && data[TYPE2_LEN..end].iter().any(|&b| b != 0) {
                // Octets past the home address that are not zero cannot be
                // re-emitted from the type 2 fields: keep them generically.
                RoutingData::Other {
                    routing_type,
                    data: data[field::DATA][..end - field::FIXED_END].to_vec(),
                }
            } else {
                RoutingData::Type2 {
                    reserved: h.type2_reserved(),
                    home_address: h.type2_home_address(),
                }
            }
        } else {
            RoutingData::Other {
                routing_type,
                data: data[field::DATA][..end - field::FIXED_END].to_vec(),
            }
        };
        let mut repr = RoutingRepr {
            hdr_ext_len: None,
            segments_left,
            data: body,
        };
        if repr.computed_hdr_ext_len() != h.hdr_ext_len() {
            repr.hdr_ext_len = Some(h.hdr_ext_len());
        }
        Some((repr, h.next_header(), end))
    }

    /// The Routing Type.
    pub fn routing_type(&self) -> u8 {
        match &self.data {
            RoutingData::Type2 { .. } => TYPE2,
            RoutingData::Other { routing_type, .. } => *routing_type,
        }
    }

    /// The home address of a type 2 header: the final destination that
    /// upper-layer checksums use.
    pub fn type2_address(&self) -> Option<Ipv6Addr> {
        match &self.data {
            RoutingData::Type2 { home_address, .. } => Some(*home_address),
            RoutingData::Other { .. } => None,
        }
    }

    /// The Hdr Ext Len that fits the data, saturated at 255.
    pub fn computed_hdr_ext_len(&self) -> u8 {
        match &self.data {
            RoutingData::Type2 { .. } => TYPE2_HDR_EXT_LEN,
            RoutingData::Other { data, .. } => {
                let units = (field::FIXED_END + data.len()).div_ceil(8);
                u8::try_from(units.saturating_sub(1)).unwrap_or(u8::MAX)
            }
        }
    }

    /// The Hdr Ext Len emitted: the override or the computed value.
    pub fn effective_hdr_ext_len(&self) -> u8 {
        self.hdr_ext_len
            .unwrap_or_else(|| self.computed_hdr_ext_len())
    }

    /// Octets [`emit`](Self::emit) writes: `(Hdr Ext Len + 1) * 8`.
    pub fn buffer_len(&self) -> usize {
        (usize::from(self.effective_hdr_ext_len()) + 1) * 8
    }

    /// Write the header into the first [`buffer_len`](Self::buffer_len)
    /// octets of `buf` (fewer if `buf` is shorter; octets past the header
    /// are left untouched): data beyond the stated length is cut, space
    /// left after it is zero-filled.
    pub fn emit(&self, buf: &mut [u8], next_header: u8) {
        let len = self.buffer_len();
        let mut out = Vec::with_capacity(len.max(TYPE2_LEN));
        out.extend_from_slice(&[
            next_header,
            self.effective_hdr_ext_len(),
            self.routing_type(),
            self.segments_left,
        ]);
        match &self.data {
            RoutingData::Type2 {
                reserved,
                home_address,
            } => {
                out.extend_from_slice(&reserved.to_be_bytes());
                out.extend_from_slice(&home_address.octets());
            }
            RoutingData::Other { data, .. } => {
                out.extend_from_slice(&data[..data.len().min(len - field::FIXED_END)]);
            }
        }
        out.resize(len, 0);
        let n = buf.len().min(len);
        buf[..n].copy_from_slice(&out[..n]);
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use crate::ipv6::strategy::arb_ipv6_addr;
    use proptest::prelude::*;

    /// A header that parses back to itself: computed Hdr Ext Len, `Other`
    /// data filling whole 8-octet units, not type 2 under `Other`.
    pub fn arb_routing_repr() -> impl Strategy<Value = RoutingRepr> {
        let type2 = (any::<u32>(), arb_ipv6_addr()).prop_map(|(reserved, home_address)| {
            RoutingData::Type2 {
                reserved,
                home_address,
            }
        });
        let other = (
            any::<u8>().prop_filter("not type 2", |t| *t != TYPE2),
            0usize..4,
        )
            .prop_flat_map(|(routing_type, units)| {
                proptest::collection::vec(any::<u8>(), units * 8 + 4)
                    .prop_map(move |data| RoutingData::Other { routing_type, data })
            });
        (
            prop_oneof![Just(1u8), any::<u8>()],
            prop_oneof![2 => type2, 1 => other],
        )
            .prop_map(|(segments_left, data)| RoutingRepr {
                hdr_ext_len: None,
                segments_left,
                data,
            })
    }

    /// Any header, with an arbitrary Hdr Ext Len override and data length.
    pub fn arb_routing_repr_crafted() -> impl Strategy<Value = RoutingRepr> {
        let other = (
            any::<u8>().prop_filter("not type 2", |t| *t != TYPE2),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(routing_type, data)| RoutingData::Other { routing_type, data });
        (
            proptest::option::of(0u8..8),
            arb_routing_repr(),
            proptest::option::of(other),
        )
            .prop_map(|(hdr_ext_len, mut r, other)| {
                r.hdr_ext_len = hdr_ext_len;
                if let Some(o) = other {
                    r.data = o;
                }
                r
            })
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::Finding;
    use proptest::prelude::*;

    fn rcoa() -> Ipv6Addr {
        "2001:db8:ffff::1:2".parse().unwrap()
    }

    fn rh2_bytes() -> Vec<u8> {
        let mut b = vec![135, 2, 2, 1, 0, 0, 0, 0];
        b.extend_from_slice(&rcoa().octets());
        b
    }

    fn parse(data: &[u8]) -> (Option<(RoutingRepr, u8, usize)>, Vec<Finding>) {
        let mut out = Vec::new();
        let r = RoutingRepr::parse(data, &mut Diag::new(&mut out));
        (r, out)
    }

    fn emit(r: &RoutingRepr, nh: u8) -> Vec<u8> {
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit(&mut buf, nh);
        buf
    }

    fn found(out: &[Finding]) -> Vec<(&'static str, usize)> {
        out.iter().map(|f| (f.rule, f.offset)).collect()
    }

    #[test]
    fn type2_known_answer() {
        let r = RoutingRepr::type2(rcoa());
        assert_eq!(r.buffer_len(), TYPE2_LEN);
        assert_eq!(emit(&r, 135), rh2_bytes());
        let (p, out) = parse(&rh2_bytes());
        assert_eq!(p, Some((r.clone(), 135, 24)));
        assert!(out.is_empty());
        assert_eq!(r.routing_type(), 2);
        assert_eq!(r.type2_address(), Some(rcoa()));
    }

    #[test]
    fn view_accessors() {
        let mut b = rh2_bytes();
        let mut h = RoutingHeader::new_checked(&mut b[..]).unwrap();
        assert_eq!(
            (
                h.next_header(),
                h.hdr_ext_len(),
                h.routing_type(),
                h.segments_left()
            ),
            (135, 2, 2, 1)
        );
        assert_eq!(h.type2_home_address(), rcoa());
        assert_eq!(h.data().len(), 20);
        h.set_type2_reserved(0xdead_beef);
        h.set_segments_left(0);
        h.set_routing_type(0);
        h.set_next_header(59);
        h.set_type2_home_address(Ipv6Addr::LOCALHOST);
        h.data_mut()[0] = 0xaa;
        assert_eq!(h.type2_reserved(), 0xaaad_beef);
        assert_eq!(&b[..5], &[59, 2, 0, 0, 0xaa]);
        assert_eq!(b[23], 1);
        // Hdr Ext Len 0: the type 2 getters zero-fill instead of panicking.
        let mut b = rh2_bytes();
        b[1] = 0;
        let mut h = RoutingHeader::new_checked(&mut b[..8]).unwrap();
        assert_eq!(h.type2_home_address(), Ipv6Addr::UNSPECIFIED);
        h.set_type2_home_address(rcoa());
        h.set_type2_reserved(9);
        assert_eq!(h.type2_reserved(), 9);
        assert_eq!(
            RoutingHeader::new_checked(&rh2_bytes()[..20]),
            Err(Error::Truncated)
        );
        assert_eq!(
            RoutingHeader::new_checked(&rh2_bytes()[..3]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn rh2_wrong_segments_left() {
        let mut b = rh2_bytes();
        b[3] = 0;
        let (p, out) = parse(&b);
        let (r, _, _) = p.unwrap();
        assert_eq!(r.segments_left, 0);
        assert_eq!(found(&out), vec![(rules::RH2_SEGMENTS_LEFT, 3)]);
        assert_eq!(emit(&r, 135), b);
    }

    #[test]
    fn rh2_wrong_length() {
        // Hdr Ext Len 3: 32 octets, the last 8 zero.
        let mut b = rh2_bytes();
        b[1] = 3;
        b.extend_from_slice(&[0; 8]);
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        let (r, _, n) = RoutingRepr::parse(&b, &mut d.at(40)).unwrap();
        assert_eq!(n, 32);
        assert_eq!(r.hdr_ext_len, Some(3));
        assert_eq!(r.type2_address(), Some(rcoa()));
        assert_eq!(found(&out), vec![(rules::RH2_LENGTH, 41)]);
        assert!(out[0].message.contains("is 3, expected 2"));
        assert_eq!(emit(&r, 135), b);

        // Hdr Ext Len 1: 16 octets, the address cut to its first 8.
        let mut b = rh2_bytes();
        b[1] = 1;
        b.truncate(16);
        let (p, out) = parse(&b);
        let (r, _, n) = p.unwrap();
        assert_eq!(n, 16);
        assert_eq!(r.type2_address(), Some("2001:db8:ffff::".parse().unwrap()));
        assert_eq!(found(&out), vec![(rules::RH2_LENGTH, 1)]);
        assert_eq!(emit(&r, 135), b);
    }

    #[test]
    fn truncated() {
        let b = &rh2_bytes()[..12];
        let (p, out) = parse(b);
        let (r, nh, n) = p.unwrap();
        assert_eq!((nh, n), (135, 12));
        assert_eq!(r.hdr_ext_len, None);
        assert_eq!(r.type2_address(), Some("2001:db8::".parse().unwrap()));
        assert_eq!(found(&out), vec![(rules::TRUNCATED, 0)]);

        // An Other header cut short: its data is what is there.
        let b = [59, 2, 0, 0, 1, 2, 3, 4, 5, 6];
        let (p, out) = parse(&b);
        let (r, _, n) = p.unwrap();
        assert_eq!(n, 10);
        assert_eq!(r.hdr_ext_len, Some(2));
        assert_eq!(
            r.data,
            RoutingData::Other {
                routing_type: 0,
                data: vec![1, 2, 3, 4, 5, 6]
            }
        );
        assert_eq!(found(&out), vec![(rules::TRUNCATED, 0)]);

        let (p, out) = parse(&[59, 0, 2]);
        assert!(p.is_none());
        assert_eq!(found(&out), vec![(rules::TRUNCATED, 0)]);
    }

    #[test]
    fn other_routing_type() {
        // A type 0 header (deprecated, RFC 5095) with one address.
        let mut b = vec![58, 2, 0, 1, 0, 0, 0, 0];
        b.extend_from_slice(&rcoa().octets());
        let (p, out) = parse(&b);
        let (r, _, _) = p.unwrap();
        assert!(out.is_empty());
        assert_eq!(r.routing_type(), 0);
        assert_eq!(r.type2_address(), None);
        assert_eq!(r.hdr_ext_len, None);
        assert_eq!(emit(&r, 58), b);

        // Data not filling whole units is zero-filled on emit.
        let r = RoutingRepr {
            hdr_ext_len: None,
            segments_left: 0,
            data: RoutingData::Other {
                routing_type: 4,
                data: vec![9],
            },
        };
        assert_eq!(emit(&r, 59), [59, 0, 4, 0, 9, 0, 0, 0]);
    }

    #[test]
    fn emit_never_panics_on_odd_reprs() {
        let r = RoutingRepr {
            hdr_ext_len: None,
            segments_left: 0,
            data: RoutingData::Other {
                routing_type: 253,
                data: vec![1; 5000],
            },
        };
        assert_eq!(r.buffer_len(), 2048);
        assert_eq!(emit(&r, 0)[..2], [0, 255]);
        r.emit(&mut [0u8; 2], 0);
        let r = RoutingRepr {
            hdr_ext_len: Some(0),
            ..RoutingRepr::type2(rcoa())
        };
        assert_eq!(emit(&r, 0), [0, 0, 2, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn serde_shape() {
        let r = RoutingRepr::type2(rcoa());
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(
            j,
            r#"{"segments_left":1,"data":{"type2":{"reserved":0,"home_address":"2001:db8:ffff::1:2"}}}"#
        );
        assert_eq!(serde_json::from_str::<RoutingRepr>(&j).unwrap(), r);
        let o = RoutingRepr {
            hdr_ext_len: Some(0),
            segments_left: 0,
            data: RoutingData::Other {
                routing_type: 0,
                data: vec![1, 2],
            },
        };
        let j = serde_json::to_string(&o).unwrap();
        assert_eq!(
            j,
            r#"{"hdr_ext_len":0,"segments_left":0,"data":{"other":{"routing_type":0,"data":"0102"}}}"#
        );
        assert_eq!(serde_json::from_str::<RoutingRepr>(&j).unwrap(), o);
    }

    proptest! {
        #[test]
        fn round_trip(r in arb_routing_repr(), nh in any::<u8>()) {
            let b = emit(&r, nh);
            let (p, _) = parse(&b);
            let (q, qnh, n) = p.unwrap();
            prop_assert_eq!(&q, &r);
            prop_assert_eq!((qnh, n), (nh, b.len()));
            prop_assert_eq!(emit(&q, qnh), b);
        }

        #[test]
        fn reemit_crafted(r in arb_routing_repr_crafted(), nh in any::<u8>()) {
            let b = emit(&r, nh);
            prop_assert_eq!(b.len(), r.buffer_len());
            let (p, _) = parse(&b);
            let (q, _, n) = p.unwrap();
            prop_assert_eq!(n, b.len());
            prop_assert_eq!(emit(&q, nh), b);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let (p, _) = parse(&data);
            if let Some((_, _, n)) = p {
                prop_assert!(n <= data.len());
            }
        }
    }
}
