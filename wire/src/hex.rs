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

/// Compact serde form of a PadN option (IPv6 and mobility options alike):
/// `{"len": n}` for zero padding, `{"data": "<hex>"}` otherwise.
pub mod pad_n {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case", deny_unknown_fields)]
    struct PadNForm {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        len: Option<usize>,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
        data: Option<Vec<u8>>,
    }

    mod opt_hex {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(d: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            #[derive(Deserialize)]
            struct Hex(#[serde(with = "crate::hex")] Vec<u8>);
            Ok(Some(Hex::deserialize(d)?.0))
        }
    }

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let form = if data.iter().all(|&b| b == 0) {
            PadNForm {
                len: Some(data.len()),
                data: None,
            }
        } else {
            PadNForm {
                len: None,
                data: Some(data.to_vec()),
            }
        };
        form.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        use serde::de::Error;
        let form = PadNForm::deserialize(d)?;
        match (form.len, form.data) {
            (None, Some(data)) => Ok(data),
            (Some(len), None) if len <= usize::from(u8::MAX) => Ok(vec![0; len]),
            (Some(len), None) => Err(D::Error::custom(format!(
                "PadN len {len} does not fit the 8-bit Length field"
            ))),
            (Some(len), Some(data)) if len == data.len() => Ok(data),
            (Some(_), Some(_)) => Err(D::Error::custom("PadN len disagrees with data")),
            (None, None) => Err(D::Error::custom("PadN needs `len` or `data`")),
        }
    }
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
