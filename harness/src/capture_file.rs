//! Reading pcap and pcapng files into frames the codec can decode.
//!
//! The whole file is read into memory and parsed slice by slice so that an
//! error can say at which byte offset the file stopped making sense.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::DataLink;

/// How a captured frame starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Ethernet II (link type 1).
    Ethernet,
    /// A bare IP packet (link types 101 RAW and 229 IPV6).
    RawIp,
    /// Linux cooked capture v1 (link type 113): a 16-octet header, then IP.
    LinuxSll,
    /// Anything else: the frame is shown but not decoded.
    Other(u32),
}

impl LinkKind {
    fn from_datalink(d: DataLink) -> Self {
        match d {
            DataLink::ETHERNET => LinkKind::Ethernet,
            DataLink::RAW | DataLink::IPV6 => LinkKind::RawIp,
            DataLink::LINUX_SLL => LinkKind::LinuxSll,
            other => LinkKind::Other(u32::from(other)),
        }
    }
}

/// One frame read from a capture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// 1-based, as Wireshark numbers frames.
    pub number: usize,
    /// Time since the Unix epoch, when the file gives one.
    pub timestamp: Option<Duration>,
    pub link: LinkKind,
    /// The interface name (pcapng `if_name`), if any.
    pub interface: Option<String>,
    /// Packet comments (pcapng `opt_comment`).
    pub comments: Vec<String>,
    pub data: Vec<u8>,
}

