//! Hop-by-Hop Options (Next Header 0) and Destination Options (60) headers
//! (RFC 8200 4.3, 4.6) and their TLV options, including the Home Address
//! option (RFC 6275 6.3).
//!
//! ```text
//! octet 0     Next Header
//! octet 1     Hdr Ext Len (8-octet units, not counting the first 8)
//! octets 2..  options: Type (8), Opt Data Len (8, octets), data;
//!             Pad1 is the single octet 0
//! ```
//!
//! A Destination Options header holding only a Home Address option is
//! `NH, 02, 01 02 00 00, C9 10, <16 octets>` (24 octets): the PadN(4)
//! brings the HAO to its 8n+6 alignment. [`OptionsHeaderRepr::aligned`]
//! builds such lists.

use std::net::Ipv6Addr;

use crate::finding::Diag;
use crate::rules;
use crate::{Error, Result};

/// Option type of Pad1.
pub const PAD1: u8 = 0;
/// Option type of PadN.
pub const PADN: u8 = 1;
/// Option type of the Home Address option (RFC 6275 6.3).
pub const HOME_ADDRESS: u8 = 201;
/// Opt Data Len of the Home Address option.
pub const HOME_ADDRESS_LEN: u8 = 16;

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const HDR_EXT_LEN: usize = 1;
    pub const OPTIONS: usize = 2;

    pub const OPT_TYPE: usize = 0;
    pub const OPT_DATA_LEN: usize = 1;
    pub const OPT_DATA: usize = 2;
}

/// A checked view of a Hop-by-Hop or Destination Options header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> OptionsHeader<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> OptionsHeader<T> {
        OptionsHeader { buffer }
    }

    /// Wrap a buffer, checking that it holds the `(Hdr Ext Len + 1) * 8`
    /// octets the header claims.
    pub fn new_checked(buffer: T) -> Result<OptionsHeader<T>> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// `Err(Error::Truncated)` when the buffer is shorter than 2 octets or
    /// than the header's stated length.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < field::OPTIONS || len < self.header_len() {
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

    /// The options area (after Next Header and Hdr Ext Len, up to the header end).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> OptionsHeader<T> {
    pub fn set_next_header(&mut self, v: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = v;
    }

    pub fn set_hdr_ext_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HDR_EXT_LEN] = v;
    }

    /// The options area, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS..end]
    }
}

/// A checked view of one TLV option (or a Pad1 octet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6OptionView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6OptionView<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Ipv6OptionView<T> {
        Ipv6OptionView { buffer }
    }

    /// Wrap a buffer, checking that it holds the option's type, length and data.
    pub fn new_checked(buffer: T) -> Result<Ipv6OptionView<T>> {
        let o = Self::new_unchecked(buffer);
        o.check_len()?;
        Ok(o)
    }

    /// `Err(Error::Truncated)` when the buffer is empty, or (for anything
    /// but Pad1) shorter than `2 + Opt Data Len`.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        match b.first() {
            None => Err(Error::Truncated),
            Some(&PAD1) => Ok(()),
            Some(_) if b.len() < field::OPT_DATA || b.len() < self.option_len() => {
                Err(Error::Truncated)
            }
            Some(_) => Ok(()),
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Option Type.
    pub fn option_type(&self) -> u8 {
        self.buffer.as_ref()[field::OPT_TYPE]
    }

    /// Opt Data Len (0 for Pad1, which has none).
    pub fn data_len(&self) -> u8 {
        if self.option_type() == PAD1 {
            0
        } else {
            self.buffer.as_ref()[field::OPT_DATA_LEN]
        }
    }

    /// Octets the option occupies: 1 for Pad1, else `2 + Opt Data Len`.
    pub fn option_len(&self) -> usize {
        if self.option_type() == PAD1 {
            1
        } else {
            field::OPT_DATA + usize::from(self.data_len())
        }
    }

    /// Option Data (empty for Pad1).
    pub fn data(&self) -> &[u8] {
        if self.option_type() == PAD1 {
            &[]
        } else {
            &self.buffer.as_ref()[field::OPT_DATA..self.option_len()]
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6OptionView<T> {
    pub fn set_option_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::OPT_TYPE] = v;
    }

    pub fn set_data_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::OPT_DATA_LEN] = v;
    }

    /// Option Data, writable (empty for Pad1).
    pub fn data_mut(&mut self) -> &mut [u8] {
        if self.option_type() == PAD1 {
            &mut []
        } else {
            let end = self.option_len();
            &mut self.buffer.as_mut()[field::OPT_DATA..end]
        }
    }
}

