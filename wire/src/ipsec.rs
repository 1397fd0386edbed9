//! IPsec framing: the Encapsulating Security Payload (Next Header 50,
//! RFC 4303) and the Authentication Header (51, RFC 4302). No cryptography
//! here: the ESP payload and the AH ICV are opaque octets.
//!
//! ESP:
//! ```text
//! octets 0-3   SPI
//! octets 4-7   Sequence Number
//! octets 8..   IV, (encrypted) payload, padding, Pad Length, Next Header, ICV
//! ```
//!
//! AH:
//! ```text
//! octet 0      Next Header
//! octet 1      Payload Len (AH length in 4-octet units, minus 2)
//! octets 2-3   Reserved
//! octets 4-7   SPI
//! octets 8-11  Sequence Number
//! octets 12..  ICV (the AH is a multiple of 8 octets for IPv6)
//! ```

use crate::finding::Diag;
use crate::rules;
use crate::{Error, Result};

/// Length of the ESP header (SPI and Sequence Number).
pub const ESP_HEADER_LEN: usize = 8;
/// Length of the fixed part of the AH (before the ICV).
pub const AH_FIXED_LEN: usize = 12;

mod field {
    use core::ops::{Range, RangeFrom};

    pub const ESP_SPI: Range<usize> = 0..4;
    pub const ESP_SEQ: Range<usize> = 4..8;
    pub const ESP_DATA: RangeFrom<usize> = 8..;

    pub const AH_NEXT_HEADER: usize = 0;
    pub const AH_PAYLOAD_LEN: usize = 1;
    pub const AH_RESERVED: Range<usize> = 2..4;
    pub const AH_SPI: Range<usize> = 4..8;
    pub const AH_SEQ: Range<usize> = 8..12;
    pub const AH_ICV: usize = 12;
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
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

/// A checked view of an ESP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EspPacket<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> EspPacket<T> {
        EspPacket { buffer }
    }

    /// Wrap a buffer, checking that it holds SPI and Sequence Number.
    pub fn new_checked(buffer: T) -> Result<EspPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// `Err(Error::Truncated)` when the buffer is shorter than 8 octets.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < ESP_HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Security Parameters Index.
    pub fn spi(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::ESP_SPI])
    }

    /// Sequence Number.
    pub fn seq(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::ESP_SEQ])
    }

    /// Everything after the Sequence Number.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::ESP_DATA]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EspPacket<T> {
    pub fn set_spi(&mut self, v: u32) {
        self.buffer.as_mut()[field::ESP_SPI].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_seq(&mut self, v: u32) {
        self.buffer.as_mut()[field::ESP_SEQ].copy_from_slice(&v.to_be_bytes());
    }

    /// Everything after the Sequence Number, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::ESP_DATA]
    }
}

/// An ESP packet: it runs to the end of the IP packet, so it has no length
/// field and no visible Next Header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct EspRepr {
    pub spi: u32,
    pub seq: u32,
    /// Everything after the Sequence Number: IV, ciphertext, padding, Pad
    /// Length, Next Header and ICV, opaque.
    #[serde(with = "crate::hex")]
    pub data: Vec<u8>,
}

impl EspRepr {
    /// Decode an ESP packet: all of `data`. Fewer than 8 octets: an
    /// ESP_LENGTH finding and `None`.
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<EspRepr> {
        let Ok(p) = EspPacket::new_checked(data) else {
            diag.report(
                0,
                rules::ESP_LENGTH,
                format!(
                    "ESP is {} octets, shorter than SPI and Sequence Number ({ESP_HEADER_LEN})",
                    data.len()
                ),
            );
            return None;
        };
        Some(EspRepr {
            spi: p.spi(),
            seq: p.seq(),
            data: p.data().to_vec(),
        })
    }

    /// Octets [`emit`](Self::emit) writes: `8 + data.len()`.
    pub fn buffer_len(&self) -> usize {
        ESP_HEADER_LEN + self.data.len()
    }

    /// Write the packet into the first [`buffer_len`](Self::buffer_len)
    /// octets of `buf` (fewer if `buf` is shorter).
    pub fn emit(&self, buf: &mut [u8]) {
        let mut head = [0u8; ESP_HEADER_LEN];
        let mut p = EspPacket::new_unchecked(&mut head[..]);
        p.set_spi(self.spi);
        p.set_seq(self.seq);
        let n = buf.len().min(ESP_HEADER_LEN);
        buf[..n].copy_from_slice(&head[..n]);
        if let Some(rest) = buf.get_mut(ESP_HEADER_LEN..) {
            let k = rest.len().min(self.data.len());
            rest[..k].copy_from_slice(&self.data[..k]);
        }
    }
}