/// Why a file could not be read as a capture.
#[derive(Debug)]
pub enum CaptureError {
    Io(PathBuf, std::io::Error),
    /// The file does not start with a pcap or pcapng magic number.
    NotACapture {
        path: PathBuf,
        found: Vec<u8>,
    },
    /// The file is a capture but breaks its format at `offset`.
    Malformed {
        path: PathBuf,
        offset: usize,
        frame: usize,
        message: String,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            CaptureError::NotACapture { path, found } => write!(
                f,
                "{}: not a pcap or pcapng capture: expected the magic number a1b2c3d4, d4c3b2a1, \
                 a1b23c4d, 4d3cb2a1 (pcap) or 0a0d0d0a (pcapng) at byte 0, found {}",
                path.display(),
                if found.is_empty() {
                    "an empty file".to_string()
                } else {
                    wire::hex::encode(found)
                }
            ),
            CaptureError::Malformed {
                path,
                offset,
                frame,
                message,
            } => write!(
                f,
                "{}: malformed capture at byte {offset} (after {frame} frames): {message}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for CaptureError {}

const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Read every frame of a pcap or pcapng file.
pub fn read_capture(path: &Path) -> Result<Vec<CapturedFrame>, CaptureError> {
    let bytes = std::fs::read(path).map_err(|e| CaptureError::Io(path.to_path_buf(), e))?;
    parse_capture(path, &bytes)
}

/// Parse the bytes of a pcap or pcapng file; `path` is only used in errors.
pub fn parse_capture(path: &Path, bytes: &[u8]) -> Result<Vec<CapturedFrame>, CaptureError> {
    let magic: [u8; 4] = match bytes.get(..4) {
        Some(m) => [m[0], m[1], m[2], m[3]],
        None => {
            return Err(CaptureError::NotACapture {
                path: path.to_path_buf(),
                found: bytes.to_vec(),
            })
        }
    };
    if magic == PCAPNG_MAGIC {
        parse_pcapng(path, bytes)
    } else if PCAP_MAGICS.contains(&magic) {
        parse_pcap(path, bytes)
    } else {
        Err(CaptureError::NotACapture {
            path: path.to_path_buf(),
            found: magic.to_vec(),
        })
    }
}

fn malformed(
    path: &Path,
    bytes: &[u8],
    rest: &[u8],
    frame: usize,
    e: impl fmt::Display,
) -> CaptureError {
    CaptureError::Malformed {
        path: path.to_path_buf(),
        offset: bytes.len() - rest.len(),
        frame,
        message: e.to_string(),
    }
}

fn parse_pcap(path: &Path, bytes: &[u8]) -> Result<Vec<CapturedFrame>, CaptureError> {
    let (mut rest, parser) =
        PcapParser::new(bytes).map_err(|e| malformed(path, bytes, bytes, 0, e))?;
    let link = LinkKind::from_datalink(parser.header().datalink);
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let (next, packet) = parser
            .next_packet(rest)
            .map_err(|e| malformed(path, bytes, rest, frames.len(), e))?;
        frames.push(CapturedFrame {
            number: frames.len() + 1,
            timestamp: Some(packet.timestamp),
            link,
            interface: None,
            comments: Vec::new(),
            data: packet.data.into_owned(),
        });
        rest = next;
    }
    Ok(frames)
}

/// Per-interface facts from an Interface Description Block.
struct Interface {
    link: LinkKind,
    name: Option<String>,
    /// Timestamp units per second (if_tsresol; default 10^6).
    units_per_second: u64,
}

fn parse_pcapng(path: &Path, bytes: &[u8]) -> Result<Vec<CapturedFrame>, CaptureError> {
    let (mut rest, mut parser) =
        PcapNgParser::new(bytes).map_err(|e| malformed(path, bytes, bytes, 0, e))?;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let at = rest;
        let (next, block) = parser
            .next_block(rest)
            .map_err(|e| malformed(path, bytes, at, frames.len(), e))?;
        match block {
            Block::SectionHeader(_) => interfaces.clear(),
            Block::InterfaceDescription(idb) => {
                let mut iface = Interface {
                    link: LinkKind::from_datalink(idb.linktype),
                    name: None,
                    units_per_second: 1_000_000,
                };
                for opt in &idb.options {
                    match opt {
                        InterfaceDescriptionOption::IfName(n) => iface.name = Some(n.to_string()),
                        InterfaceDescriptionOption::IfTsResol(r) => {
                            iface.units_per_second = tsresol_units(*r)
                        }
                        _ => {}
                    }
                }
                interfaces.push(iface);
            }
            Block::EnhancedPacket(epb) => {
                let iface = interfaces.get(epb.interface_id as usize).ok_or_else(|| {
                    malformed(
                        path,
                        bytes,
                        at,
                        frames.len(),
                        format!(
                            "packet names interface {} but the section describes {}",
                            epb.interface_id,
                            interfaces.len()
                        ),
                    )
                })?;
                // pcap-file hands the raw 64-bit timestamp over as nanoseconds;
                // rescale it by the interface's real resolution.
                let raw = epb.timestamp.as_nanos() as u64;
                let timestamp = units_to_duration(raw, iface.units_per_second);
                let comments = epb
                    .options
                    .iter()
                    .filter_map(|o| match o {
                        EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                        _ => None,
                    })
                    .collect();
                frames.push(CapturedFrame {
                    number: frames.len() + 1,
                    timestamp: Some(timestamp),
                    link: iface.link,
                    interface: iface.name.clone(),
                    comments,
                    data: epb.data.into_owned(),
                });
            }
            Block::SimplePacket(spb) => {
                let link = interfaces
                    .first()
                    .map(|i| i.link)
                    .unwrap_or(LinkKind::Ethernet);
                frames.push(CapturedFrame {
                    number: frames.len() + 1,
                    timestamp: None,
                    link,
                    interface: interfaces.first().and_then(|i| i.name.clone()),
                    comments: Vec::new(),
                    data: spb.data.into_owned(),
                });
            }
            _ => {}
        }
        rest = next;
    }
    Ok(frames)
}

/// if_tsresol: high bit clear = 10^-n seconds, set = 2^-n seconds.
fn tsresol_units(r: u8) -> u64 {
    let n = u32::from(r & 0x7f);
    if r & 0x80 == 0 {
        10u64.checked_pow(n).unwrap_or(u64::MAX)
    } else {
        2u64.checked_pow(n).unwrap_or(u64::MAX)
    }
}

fn units_to_duration(raw: u64, units_per_second: u64) -> Duration {
    let units = units_per_second.max(1);
    let secs = raw / units;
    let frac = raw % units;
    let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(units)) as u32;
    Duration::new(secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_capture_names_the_magic() {
        let e = parse_capture(Path::new("x.txt"), b"hello world").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("not a pcap or pcapng capture"), "{msg}");
        assert!(msg.contains("68656c6c"), "{msg}");
        let e = parse_capture(Path::new("e"), b"").unwrap_err();
        assert!(e.to_string().contains("an empty file"));
    }

    #[test]
    fn truncated_pcap_says_where() {
        // A pcap header (24 octets) and a record header claiming 100 octets
        // with only 4 present.
        let mut b = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&65535u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&100u32.to_le_bytes());
        b.extend_from_slice(&100u32.to_le_bytes());
        b.extend_from_slice(&[1, 2, 3, 4]);
        match parse_capture(Path::new("t.pcap"), &b) {
            Err(CaptureError::Malformed { offset, frame, .. }) => {
                assert_eq!(offset, 24);
                assert_eq!(frame, 0);
            }
            other => panic!("expected a located error, got {other:?}"),
        }
    }

    #[test]
    fn tsresol_scaling() {
        assert_eq!(
            units_to_duration(1_500_000, 1_000_000),
            Duration::from_millis(1500)
        );
        assert_eq!(
            units_to_duration(1_500_000_000, tsresol_units(9)),
            Duration::from_millis(1500)
        );
        assert_eq!(tsresol_units(0x83), 8);
    }
}