/// One item of an options area.
///
/// Serialised externally tagged: `"pad1"`, `{"pad_n": {"data": [0, 0]}}`,
/// `{"home_address": {"address": "2001:db8::1"}}`, ...
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ipv6Option {
    /// The single octet 0.
    Pad1,
    /// Type 1; `data` is the N-2 padding octets (zero unless crafted; kept as found).
    #[serde(
        serialize_with = "crate::hex::pad_n::serialize",
        deserialize_with = "crate::hex::pad_n::deserialize"
    )]
    PadN { data: Vec<u8> },
    /// Type 201 (RFC 6275 6.3). `length`: Opt Data Len, `None` = 16. With
    /// `Some(l)` the option occupies `2 + l` octets: the address is cut
    /// short or zero-filled beyond.
    HomeAddress {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u8>,
        address: Ipv6Addr,
    },
    /// Any other type; Opt Data Len is `data.len()` (at most 255 octets are sent).
    Unknown {
        option_type: u8,
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
    /// The rest of an options area after an option that ran past its end,
    /// kept verbatim.
    Raw {
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
}

impl Ipv6Option {
    /// A padding item of exactly `n` octets: nothing, Pad1, or PadN with zeros.
    pub fn padding(n: usize) -> Option<Ipv6Option> {
        match n {
            0 => None,
            1 => Some(Ipv6Option::Pad1),
            _ => Some(Ipv6Option::PadN {
                data: vec![0; n - 2],
            }),
        }
    }

    /// Octets this item occupies when emitted.
    pub fn buffer_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 1,
            Ipv6Option::PadN { data } | Ipv6Option::Unknown { data, .. } => 2 + data.len().min(255),
            Ipv6Option::HomeAddress { length, .. } => {
                2 + usize::from(length.unwrap_or(HOME_ADDRESS_LEN))
            }
            Ipv6Option::Raw { data } => data.len(),
        }
    }

    /// The option type octet (`None` for `Raw`, which is not one option).
    pub fn option_type(&self) -> Option<u8> {
        match self {
            Ipv6Option::Pad1 => Some(PAD1),
            Ipv6Option::PadN { .. } => Some(PADN),
            Ipv6Option::HomeAddress { .. } => Some(HOME_ADDRESS),
            Ipv6Option::Unknown { option_type, .. } => Some(*option_type),
            Ipv6Option::Raw { .. } => None,
        }
    }

    /// Append the item's octets to `out`.
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Ipv6Option::Pad1 => out.push(PAD1),
            Ipv6Option::PadN { data } => write_tlv(out, PADN, data),
            Ipv6Option::Unknown { option_type, data } => write_tlv(out, *option_type, data),
            Ipv6Option::HomeAddress { length, address } => {
                let l = length.unwrap_or(HOME_ADDRESS_LEN);
                out.push(HOME_ADDRESS);
                out.push(l);
                let l = usize::from(l);
                let a = address.octets();
                let k = l.min(a.len());
                out.extend_from_slice(&a[..k]);
                out.resize(out.len() + (l - k), 0);
            }
            Ipv6Option::Raw { data } => out.extend_from_slice(data),
        }
    }
}

