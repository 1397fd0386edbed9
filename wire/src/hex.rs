//! Serde helper: octet strings as lowercase hex (`"0a1b"`), the form dumps,
//! JSON output and case files use for opaque data.
//!
//! Deserialisation also accepts a sequence of numbers, so that a case file
//! can write `data: [1, 2, 3]`, and hex with `:` or space separators.

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

pub fn encode(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    s
}

/// Decode hex, ignoring `:`, ` ` and `_` separators and an optional `0x`.
pub fn decode(s: &str) -> Result<Vec<u8>, String> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let digits: Vec<u8> = s
        .bytes()
        .filter(|c| !matches!(c, b':' | b' ' | b'_'))
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("hex string has an odd number of digits: {s:?}"));
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16);
            let lo = (p[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!("not a hex digit in {s:?}")),
            }
        })
        .collect()
}

pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode(data))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct HexVisitor;
    impl<'de> Visitor<'de> for HexVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a hex string or a list of octets")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            decode(v).map_err(E::custom)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::new();
            while let Some(b) = seq.next_element::<u8>()? {
                out.push(b);
            }
            Ok(out)
        }
    }
    d.deserialize_any(HexVisitor)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        assert_eq!(super::encode(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(super::decode("00:ab 10").unwrap(), vec![0, 0xab, 0x10]);
        assert!(super::decode("abc").is_err());
        assert!(super::decode("zz").is_err());
    }
}
