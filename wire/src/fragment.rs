//! The Fragment header (Next Header 44, RFC 8200 4.5).
//!
//! ```text
//! octet 0      Next Header
//! octet 1      Reserved
//! octets 2-3   Fragment Offset (13 bits, 8-octet units) | Res (2 bits) | M flag
//! octets 4-7   Identification
//! ```
//!
//! The codec frames fragments; it does not reassemble them.

use crate::finding::Diag;
use crate::{Error, Result};

/// Length of the Fragment header.
pub const HEADER_LEN: usize = 8;
/// The largest Fragment Offset (13 bits).
pub const OFFSET_MAX: u16 = 0x1fff;

mod field {
    use core::ops::Range;

    pub const NEXT_HEADER: usize = 0;
    pub const RESERVED: usize = 1;
    pub const OFFSET_RES_M: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..8;
}

/// A checked view of a Fragment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> FragmentHeader<T> {
        FragmentHeader { buffer }
    }

    /// Wrap a buffer, checking that it holds the 8-octet header.
    pub fn new_checked(buffer: T) -> Result<FragmentHeader<T>> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// `Err(Error::Truncated)` when the buffer is shorter than 8 octets.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::OFFSET_RES_M];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Next Header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// The Reserved octet.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::RESERVED]
    }

    /// Fragment Offset (13 bits, 8-octet units).
    pub fn offset(&self) -> u16 {
        self.word() >> 3
    }

    /// The 2-bit Res field.
    pub fn res(&self) -> u8 {
        ((self.word() >> 1) & 0x3) as u8
    }

    /// M flag (more fragments).
    pub fn m_flag(&self) -> bool {
        self.word() & 1 == 1
    }

    /// Identification.
    pub fn ident(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::IDENT];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> FragmentHeader<T> {
    fn set_word(&mut self, v: u16) {
        self.buffer.as_mut()[field::OFFSET_RES_M].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_next_header(&mut self, v: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = v;
    }

    pub fn set_reserved(&mut self, v: u8) {
        self.buffer.as_mut()[field::RESERVED] = v;
    }

    /// Set the Fragment Offset (low 13 bits of `v`).
    pub fn set_offset(&mut self, v: u16) {
        self.set_word((self.word() & 0x7) | ((v & OFFSET_MAX) << 3));
    }

    /// Set the Res field (low 2 bits of `v`).
    pub fn set_res(&mut self, v: u8) {
        self.set_word((self.word() & !0x6) | (u16::from(v & 0x3) << 1));
    }

    pub fn set_m_flag(&mut self, v: bool) {
        self.set_word((self.word() & !1) | u16::from(v));
    }

    pub fn set_ident(&mut self, v: u32) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&v.to_be_bytes());
    }
}

/// A Fragment header, less its Next Header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct FragmentRepr {
    /// The Reserved octet (0 unless crafted).
    #[serde(default)]
    pub reserved: u8,
    /// Fragment Offset in 8-octet units (13 bits; higher bits are dropped on emit).
    pub offset: u16,
    /// The 2-bit Res field (0 unless crafted; higher bits are dropped on emit).
    #[serde(default)]
    pub res: u8,
    /// More fragments follow.
    pub m_flag: bool,
    /// Identification.
    pub ident: u32,
}

impl FragmentRepr {
    /// Decode the header at the start of `data`; returns it with its Next
    /// Header and the octets consumed (8). Fewer than 8 octets: a
    /// truncation is reported and `None` returned.
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(Self, u8, usize)> {
        let Ok(h) = FragmentHeader::new_checked(data) else {
            diag.truncated(0, "Fragment header", HEADER_LEN, data.len());
            return None;
        };
        Some((
            FragmentRepr {
                reserved: h.reserved(),
                offset: h.offset(),
                res: h.res(),
                m_flag: h.m_flag(),
                ident: h.ident(),
            },
            h.next_header(),
            HEADER_LEN,
        ))
    }

