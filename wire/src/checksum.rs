//! The Internet checksum (RFC 1071) and the IPv6 upper-layer pseudo-header
//! (RFC 8200 8.1) used by ICMPv6 and the Mobility Header.

use std::net::Ipv6Addr;

/// Add `data` to a running one's complement sum (32-bit accumulator, not folded).
pub fn accumulate(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
        // Fold early so the accumulator never overflows on jumbo inputs.
        if sum & 0x8000_0000 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

/// Fold a 32-bit accumulator to 16 bits and complement it.
pub fn finish(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The addresses an upper-layer checksum covers.
///
/// For the Mobility Header and ICMPv6, `src` is the home address when a Home
/// Address option is present, and `dst` is the final destination (the
/// address in a type 2 routing header) when one is present: RFC 6275 6.1.1,
/// as Wireshark and Scapy compute it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PseudoHeader {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    /// 58 for ICMPv6, 135 for the Mobility Header.
    pub next_header: u8,
}

impl PseudoHeader {
    /// Checksum over the pseudo-header and `upper` (the whole upper-layer
    /// message). The checksum field inside `upper` must be zero, or the
    /// result is the verification sum (0 when the checksum in it is right).
    pub fn checksum(&self, upper: &[u8]) -> u16 {
        let mut sum = accumulate(0, &self.src.octets());
        sum = accumulate(sum, &self.dst.octets());
        sum = accumulate(sum, &(upper.len() as u32).to_be_bytes());
        sum = accumulate(sum, &[0, 0, 0, self.next_header]);
        finish(accumulate(sum, upper))
    }

    /// Compute the checksum for `upper`, treating the two octets at
    /// `field` as zero, without modifying `upper`.
    pub fn checksum_with_zeroed_field(&self, upper: &[u8], field: usize) -> u16 {
        let mut sum = accumulate(0, &self.src.octets());
        sum = accumulate(sum, &self.dst.octets());
        sum = accumulate(sum, &(upper.len() as u32).to_be_bytes());
        sum = accumulate(sum, &[0, 0, 0, self.next_header]);
        let field = field.min(upper.len());
        let end = (field + 2).min(upper.len());
        // `field` is even for both ICMPv6 (2) and MH (4), so the three parts
        // keep 16-bit alignment.
        sum = accumulate(sum, &upper[..field]);
        sum = accumulate(sum, &[0u8, 0][..end - field]);
        finish(accumulate(sum, &upper[end..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example: 0001 f203 f4f5 f6f7 sums to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(finish(accumulate(0, &data)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(finish(accumulate(0, &[0xab])), !0xab00);
    }

    #[test]
    fn verification_of_correct_checksum_is_zero() {
        let ph = PseudoHeader {
            src: "fe80::1".parse().unwrap(),
            dst: "ff02::1".parse().unwrap(),
            next_header: 58,
        };
        let mut msg = vec![128, 0, 0, 0, 0, 1, 0, 2, 0xde, 0xad, 0xbe];
        let c = ph.checksum(&msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(ph.checksum(&msg), 0);
        assert_eq!(ph.checksum_with_zeroed_field(&msg, 2), c);
    }
}