/// A checked view of an Authentication Header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AhHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AhHeader<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> AhHeader<T> {
        AhHeader { buffer }
    }

    /// Wrap a buffer, checking that it holds the 12-octet fixed part and
    /// the length Payload Len states.
    pub fn new_checked(buffer: T) -> Result<AhHeader<T>> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// `Err(Error::Truncated)` when the buffer is shorter than 12 octets or
    /// than `(Payload Len + 2) * 4`.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < AH_FIXED_LEN || len < self.header_len() {
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
        self.buffer.as_ref()[field::AH_NEXT_HEADER]
    }

    /// Payload Len (AH length in 4-octet units, minus 2).
    pub fn payload_len(&self) -> u8 {
        self.buffer.as_ref()[field::AH_PAYLOAD_LEN]
    }

    /// The AH's length in octets, `(Payload Len + 2) * 4`.
    pub fn header_len(&self) -> usize {
        (usize::from(self.payload_len()) + 2) * 4
    }

    /// Reserved.
    pub fn reserved(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::AH_RESERVED])
    }

    /// Security Parameters Index.
    pub fn spi(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::AH_SPI])
    }

    /// Sequence Number.
    pub fn seq(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::AH_SEQ])
    }

    /// Integrity Check Value: the octets after the fixed part, up to the
    /// AH's stated end (empty when Payload Len is below 1).
    pub fn icv(&self) -> &[u8] {
        let end = self.header_len().max(field::AH_ICV);
        &self.buffer.as_ref()[field::AH_ICV..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AhHeader<T> {
    pub fn set_next_header(&mut self, v: u8) {
        self.buffer.as_mut()[field::AH_NEXT_HEADER] = v;
    }

    pub fn set_payload_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::AH_PAYLOAD_LEN] = v;
    }

    pub fn set_reserved(&mut self, v: u16) {
        self.buffer.as_mut()[field::AH_RESERVED].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_spi(&mut self, v: u32) {
        self.buffer.as_mut()[field::AH_SPI].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_seq(&mut self, v: u32) {
        self.buffer.as_mut()[field::AH_SEQ].copy_from_slice(&v.to_be_bytes());
    }

    /// The ICV, writable.
    pub fn icv_mut(&mut self) -> &mut [u8] {
        let end = self.header_len().max(field::AH_ICV);
        &mut self.buffer.as_mut()[field::AH_ICV..end]
    }
}

/// An Authentication Header, less its Next Header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct AhRepr {
    /// Payload Len (AH length in 4-octet units, minus 2). `None`: computed
    /// from the ICV. `Some(l)`: the AH occupies `(l + 2) * 4` octets, the
    /// ICV (or even the fixed part) cut short or zero-filled to fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_len: Option<u8>,
    #[serde(default)]
    pub reserved: u16,
    pub spi: u32,
    pub seq: u32,
    #[serde(with = "crate::hex")]
    pub icv: Vec<u8>,
}

impl AhRepr {
    /// Decode the AH at the start of `data`; returns it with its Next
    /// Header and the octets consumed (`(Payload Len + 2) * 4`, or all of
    /// `data` when the AH runs past it).
    ///
    /// Findings (AH_LENGTH): an AH shorter than its 12-octet fixed part,
    /// one running past `data`, one whose length is not a multiple of 8
    /// (RFC 4302 2.2, for IPv6). Too few octets for the fixed part (or for
    /// what Payload Len states, if less): truncated, `None`.
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(Self, u8, usize)> {
        let Some(&pl) = data.get(field::AH_PAYLOAD_LEN) else {
            diag.truncated(0, "Authentication Header", AH_FIXED_LEN, data.len());
            return None;
        };
        let stated = (usize::from(pl) + 2) * 4;
        let need = stated.min(AH_FIXED_LEN);
        if data.len() < need {
            diag.truncated(0, "Authentication Header", need, data.len());
            return None;
        }
        if stated < AH_FIXED_LEN {
            diag.report(
                field::AH_PAYLOAD_LEN,
                rules::AH_LENGTH,
                format!(
                    "AH Payload Len {pl} makes the AH {stated} octets, \
                     shorter than its {AH_FIXED_LEN}-octet fixed part"
                ),
            );
        }
        if stated % 8 != 0 {
            diag.report(
                field::AH_PAYLOAD_LEN,
                rules::AH_LENGTH,
                format!(
                    "AH Payload Len {pl} makes the AH {stated} octets, \
                     expected a multiple of 8 for IPv6"
                ),
            );
        }
        let end = if data.len() < stated {
            diag.report(
                field::AH_PAYLOAD_LEN,
                rules::AH_LENGTH,
                format!(
                    "AH Payload Len {pl} makes the AH {stated} octets, only {} present",
                    data.len()
                ),
            );
            data.len()
        } else {
            stated
        };
        let b = &data[..end];
        let mut repr = AhRepr {
            payload_len: None,
            reserved: u16::from_be_bytes(read_padded(b, field::AH_RESERVED.start)),
            spi: u32::from_be_bytes(read_padded(b, field::AH_SPI.start)),
            seq: u32::from_be_bytes(read_padded(b, field::AH_SEQ.start)),
            icv: b.get(field::AH_ICV..).unwrap_or(&[]).to_vec(),
        };
        if repr.computed_payload_len() != pl {
            repr.payload_len = Some(pl);
        }
        Some((repr, data[field::AH_NEXT_HEADER], end))
    }

    /// The Payload Len that fits the ICV (rounded up to 4 octets), saturated at 255.
    pub fn computed_payload_len(&self) -> u8 {
        let words = (AH_FIXED_LEN + self.icv.len()).div_ceil(4);
        u8::try_from(words - 2).unwrap_or(u8::MAX)
    }

    /// The Payload Len emitted: the override or the computed value.
    pub fn effective_payload_len(&self) -> u8 {
        self.payload_len
            .unwrap_or_else(|| self.computed_payload_len())
    }

    /// Octets [`emit`](Self::emit) writes: `(Payload Len + 2) * 4`.
    pub fn buffer_len(&self) -> usize {
        (usize::from(self.effective_payload_len()) + 2) * 4
    }

    /// Write the AH into the first [`buffer_len`](Self::buffer_len) octets
    /// of `buf` (fewer if `buf` is shorter; octets past it are left
    /// untouched): what lies beyond the stated length is cut, space left
    /// after the ICV is zero-filled.
    pub fn emit(&self, buf: &mut [u8], next_header: u8) {
        let len = self.buffer_len();
        let mut out = Vec::with_capacity(len.max(AH_FIXED_LEN));
        out.push(next_header);
        out.push(self.effective_payload_len());
        out.extend_from_slice(&self.reserved.to_be_bytes());
        out.extend_from_slice(&self.spi.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.icv[..self.icv.len().min(len.saturating_sub(AH_FIXED_LEN))]);
        out.resize(len, 0);
        let n = buf.len().min(len);
        buf[..n].copy_from_slice(&out[..n]);
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    pub fn arb_esp_repr() -> impl Strategy<Value = EspRepr> {
        (
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(spi, seq, data)| EspRepr { spi, seq, data })
    }

    /// An AH that parses back to itself: computed Payload Len, an ICV of
    /// whole 4-octet words (mostly the 12 or 16 octets real transforms use).
    pub fn arb_ah_repr() -> impl Strategy<Value = AhRepr> {
        (
            prop_oneof![Just(0u16), any::<u16>()],
            any::<u32>(),
            any::<u32>(),
            prop_oneof![Just(12usize), Just(16), (0usize..10).prop_map(|w| w * 4)],
        )
            .prop_flat_map(|(reserved, spi, seq, icv_len)| {
                proptest::collection::vec(any::<u8>(), icv_len).prop_map(move |icv| AhRepr {
                    payload_len: None,
                    reserved,
                    spi,
                    seq,
                    icv,
                })
            })
    }

    /// Any AH, with an arbitrary Payload Len override and ICV length.
    pub fn arb_ah_repr_crafted() -> impl Strategy<Value = AhRepr> {
        (
            proptest::option::of(0u8..16),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(payload_len, reserved, spi, seq, icv)| AhRepr {
                payload_len,
                reserved,
                spi,
                seq,
                icv,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::Finding;
    use proptest::prelude::*;

    fn found(out: &[Finding]) -> Vec<(&'static str, usize)> {
        out.iter().map(|f| (f.rule, f.offset)).collect()
    }

    fn parse_ah(data: &[u8]) -> (Option<(AhRepr, u8, usize)>, Vec<Finding>) {
        let mut out = Vec::new();
        let r = AhRepr::parse(data, &mut Diag::new(&mut out));
        (r, out)
    }

    fn emit_ah(r: &AhRepr, nh: u8) -> Vec<u8> {
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit(&mut buf, nh);
        buf
    }

    // AH with HMAC-SHA-256-128 (16-octet ICV): 28 octets, not a multiple of
    // 8, so a 4-octet pad brings it to 32 (Payload Len 6).
    fn ah_bytes() -> Vec<u8> {
        let mut b = vec![135, 6, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 7];
        b.extend((1..=16).collect::<Vec<u8>>());
        b.extend([0, 0, 0, 0]);
        b
    }

    fn ah_repr() -> AhRepr {
        let mut icv: Vec<u8> = (1..=16).collect();
        icv.extend([0, 0, 0, 0]);
        AhRepr {
            payload_len: None,
            reserved: 0,
            spi: 0x1001,
            seq: 7,
            icv,
        }
    }

    #[test]
    fn esp_known_answer() {
        let b = [0, 0, 0x10, 0x02, 0, 0, 0, 1, 0xaa, 0xbb];
        let mut out = Vec::new();
        let r = EspRepr::parse(&b, &mut Diag::new(&mut out)).unwrap();
        assert_eq!(
            r,
            EspRepr {
                spi: 0x1002,
                seq: 1,
                data: vec![0xaa, 0xbb]
            }
        );
        assert!(out.is_empty());
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit(&mut buf);
        assert_eq!(buf, b);
        r.emit(&mut [0u8; 3]);
    }

    #[test]
    fn esp_too_short() {
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        assert!(EspRepr::parse(&[0, 0, 0x10, 0x02, 0, 0, 0], &mut d.at(40)).is_none());
        assert_eq!(found(&out), vec![(rules::ESP_LENGTH, 40)]);
        assert!(out[0].message.contains("7 octets"));
    }

    #[test]
    fn esp_view() {
        let mut b = [0u8; 10];
        let mut p = EspPacket::new_checked(&mut b[..]).unwrap();
        p.set_spi(0x0102_0304);
        p.set_seq(5);
        p.data_mut()[1] = 9;
        assert_eq!(
            (p.spi(), p.seq(), p.data()),
            (0x0102_0304, 5, &[0u8, 9][..])
        );
        assert_eq!(EspPacket::new_checked(&[0u8; 7][..]), Err(Error::Truncated));
        assert_eq!(EspPacket::new_checked(&b[..]).unwrap().into_inner()[9], 9);
    }

    #[test]
    fn ah_known_answer() {
        let r = ah_repr();
        assert_eq!(r.buffer_len(), 32);
        assert_eq!(emit_ah(&r, 135), ah_bytes());
        let (p, out) = parse_ah(&ah_bytes());
        assert_eq!(p, Some((r, 135, 32)));
        assert!(out.is_empty());
    }

    #[test]
    fn ah_view() {
        let mut b = ah_bytes();
        let mut h = AhHeader::new_checked(&mut b[..]).unwrap();
        assert_eq!(
            (
                h.next_header(),
                h.payload_len(),
                h.header_len(),
                h.spi(),
                h.seq()
            ),
            (135, 6, 32, 0x1001, 7)
        );
        assert_eq!(h.icv().len(), 20);
        h.set_reserved(0xffff);
        h.set_spi(1);
        h.set_seq(2);
        h.set_next_header(59);
        h.icv_mut()[0] = 0xee;
        assert_eq!(h.reserved(), 0xffff);
        h.set_payload_len(0);
        assert!(h.icv().is_empty());
        assert_eq!(&b[..13], &[59, 0, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2, 0xee]);
        assert_eq!(
            AhHeader::new_checked(&ah_bytes()[..31]),
            Err(Error::Truncated)
        );
        assert_eq!(
            AhHeader::new_checked(&[59u8, 0, 0, 0, 0, 0, 0, 0][..]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn ah_not_multiple_of_8() {
        // A 12-octet ICV (HMAC-SHA1-96) without padding: 24 octets is fine;
        // a 16-octet ICV without padding is 28: finding.
        let mut r = ah_repr();
        r.icv.truncate(12);
        let (_, out) = parse_ah(&emit_ah(&r, 59));
        assert!(out.is_empty());
        r.icv = (1..=16).collect();
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        let b = emit_ah(&r, 59);
        let (q, _, n) = AhRepr::parse(&b, &mut d.at(40)).unwrap();
        assert_eq!((n, q), (28, r));
        assert_eq!(found(&out), vec![(rules::AH_LENGTH, 41)]);
        assert!(out[0].message.contains("multiple of 8"));
    }

    #[test]
    fn ah_too_small() {
        // Payload Len 0: 8 octets, no Sequence Number.
        let b = [59, 0, 0, 0, 0, 0, 0x10, 0x01];
        let (p, out) = parse_ah(&b);
        let (r, _, n) = p.unwrap();
        assert_eq!(n, 8);
        assert_eq!(
            r,
            AhRepr {
                payload_len: Some(0),
                reserved: 0,
                spi: 0x1001,
                seq: 0,
                icv: vec![]
            }
        );
        assert_eq!(found(&out), vec![(rules::AH_LENGTH, 1)]);
        assert!(out[0]
            .message
            .contains("shorter than its 12-octet fixed part"));
        assert_eq!(emit_ah(&r, 59), b);
    }

    #[test]
    fn ah_past_the_end() {
        let b = &ah_bytes()[..20];
        let (p, out) = parse_ah(b);
        let (r, _, n) = p.unwrap();
        assert_eq!(n, 20);
        assert_eq!(r.payload_len, Some(6));
        assert_eq!(r.icv, (1..=8).collect::<Vec<u8>>());
        assert_eq!(found(&out), vec![(rules::AH_LENGTH, 1)]);
        assert!(out[0].message.contains("only 20 present"));
    }

    #[test]
    fn ah_truncated() {
        for b in [&ah_bytes()[..11], &ah_bytes()[..1], &[][..]] {
            let (p, out) = parse_ah(b);
            assert!(p.is_none());
            assert_eq!(found(&out), vec![(rules::TRUNCATED, 0)]);
        }
        // Payload Len 0 states 8 octets: 7 are not enough.
        let (p, out) = parse_ah(&[59, 0, 0, 0, 0, 0, 0]);
        assert!(p.is_none());
        assert_eq!(found(&out), vec![(rules::TRUNCATED, 0)]);
    }

    #[test]
    fn ah_emit_never_panics() {
        let r = AhRepr {
            icv: vec![1; 5000],
            ..ah_repr()
        };
        assert_eq!(r.computed_payload_len(), 255);
        assert_eq!(r.buffer_len(), 1028);
        assert_eq!(emit_ah(&r, 0)[1], 255);
        r.emit(&mut [0u8; 3], 0);
        let r = AhRepr {
            payload_len: Some(0),
            ..ah_repr()
        };
        assert_eq!(emit_ah(&r, 0), [0, 0, 0, 0, 0, 0, 0x10, 0x01]);
    }

    #[test]
    fn serde_shape() {
        let r = AhRepr {
            icv: vec![1, 2, 3, 4],
            ..ah_repr()
        };
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(j, r#"{"reserved":0,"spi":4097,"seq":7,"icv":"01020304"}"#);
        assert_eq!(serde_json::from_str::<AhRepr>(&j).unwrap(), r);
        let e = EspRepr {
            spi: 1,
            seq: 2,
            data: vec![3],
        };
        let j = serde_json::to_string(&e).unwrap();
        assert_eq!(j, r#"{"spi":1,"seq":2,"data":"03"}"#);
        assert_eq!(serde_json::from_str::<EspRepr>(&j).unwrap(), e);
    }

    proptest! {
        #[test]
        fn esp_round_trip(r in arb_esp_repr()) {
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut buf);
            let mut out = Vec::new();
            let p = EspRepr::parse(&buf, &mut Diag::new(&mut out)).unwrap();
            prop_assert_eq!(&p, &r);
            prop_assert!(out.is_empty());
            let mut again = vec![0u8; p.buffer_len()];
            p.emit(&mut again);
            prop_assert_eq!(again, buf);
        }

        #[test]
        fn ah_round_trip(r in arb_ah_repr(), nh in any::<u8>()) {
            let b = emit_ah(&r, nh);
            let (p, _) = parse_ah(&b);
            let (q, qnh, n) = p.unwrap();
            prop_assert_eq!(&q, &r);
            prop_assert_eq!((qnh, n), (nh, b.len()));
            prop_assert_eq!(emit_ah(&q, qnh), b);
        }

        #[test]
        fn ah_reemit_crafted(r in arb_ah_repr_crafted(), nh in any::<u8>()) {
            let b = emit_ah(&r, nh);
            prop_assert_eq!(b.len(), r.buffer_len());
            let (p, _) = parse_ah(&b);
            let (q, _, n) = p.unwrap();
            prop_assert_eq!(n, b.len());
            prop_assert_eq!(emit_ah(&q, nh), b);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..48)) {
            let mut out = Vec::new();
            let _ = EspRepr::parse(&data, &mut Diag::new(&mut out));
            if let Some((_, _, n)) = AhRepr::parse(&data, &mut Diag::new(&mut out)) {
                prop_assert!(n <= data.len());
            }
        }
    }
}
