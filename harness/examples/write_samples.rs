//! Writes the example captures in captures/examples/ from `wire::samples`:
//! `hmipv6-samples.pcapng` (every sample, its name as the packet comment)
//! and `hmipv6-samples-well-formed.pcapng` (only the well-formed ones).
//!
//!     cargo run -p hmip6spec --example write_samples

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

fn write(path: &Path, well_formed_only: bool) -> std::io::Result<usize> {
    let file = std::fs::File::create(path)?;
    let mut w = PcapNgWriter::new(file).map_err(std::io::Error::other)?;
    let idb = InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Borrowed("samples")),
            // Nanosecond timestamps: pcap-file writes the raw value as given.
            InterfaceDescriptionOption::IfTsResol(9),
        ],
    };
    w.write_pcapng_block(idb).map_err(std::io::Error::other)?;
    let mut n = 0;
    for (i, s) in wire::samples::all().into_iter().enumerate() {
        if well_formed_only && s.breaks.is_some() {
            continue;
        }
        let data = s.frame.emit();
        let epb = EnhancedPacketBlock {
            interface_id: 0,
            // Fixed times, so the file is reproducible.
            timestamp: Duration::from_secs(1_764_288_000) + Duration::from_millis(i as u64 * 10),
            original_len: data.len() as u32,
            data: Cow::Owned(data),
            options: vec![EnhancedPacketOption::Comment(Cow::Borrowed(s.name))],
        };
        w.write_pcapng_block(epb).map_err(std::io::Error::other)?;
        n += 1;
    }
    Ok(n)
}

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures/examples");
    for (name, wf) in [
        ("hmipv6-samples.pcapng", false),
        ("hmipv6-samples-well-formed.pcapng", true),
    ] {
        let n = write(&dir.join(name), wf)?;
        println!("wrote {n} frames to captures/examples/{name}");
    }
    Ok(())
}