fn write_tlv(out: &mut Vec<u8>, option_type: u8, data: &[u8]) {
    let n = data.len().min(255);
    out.push(option_type);
    out.push(n as u8);
    out.extend_from_slice(&data[..n]);
}

/// Decode an options area. `start` is the area's offset from the header
/// start, for findings and the HAO alignment check.
fn parse_options(area: &[u8], start: usize, diag: &mut Diag) -> Vec<Ipv6Option> {
    let mut options = Vec::new();
    let mut i = 0;
    while i < area.len() {
        let at = start + i;
        let option_type = area[i];
        if option_type == PAD1 {
            options.push(Ipv6Option::Pad1);
            i += 1;
            continue;
        }
        let Some(&len) = area.get(i + 1) else {
            diag.report(
                at,
                rules::IPV6_OPTION_LENGTH,
                format!(
                    "option type {option_type} is the last octet of the header, \
                     with no room for its Opt Data Len"
                ),
            );
            options.push(Ipv6Option::Raw {
                data: area[i..].to_vec(),
            });
            break;
        };
        let end = i + 2 + usize::from(len);
        if end > area.len() {
            diag.report(
                at,
                rules::IPV6_OPTION_LENGTH,
                format!(
                    "option type {option_type} with Opt Data Len {len} needs {} octets, \
                     only {} left in the header",
                    2 + usize::from(len),
                    area.len() - i
                ),
            );
            options.push(Ipv6Option::Raw {
                data: area[i..].to_vec(),
            });
            break;
        }
        let data = &area[i + 2..end];
        options.push(match option_type {
            PADN => Ipv6Option::PadN {
                data: data.to_vec(),
            },
            HOME_ADDRESS => {
                if at % 8 != 6 {
                    diag.report(
                        at,
                        rules::HAO_ALIGNMENT,
                        format!(
                            "Home Address option at offset {at} of its header ({} mod 8), \
                             expected 8n+6",
                            at % 8
                        ),
                    );
                }
                let length = if len == HOME_ADDRESS_LEN {
                    None
                } else {
                    diag.report(
                        at + 1,
                        rules::HAO_LENGTH,
                        format!(
                            "Home Address option Opt Data Len is {len}, expected {HOME_ADDRESS_LEN}"
                        ),
                    );
                    Some(len)
                };
                if data.len() > 16 && data[16..].iter().any(|&b| b != 0) {
                    // Octets past the address that are not zero cannot be
                    // re-emitted from the fields: keep the option whole.
                    Ipv6Option::Unknown {
                        option_type,
                        data: data.to_vec(),
                    }
                } else {
                    let mut a = [0u8; 16];
                    let k = data.len().min(16);
                    a[..k].copy_from_slice(&data[..k]);
                    Ipv6Option::HomeAddress {
                        length,
                        address: Ipv6Addr::from(a),
                    }
                }
            }
            _ => Ipv6Option::Unknown {
                option_type,
                data: data.to_vec(),
            },
        });
        i = end;
    }
    options
}

/// A Hop-by-Hop or Destination Options header, less its Next Header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct OptionsHeaderRepr {
    /// Hdr Ext Len. `None`: computed, `ceil((2 + options length) / 8) - 1`.
    /// `Some(l)`: the header occupies `(l + 1) * 8` octets, the options cut
    /// short or zero-filled (Pad1s) to fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr_ext_len: Option<u8>,
    pub options: Vec<Ipv6Option>,
}

impl OptionsHeaderRepr {
    /// Decode the header at the start of `data`; returns it with its Next
    /// Header and the octets it consumed (`(Hdr Ext Len + 1) * 8`, or all of
    /// `data` when the header is cut short, which is reported as truncated
    /// and decoded as far as it goes).
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(Self, u8, usize)> {
        if data.len() < field::OPTIONS {
            diag.truncated(0, "options header", 8, data.len());
            return None;
        }
        let h = OptionsHeader::new_unchecked(data);
        let stated = h.header_len();
        let end = if data.len() < stated {
            diag.truncated(0, "options header", stated, data.len());
            data.len()
        } else {
            stated
        };
        let options = parse_options(&data[field::OPTIONS..end], field::OPTIONS, diag);
        let mut repr = OptionsHeaderRepr {
            hdr_ext_len: None,
            options,
        };
        if repr.computed_hdr_ext_len() != h.hdr_ext_len() {
            repr.hdr_ext_len = Some(h.hdr_ext_len());
        }
        Some((repr, h.next_header(), end))
    }