    /// Octets [`emit`](Self::emit) writes: always [`HEADER_LEN`].
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the header into the first 8 octets of `buf` (fewer if `buf` is
    /// shorter; octets past the header are left untouched).
    pub fn emit(&self, buf: &mut [u8], next_header: u8) {
        let mut tmp = [0u8; HEADER_LEN];
        let mut h = FragmentHeader::new_unchecked(&mut tmp[..]);
        h.set_next_header(next_header);
        h.set_reserved(self.reserved);
        h.set_offset(self.offset);
        h.set_res(self.res);
        h.set_m_flag(self.m_flag);
        h.set_ident(self.ident);
        let n = buf.len().min(HEADER_LEN);
        buf[..n].copy_from_slice(&tmp[..n]);
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    /// Any header that survives emit (offset < 2^13, res < 4).
    pub fn arb_fragment_repr() -> impl Strategy<Value = FragmentRepr> {
        (
            prop_oneof![Just(0u8), any::<u8>()],
            0..=OFFSET_MAX,
            prop_oneof![Just(0u8), 0u8..4],
            any::<bool>(),
            any::<u32>(),
        )
            .prop_map(|(reserved, offset, res, m_flag, ident)| FragmentRepr {
                reserved,
                offset,
                res,
                m_flag,
                ident,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use proptest::prelude::*;

    // Second fragment at offset 1448 octets (181 units), more to come.
    const BYTES: [u8; 8] = [17, 0, 0x05, 0xa9, 0x12, 0x34, 0x56, 0x78];

    fn repr() -> FragmentRepr {
        FragmentRepr {
            reserved: 0,
            offset: 181,
            res: 0,
            m_flag: true,
            ident: 0x1234_5678,
        }
    }

    #[test]
    fn known_answer() {
        let mut out = Vec::new();
        let p = FragmentRepr::parse(&BYTES, &mut Diag::new(&mut out));
        assert_eq!(p, Some((repr(), 17, 8)));
        assert!(out.is_empty());
        let mut buf = [0u8; HEADER_LEN];
        repr().emit(&mut buf, 17);
        assert_eq!(buf, BYTES);
    }

    #[test]
    fn reserved_bits_are_kept() {
        let b = [59, 0xaa, 0xff, 0xfe, 0, 0, 0, 1];
        let mut out = Vec::new();
        let (r, _, _) = FragmentRepr::parse(&b, &mut Diag::new(&mut out)).unwrap();
        assert_eq!(
            (r.reserved, r.offset, r.res, r.m_flag),
            (0xaa, 0x1fff, 3, false)
        );
        let mut again = [0u8; 8];
        r.emit(&mut again, 59);
        assert_eq!(again, b);
    }

    #[test]
    fn view_setters_keep_neighbouring_bits() {
        let mut b = [0u8; 8];
        let mut h = FragmentHeader::new_checked(&mut b[..]).unwrap();
        h.set_m_flag(true);
        h.set_res(0xff);
        h.set_offset(0xffff);
        assert_eq!((h.offset(), h.res(), h.m_flag()), (0x1fff, 3, true));
        h.set_res(0);
        h.set_m_flag(false);
        assert_eq!((h.offset(), h.res(), h.m_flag()), (0x1fff, 0, false));
        assert_eq!(
            FragmentHeader::new_checked(&[0u8; 7][..]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn truncated() {
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        assert!(FragmentRepr::parse(&BYTES[..7], &mut d.at(40)).is_none());
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rule, out[0].offset), (crate::rules::TRUNCATED, 40));
    }

    #[test]
    fn emit_masks_and_never_panics() {
        let r = FragmentRepr {
            offset: u16::MAX,
            res: u8::MAX,
            ..repr()
        };
        let mut buf = [0u8; 8];
        r.emit(&mut buf, 0);
        assert_eq!(&buf[2..4], &[0xff, 0xff]);
        r.emit(&mut [0u8; 1], 0);
    }

    #[test]
    fn serde_shape() {
        let j = serde_json::to_string(&repr()).unwrap();
        assert_eq!(
            j,
            r#"{"reserved":0,"offset":181,"res":0,"m_flag":true,"ident":305419896}"#
        );
        assert_eq!(serde_json::from_str::<FragmentRepr>(&j).unwrap(), repr());
        let short = r#"{"offset":181,"m_flag":true,"ident":305419896}"#;
        assert_eq!(serde_json::from_str::<FragmentRepr>(short).unwrap(), repr());
    }

    proptest! {
        #[test]
        fn round_trip(r in arb_fragment_repr(), nh in any::<u8>()) {
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut buf, nh);
            let mut out = Vec::new();
            let (p, pnh, n) = FragmentRepr::parse(&buf, &mut Diag::new(&mut out)).unwrap();
            prop_assert_eq!(&p, &r);
            prop_assert_eq!((pnh, n), (nh, 8));
            prop_assert!(out.is_empty());
            let mut again = vec![0u8; 8];
            p.emit(&mut again, pnh);
            prop_assert_eq!(again, buf);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut out = Vec::new();
            let _ = FragmentRepr::parse(&data, &mut Diag::new(&mut out));
        }
    }
}
