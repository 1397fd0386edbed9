//! Ethernet II framing (IEEE 802.3 with an EtherType).
//!
//! ```text
//! octets 0-5    destination MAC
//! octets 6-11   source MAC
//! octets 12-13  EtherType (0x86DD for IPv6)
//! ```
//!
//! The EtherType depends on the payload, so it is not in [`EthernetRepr`]:
//! [`EthernetRepr::parse`] returns it and [`EthernetRepr::emit`] takes it.

use crate::finding::Diag;
use crate::{Error, MacAddr, Result};

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = 14;

mod field {
    use core::ops::{Range, RangeFrom};

    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const PAYLOAD: RangeFrom<usize> = 14..;
}

/// A checked view of an Ethernet II frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> EthernetFrame<T> {
        EthernetFrame { buffer }
    }

    /// Wrap a buffer, checking that it holds the 14-octet header.
    pub fn new_checked(buffer: T) -> Result<EthernetFrame<T>> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// `Err(Error::Truncated)` when the buffer is shorter than the header.
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

    /// Destination MAC address.
    pub fn dst_addr(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[field::DST])
    }

    /// Source MAC address.
    pub fn src_addr(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[field::SRC])
    }

    /// EtherType.
    pub fn ethertype(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Everything after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst_addr(&mut self, v: MacAddr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&v.0);
    }

    pub fn set_src_addr(&mut self, v: MacAddr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&v.0);
    }

    pub fn set_ethertype(&mut self, v: u16) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&v.to_be_bytes());
    }

    /// Everything after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// An Ethernet II header, less its EtherType.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct EthernetRepr {
    pub dst: MacAddr,
    pub src: MacAddr,
}

impl EthernetRepr {
    /// Decode the header at the start of `data`; returns it with the EtherType.
    ///
    /// Reports a truncation and returns `None` when fewer than 14 octets are present.
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(EthernetRepr, u16)> {
        let Ok(f) = EthernetFrame::new_checked(data) else {
            diag.truncated(0, "Ethernet header", HEADER_LEN, data.len());
            return None;
        };
        Some((
            EthernetRepr {
                dst: f.dst_addr(),
                src: f.src_addr(),
            },
            f.ethertype(),
        ))
    }

    /// Octets [`emit`](Self::emit) writes: always [`HEADER_LEN`].
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the header into the first 14 octets of `buf` (fewer if `buf`
    /// is shorter; octets past the header are left untouched).
    pub fn emit(&self, buf: &mut [u8], ethertype: u16) {
        let mut tmp = [0u8; HEADER_LEN];
        let mut f = EthernetFrame::new_unchecked(&mut tmp[..]);
        f.set_dst_addr(self.dst);
        f.set_src_addr(self.src);
        f.set_ethertype(ethertype);
        let n = buf.len().min(HEADER_LEN);
        buf[..n].copy_from_slice(&tmp[..n]);
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    pub fn arb_mac() -> impl Strategy<Value = MacAddr> {
        any::<[u8; 6]>().prop_map(MacAddr)
    }

    pub fn arb_ethernet_repr() -> impl Strategy<Value = EthernetRepr> {
        (arb_mac(), arb_mac()).prop_map(|(dst, src)| EthernetRepr { dst, src })
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::proto::ETHERTYPE_IPV6;
    use proptest::prelude::*;

    const BYTES: [u8; 14] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, // dst
        0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a, // src
        0x86, 0xdd,
    ];

    fn repr() -> EthernetRepr {
        EthernetRepr {
            dst: "33:33:00:00:00:01".parse().unwrap(),
            src: "02:00:5e:10:00:0a".parse().unwrap(),
        }
    }

    #[test]
    fn known_answer() {
        let mut out = Vec::new();
        let (r, et) = EthernetRepr::parse(&BYTES, &mut Diag::new(&mut out)).unwrap();
        assert_eq!(r, repr());
        assert_eq!(et, ETHERTYPE_IPV6);
        assert!(out.is_empty());
        let mut buf = [0u8; HEADER_LEN];
        repr().emit(&mut buf, ETHERTYPE_IPV6);
        assert_eq!(buf, BYTES);
    }

    #[test]
    fn view_accessors() {
        let mut frame = BYTES.to_vec();
        frame.extend_from_slice(&[1, 2, 3]);
        let mut f = EthernetFrame::new_checked(&mut frame[..]).unwrap();
        assert_eq!(f.ethertype(), 0x86dd);
        assert_eq!(f.payload(), &[1, 2, 3]);
        f.set_ethertype(0x0800);
        f.payload_mut()[0] = 9;
        assert_eq!(&frame[12..], &[0x08, 0x00, 9, 2, 3]);
        assert_eq!(
            EthernetFrame::new_checked(&BYTES[..13]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn truncated() {
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        let mut d = d.at(5);
        assert!(EthernetRepr::parse(&BYTES[..10], &mut d).is_none());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, crate::rules::TRUNCATED);
        assert_eq!(out[0].offset, 5);
    }

    #[test]
    fn short_buffer_does_not_panic_and_longer_is_untouched() {
        let mut short = [0u8; 4];
        repr().emit(&mut short, ETHERTYPE_IPV6);
        assert_eq!(short, BYTES[..4]);
        let mut long = [0xaau8; 16];
        repr().emit(&mut long, ETHERTYPE_IPV6);
        assert_eq!(long[..14], BYTES);
        assert_eq!(long[14..], [0xaa, 0xaa]);
    }

    #[test]
    fn serde_shape() {
        let j = serde_json::to_string(&repr()).unwrap();
        assert_eq!(
            j,
            r#"{"dst":"33:33:00:00:00:01","src":"02:00:5e:10:00:0a"}"#
        );
        assert_eq!(serde_json::from_str::<EthernetRepr>(&j).unwrap(), repr());
    }

    proptest! {
        #[test]
        fn round_trip(r in arb_ethernet_repr(), et in any::<u16>()) {
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut buf, et);
            let mut out = Vec::new();
            let (p, pet) = EthernetRepr::parse(&buf, &mut Diag::new(&mut out)).unwrap();
            prop_assert_eq!(&p, &r);
            prop_assert_eq!(pet, et);
            prop_assert!(out.is_empty());
            let mut again = vec![0u8; p.buffer_len()];
            p.emit(&mut again, pet);
            prop_assert_eq!(again, buf);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut out = Vec::new();
            let _ = EthernetRepr::parse(&data, &mut Diag::new(&mut out));
        }
    }
}