    fn options_len(&self) -> usize {
        self.options.iter().map(Ipv6Option::buffer_len).sum()
    }

    /// The Hdr Ext Len that fits the options, saturated at 255.
    pub fn computed_hdr_ext_len(&self) -> u8 {
        let units = (field::OPTIONS + self.options_len()).div_ceil(8);
        u8::try_from(units.saturating_sub(1)).unwrap_or(u8::MAX)
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
    /// are left untouched): options beyond the stated length are cut,
    /// space left after them is zero-filled.
    pub fn emit(&self, buf: &mut [u8], next_header: u8) {
        let len = self.buffer_len();
        let mut out = Vec::with_capacity(len);
        out.push(next_header);
        out.push(self.effective_hdr_ext_len());
        for o in &self.options {
            if out.len() >= len {
                break;
            }
            o.write(&mut out);
        }
        out.resize(len, 0);
        let n = buf.len().min(len);
        buf[..n].copy_from_slice(&out[..n]);
    }

    /// A header holding `options` with the padding they need: PadN/Pad1
    /// before each Home Address option to bring it to 8n+6, and after the
    /// last to end on a multiple of 8 octets. Hdr Ext Len is computed.
    pub fn aligned(options: Vec<Ipv6Option>) -> Self {
        let mut out = Vec::with_capacity(options.len() + 2);
        let mut off = field::OPTIONS;
        for o in options {
            if let Ipv6Option::HomeAddress { .. } = o {
                let pad = (6 + 8 - off % 8) % 8;
                if let Some(p) = Ipv6Option::padding(pad) {
                    off += p.buffer_len();
                    out.push(p);
                }
            }
            off += o.buffer_len();
            out.push(o);
        }
        if let Some(p) = Ipv6Option::padding((8 - off % 8) % 8) {
            out.push(p);
        }
        OptionsHeaderRepr {
            hdr_ext_len: None,
            options: out,
        }
    }

    /// The address in the first Home Address option, if any.
    pub fn home_address(&self) -> Option<Ipv6Addr> {
        self.options.iter().find_map(|o| match o {
            Ipv6Option::HomeAddress { address, .. } => Some(*address),
            _ => None,
        })
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use crate::ipv6::strategy::arb_ipv6_addr;
    use proptest::prelude::*;

    fn small_data() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..12)
    }

    /// One option that parses back to itself (no `Raw`, no overrides).
    pub fn arb_ipv6_option() -> impl Strategy<Value = Ipv6Option> {
        prop_oneof![
            Just(Ipv6Option::Pad1),
            small_data().prop_map(|data| Ipv6Option::PadN { data }),
            arb_ipv6_addr().prop_map(|address| Ipv6Option::HomeAddress {
                length: None,
                address
            }),
            (2u8..=255, small_data())
                .prop_filter("not a known type", |(t, _)| *t != HOME_ADDRESS)
                .prop_map(|(option_type, data)| Ipv6Option::Unknown { option_type, data }),
        ]
    }

    /// Any option, including crafted HAO lengths and long data (not `Raw`).
    pub fn arb_ipv6_option_crafted() -> impl Strategy<Value = Ipv6Option> {
        prop_oneof![
            arb_ipv6_option(),
            (any::<u8>(), arb_ipv6_addr()).prop_map(|(l, address)| {
                Ipv6Option::HomeAddress {
                    length: Some(l),
                    address,
                }
            }),
            (1u8..=255, proptest::collection::vec(any::<u8>(), 0..300))
                .prop_filter("not a HAO", |(t, _)| *t != HOME_ADDRESS)
                .prop_map(|(option_type, data)| Ipv6Option::Unknown { option_type, data }),
        ]
    }

    /// A header that parses back to itself: explicit end padding, computed
    /// Hdr Ext Len (and [`OptionsHeaderRepr::aligned`] half of the time).
    pub fn arb_options_header() -> impl Strategy<Value = OptionsHeaderRepr> {
        (
            proptest::collection::vec(arb_ipv6_option(), 0..6),
            any::<bool>(),
        )
            .prop_map(|(options, align)| {
                if align {
                    OptionsHeaderRepr::aligned(options)
                } else {
                    let mut r = OptionsHeaderRepr {
                        hdr_ext_len: None,
                        options,
                    };
                    let len = 2 + r.options_len();
                    r.options.extend(Ipv6Option::padding((8 - len % 8) % 8));
                    r
                }
            })
    }

    /// Any header with arbitrary overrides, crafted options and possibly a
    /// final `Raw` item (where the parser puts one).
    pub fn arb_options_header_crafted() -> impl Strategy<Value = OptionsHeaderRepr> {
        (
            proptest::option::of(any::<u8>()),
            proptest::collection::vec(arb_ipv6_option_crafted(), 0..6),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)),
        )
            .prop_map(|(hdr_ext_len, mut options, raw)| {
                options.extend(raw.map(|data| Ipv6Option::Raw { data }));
                OptionsHeaderRepr {
                    hdr_ext_len,
                    options,
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::Finding;
    use proptest::prelude::*;

    fn hoa() -> Ipv6Addr {
        "2001:db8:1::100".parse().unwrap()
    }

    fn hao_bytes() -> Vec<u8> {
        let mut b = vec![135, 2, 0x01, 0x02, 0x00, 0x00, 0xc9, 0x10];
        b.extend_from_slice(&hoa().octets());
        b
    }

    fn parse(data: &[u8]) -> (Option<(OptionsHeaderRepr, u8, usize)>, Vec<Finding>) {
        let mut out = Vec::new();
        let r = OptionsHeaderRepr::parse(data, &mut Diag::new(&mut out));
        (r, out)
    }

    fn emit(r: &OptionsHeaderRepr, nh: u8) -> Vec<u8> {
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit(&mut buf, nh);
        buf
    }

    fn hao(address: Ipv6Addr) -> Ipv6Option {
        Ipv6Option::HomeAddress {
            length: None,
            address,
        }
    }

    #[test]
    fn hao_reference_bytes() {
        let r = OptionsHeaderRepr::aligned(vec![hao(hoa())]);
        assert_eq!(
            r.options,
            vec![Ipv6Option::PadN { data: vec![0, 0] }, hao(hoa())]
        );
        assert_eq!(r.buffer_len(), 24);
        assert_eq!(emit(&r, 135), hao_bytes());
        let (p, out) = parse(&hao_bytes());
        assert_eq!(p, Some((r.clone(), 135, 24)));
        assert!(out.is_empty());
        assert_eq!(r.home_address(), Some(hoa()));
    }

    #[test]
    fn aligned_pads() {
        // Nothing: one PadN(6).
        let r = OptionsHeaderRepr::aligned(vec![]);
        assert_eq!(r.options, vec![Ipv6Option::PadN { data: vec![0; 4] }]);
        assert_eq!(emit(&r, 59), vec![59, 0, 1, 4, 0, 0, 0, 0]);
        // An unknown 3-octet option then a HAO: offset 5, Pad1 to 6.
        let u = Ipv6Option::Unknown {
            option_type: 0x1e,
            data: vec![7],
        };
        let r = OptionsHeaderRepr::aligned(vec![u.clone(), hao(hoa())]);
        assert_eq!(r.options, vec![u, Ipv6Option::Pad1, hao(hoa())]);
        assert_eq!(r.buffer_len(), 24);
        // Two HAOs: 24 octets, then PadN(4) again to reach 30.
        let r = OptionsHeaderRepr::aligned(vec![hao(hoa()), hao(hoa())]);
        assert_eq!(r.buffer_len(), 48);
        let (_, out) = parse(&emit(&r, 59));
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn view_accessors() {
        let mut b = hao_bytes();
        let mut h = OptionsHeader::new_checked(&mut b[..]).unwrap();
        assert_eq!(
            (h.next_header(), h.hdr_ext_len(), h.header_len()),
            (135, 2, 24)
        );
        assert_eq!(h.options().len(), 22);
        h.set_next_header(59);
        h.options_mut()[0] = 0;
        assert_eq!(&b[..3], &[59, 2, 0]);
        assert_eq!(
            OptionsHeader::new_checked(&hao_bytes()[..23]),
            Err(Error::Truncated)
        );
        assert_eq!(
            OptionsHeader::new_checked(&[0u8][..]),
            Err(Error::Truncated)
        );

        let mut b = hao_bytes();
        let mut o = Ipv6OptionView::new_checked(&mut b[6..]).unwrap();
        assert_eq!(
            (o.option_type(), o.data_len(), o.option_len()),
            (201, 16, 18)
        );
        assert_eq!(o.data(), &hoa().octets());
        o.data_mut()[0] = 0xff;
        o.set_data_len(1);
        o.set_option_type(0x3e);
        assert_eq!(&b[6..9], &[0x3e, 1, 0xff]);
        let pad1 = Ipv6OptionView::new_checked(&[0u8][..]).unwrap();
        assert_eq!((pad1.option_len(), pad1.data()), (1, &[][..]));
        assert_eq!(
            Ipv6OptionView::new_checked(&[1u8, 3, 0][..]),
            Err(Error::Truncated)
        );
        assert_eq!(
            Ipv6OptionView::new_checked(&[1u8][..]),
            Err(Error::Truncated)
        );
        assert_eq!(Ipv6OptionView::new_checked(&[][..]), Err(Error::Truncated));
    }

    #[test]
    fn non_zero_padn_survives() {
        let b = [59, 0, 1, 4, 0xde, 0xad, 0xbe, 0xef];
        let (p, out) = parse(&b);
        let (r, _, _) = p.unwrap();
        assert_eq!(
            r.options,
            vec![Ipv6Option::PadN {
                data: vec![0xde, 0xad, 0xbe, 0xef]
            }]
        );
        assert!(out.is_empty());
        assert_eq!(emit(&r, 59), b);
    }

    #[test]
    fn hao_misaligned() {
        // Pad1 Pad1 then HAO at offset 4, Pad1 Pad1 at the end.
        let mut b = vec![135, 2, 0, 0, 0xc9, 0x10];
        b.extend_from_slice(&hoa().octets());
        b.extend_from_slice(&[0, 0]);
        let (p, out) = parse(&b);
        let (r, _, n) = p.unwrap();
        assert_eq!(n, 24);
        assert_eq!(r.home_address(), Some(hoa()));
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rule, out[0].offset), (rules::HAO_ALIGNMENT, 4));
        assert_eq!(emit(&r, 135), b);
    }

    #[test]
    fn hao_short_length() {
        // HAO with Opt Data Len 8: the first 8 address octets, the rest zero.
        let mut b = vec![60, 1, 0x01, 0x02, 0x00, 0x00, 0xc9, 0x08];
        b.extend_from_slice(&hoa().octets()[..8]);
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        let (r, nh, n) = OptionsHeaderRepr::parse(&b, &mut d.at(40)).unwrap();
        assert_eq!((nh, n), (60, 16));
        assert_eq!(
            r.options[1],
            Ipv6Option::HomeAddress {
                length: Some(8),
                address: "2001:db8:1::".parse().unwrap()
            }
        );
        assert_eq!(r.hdr_ext_len, None);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rule, out[0].offset), (rules::HAO_LENGTH, 47));
        assert!(out[0].message.contains("is 8, expected 16"));
        assert_eq!(emit(&r, 60), b);
    }

    #[test]
    fn hao_long_length_zero_fills() {
        let r = OptionsHeaderRepr::aligned(vec![Ipv6Option::HomeAddress {
            length: Some(18),
            address: hoa(),
        }]);
        let b = emit(&r, 59);
        assert_eq!(b.len(), 32);
        assert_eq!(&b[6..8], &[0xc9, 18]);
        assert_eq!(&b[24..26], &[0, 0]);
        let (p, out) = parse(&b);
        assert_eq!(p.unwrap().0, r);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rule, out[0].offset), (rules::HAO_LENGTH, 7));
    }

    #[test]
    fn option_past_the_end_becomes_raw() {
        // PadN(4), then an unknown option claiming 9 octets in the last 2.
        let b = [59, 0, 0x01, 0x02, 0, 0, 0x3e, 0x09];
        let (p, out) = parse(&b);
        let (r, _, n) = p.unwrap();
        assert_eq!(n, 8);
        assert_eq!(
            r.options,
            vec![
                Ipv6Option::PadN { data: vec![0, 0] },
                Ipv6Option::Raw {
                    data: vec![0x3e, 0x09]
                }
            ]
        );
        assert_eq!(r.hdr_ext_len, None);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rule, out[0].offset), (rules::IPV6_OPTION_LENGTH, 6));
        assert_eq!(emit(&r, 59), b);

        // A type octet as the very last octet.
        let b = [59, 0, 0x01, 0x03, 0, 0, 0, 0xc9];
        let (p, out) = parse(&b);
        let (r, _, _) = p.unwrap();
        assert_eq!(r.options[1], Ipv6Option::Raw { data: vec![0xc9] });
        assert_eq!((out[0].rule, out[0].offset), (rules::IPV6_OPTION_LENGTH, 7));
        assert_eq!(emit(&r, 59), b);
    }

    #[test]
    fn truncated_header() {
        // Hdr Ext Len 2 (24 octets) but only 12 present.
        let b = &hao_bytes()[..12];
        let (p, out) = parse(b);
        let (r, nh, n) = p.unwrap();
        assert_eq!((nh, n), (135, 12));
        assert_eq!(r.hdr_ext_len, Some(2));
        assert_eq!(r.options[0], Ipv6Option::PadN { data: vec![0, 0] });
        assert!(matches!(r.options[1], Ipv6Option::Raw { .. }));
        let rules_found: Vec<_> = out.iter().map(|f| (f.rule, f.offset)).collect();
        assert_eq!(
            rules_found,
            vec![(rules::TRUNCATED, 0), (rules::IPV6_OPTION_LENGTH, 6)]
        );
        // Re-emission gives the stated 24 octets: what was there, zero-filled.
        let e = emit(&r, 135);
        assert_eq!(e.len(), 24);
        assert_eq!(&e[..12], b);

        // Not even Next Header and Hdr Ext Len.
        let (p, out) = parse(&[59]);
        assert!(p.is_none());
        assert_eq!((out[0].rule, out[0].offset), (rules::TRUNCATED, 0));
    }

    #[test]
    fn hdr_ext_len_override() {
        // Too long: zero-filled with Pad1s, which parse back as Pad1s.
        let r = OptionsHeaderRepr {
            hdr_ext_len: Some(1),
            options: vec![Ipv6Option::PadN { data: vec![0; 4] }],
        };
        let b = emit(&r, 59);
        assert_eq!(b, [59, 1, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let (p, out) = parse(&b);
        let (q, _, _) = p.unwrap();
        assert_eq!(q.hdr_ext_len, None);
        assert_eq!(q.options.len(), 9);
        assert!(out.is_empty());
        assert_eq!(emit(&q, 59), b);

        // Too short: the HAO is cut, and parses back as Raw.
        let r = OptionsHeaderRepr {
            hdr_ext_len: Some(0),
            ..OptionsHeaderRepr::aligned(vec![hao(hoa())])
        };
        let b = emit(&r, 59);
        assert_eq!(b, [59, 0, 1, 2, 0, 0, 0xc9, 0x10]);
        let (p, out) = parse(&b);
        let (q, _, _) = p.unwrap();
        assert_eq!(out[0].rule, rules::IPV6_OPTION_LENGTH);
        assert_eq!(emit(&q, 59), b);
    }

    #[test]
    fn emit_never_panics_on_odd_reprs() {
        let r = OptionsHeaderRepr {
            hdr_ext_len: None,
            options: vec![
                Ipv6Option::Unknown {
                    option_type: 0,
                    data: vec![1; 300]
                };
                10
            ],
        };
        assert_eq!(r.computed_hdr_ext_len(), 255);
        assert_eq!(r.buffer_len(), 2048);
        let b = emit(&r, 0);
        assert_eq!(&b[..4], &[0, 255, 0, 255]);
        r.emit(&mut [0u8; 5], 0);
    }

    #[test]
    fn serde_shape() {
        let r = OptionsHeaderRepr::aligned(vec![hao(hoa())]);
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(
            j,
            r#"{"options":[{"pad_n":{"len":2}},{"home_address":{"address":"2001:db8:1::100"}}]}"#
        );
        assert_eq!(serde_json::from_str::<OptionsHeaderRepr>(&j).unwrap(), r);
        let c = OptionsHeaderRepr {
            hdr_ext_len: Some(3),
            options: vec![
                Ipv6Option::Pad1,
                Ipv6Option::HomeAddress {
                    length: Some(2),
                    address: hoa(),
                },
            ],
        };
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(
            j,
            r#"{"hdr_ext_len":3,"options":["pad1",{"home_address":{"length":2,"address":"2001:db8:1::100"}}]}"#
        );
        assert_eq!(serde_json::from_str::<OptionsHeaderRepr>(&j).unwrap(), c);
    }

    proptest! {
        #[test]
        fn round_trip(r in arb_options_header(), nh in any::<u8>()) {
            let b = emit(&r, nh);
            prop_assert_eq!(b.len() % 8, 0);
            let (p, _) = parse(&b);
            let (q, qnh, n) = p.unwrap();
            prop_assert_eq!(&q, &r);
            prop_assert_eq!((qnh, n), (nh, b.len()));
            prop_assert_eq!(emit(&q, qnh), b);
        }

        #[test]
        fn aligned_is_clean(opts in proptest::collection::vec(arb_ipv6_option(), 0..6)) {
            let r = OptionsHeaderRepr::aligned(opts);
            let (p, out) = parse(&emit(&r, 59));
            prop_assert!(out.is_empty(), "{:?}", out);
            prop_assert_eq!(p.unwrap().0, r);
        }

        #[test]
        fn reemit_crafted(r in arb_options_header_crafted(), nh in any::<u8>()) {
            let b = emit(&r, nh);
            prop_assert_eq!(b.len(), r.buffer_len());
            let (p, _) = parse(&b);
            let (q, _, n) = p.unwrap();
            prop_assert_eq!(n, b.len());
            prop_assert_eq!(emit(&q, nh), b);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            let (p, out) = parse(&data);
            if let Some((r, nh, n)) = p {
                prop_assert!(n <= data.len());
                if out.iter().all(|f| f.rule != rules::TRUNCATED) {
                    // Decoding is stable: what re-emits decodes the same.
                    let (p2, _) = parse(&emit(&r, nh));
                    prop_assert_eq!(p2.unwrap().0, r);
                }
            }
        }
    }
}
