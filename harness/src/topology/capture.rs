//! One pcapng file per case: every frame on every link, both directions.
//!
//! Layout: a Section Header Block, one Interface Description Block per link
//! (`if_name` = the link's name, `if_tsresol` = 9, i.e. nanoseconds), then an
//! Enhanced Packet Block per frame with the kernel timestamp, the direction in
//! `epb_flags` (outbound = sent by the tester, inbound = sent by the IUT) and
//! the step annotations as `opt_comment`s. At the end, one Interface
//! Statistics Block per link with frame and drop counts, and as comments any
//! annotation no frame followed.
//!
//! The kernel sockets are read by a dedicated thread (poll(2) on the capture
//! sockets and an eventfd to stop): capture does not depend on the engine's
//! runtime, and [`Capture::finish`] (or drop) is synchronous and complete.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::interface_statistics::{
    InterfaceStatisticsBlock, InterfaceStatisticsOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness};

use super::link::{Direction, Frame};
use super::packet_socket::RawPacketSocket;

/// epb_flags direction bits (pcapng spec): 01 inbound, 10 outbound.
const EPB_INBOUND: u32 = 0b01;
const EPB_OUTBOUND: u32 = 0b10;
/// Snapshot length written in the IDBs: whole frames (GSO included).
const SNAPLEN: u32 = 262_144;

/// What a finished capture holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureSummary {
    pub path: PathBuf,
    /// Frames written, per link (index = link number).
    pub frames: Vec<u64>,
    /// Frames the kernel dropped before the capture read them, per link.
    pub drops: Vec<u64>,
}

struct Writer {
    png: PcapNgWriter<BufWriter<File>>,
    frames: Vec<u64>,
    error: Option<io::Error>,
}

struct Shared {
    links: Vec<String>,
    writer: Mutex<Option<Writer>>,
    /// Pending annotations per link: (time of the annotate call, text).
    annotations: Mutex<Vec<VecDeque<(SystemTime, String)>>>,
}

struct Reader {
    thread: JoinHandle<(Vec<u64>, Vec<RawPacketSocket>)>,
    stop: OwnedFd,
}

/// A pcapng capture being written. Finish it with [`Capture::finish`];
/// dropping it finishes it too (errors are then lost).
pub struct Capture {
    path: PathBuf,
    shared: Arc<Shared>,
    reader: Mutex<Option<Reader>>,
    summary: Mutex<Option<CaptureSummary>>,
    /// Sockets handed back by the reader thread, for the owner to close
    /// (closing an AF_PACKET socket waits for an RCU grace period, so the
    /// topology closes all its sockets in parallel).
    spent: Mutex<Vec<RawPacketSocket>>,
}

fn pcap_err(e: pcap_file::PcapError) -> io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

impl Capture {
    /// Creates the file and writes the section header and one interface per
    /// link name. Frames come from [`Capture::start`] (kernel sockets) or
    /// [`Capture::record`] (in-memory links).
    pub fn create(path: &Path, links: &[String]) -> io::Result<Capture> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let shb = SectionHeaderBlock {
            endianness: Endianness::native(),
            major_version: 1,
            minor_version: 0,
            section_length: -1,
            options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                concat!("hmip6spec ", env!("CARGO_PKG_VERSION")),
            ))],
        };
        let mut png =
            PcapNgWriter::with_section_header(BufWriter::new(file), shb).map_err(pcap_err)?;
        for name in links {
            let idb = InterfaceDescriptionBlock {
                linktype: DataLink::ETHERNET,
                snaplen: SNAPLEN,
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Owned(name.clone())),
                    InterfaceDescriptionOption::IfDescription(Cow::Owned(format!(
                        "link {name}, seen from the tester's end"
                    ))),
                    InterfaceDescriptionOption::IfTsResol(9),
                ],
            };
            png.write_pcapng_block(idb).map_err(pcap_err)?;
        }
        png.get_mut().flush()?;
        Ok(Capture {
            path: path.to_path_buf(),
            shared: Arc::new(Shared {
                links: links.to_vec(),
                writer: Mutex::new(Some(Writer {
                    png,
                    frames: vec![0; links.len()],
                    error: None,
                })),
                annotations: Mutex::new(vec![VecDeque::new(); links.len()]),
            }),
            reader: Mutex::new(None),
            summary: Mutex::new(None),
            spent: Mutex::new(Vec::new()),
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of a link by name.
    pub fn link_index(&self, name: &str) -> Option<usize> {
        self.shared.links.iter().position(|l| l == name)
    }

    /// Starts the reader thread on capture sockets, each `(link number,
    /// socket)`. The sockets should be opened with
    /// [`super::Outgoing::Keep`] on the tester's ends so both directions are
    /// seen. Can be called once.
    pub fn start(&self, sockets: Vec<(usize, RawPacketSocket)>) -> io::Result<()> {
        let mut reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        if reader.is_some() {
            return Err(io::Error::other("capture already started"));
        }
        if let Some((link, _)) = sockets.iter().find(|(l, _)| *l >= self.shared.links.len()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("capture has no link number {link}"),
            ));
        }
        // SAFETY: plain eventfd(2).
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh fd owned by nobody else.
        let stop = unsafe { OwnedFd::from_raw_fd(efd) };
        let stop_for_thread = stop.try_clone()?;
        let shared = self.shared.clone();
        let thread = std::thread::Builder::new()
            .name("hmip6spec-capture".into())
            .spawn(move || {
                let drops = read_loop(&shared, &sockets, &stop_for_thread);
                (drops, sockets.into_iter().map(|(_, s)| s).collect())
            })?;
        *reader = Some(Reader { thread, stop });
        Ok(())
    }

    /// Attaches `text` as a comment to the next frame on `link` (the first
    /// one whose timestamp is not before this call): e.g. "step 3: expect
    /// BA". If no frame follows, it ends up in the link's statistics block.
    pub fn annotate(&self, link: usize, text: &str) -> io::Result<()> {
        let mut ann = self
            .shared
            .annotations
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let q = ann.get_mut(link).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("capture has no link number {link}"),
            )
        })?;
        q.push_back((SystemTime::now(), text.to_string()));
        Ok(())
    }

    /// Writes one frame on `link` (for in-memory links; kernel links are
    /// captured by the reader thread).
    pub fn record(&self, link: usize, frame: &Frame) -> io::Result<()> {
        if link >= self.shared.links.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("capture has no link number {link}"),
            ));
        }
        let mut w = self.shared.writer.lock().unwrap_or_else(|p| p.into_inner());
        let Some(w) = w.as_mut() else {
            return Err(io::Error::other("capture already finished"));
        };
        write_frames(&self.shared, w, &mut [(link, frame.clone())]);
        match w.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The capture sockets, once [`Capture::finish`] has stopped the reader
    /// (otherwise empty); dropping them closes them.
    pub fn take_sockets(&self) -> Vec<RawPacketSocket> {
        std::mem::take(&mut *self.spent.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Stops the reader (after reading what is queued), writes the statistics
    /// blocks and flushes. Idempotent: later calls return the same summary.
    pub fn finish(&self) -> io::Result<CaptureSummary> {
        let mut summary = self.summary.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = summary.as_ref() {
            return Ok(s.clone());
        }
        let n = self.shared.links.len();
        let mut drops = vec![0u64; n];
        if let Some(reader) = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let one: u64 = 1;
            // SAFETY: 8-byte write to our eventfd.
            unsafe {
                libc::write(
                    reader.stop.as_raw_fd(),
                    &one as *const u64 as *const libc::c_void,
                    8,
                );
            }
            let (d, sockets) = reader
                .thread
                .join()
                .map_err(|_| io::Error::other("capture thread panicked"))?;
            drops = d;
            self.spent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(sockets);
        }
        let mut guard = self.shared.writer.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut w) = guard.take() else {
            return Err(io::Error::other("capture already finished"));
        };
        let leftovers: Vec<VecDeque<(SystemTime, String)>> = std::mem::take(
            &mut *self
                .shared
                .annotations
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let now = nanos(SystemTime::now());
        for (link, &dropped) in drops.iter().enumerate() {
            let mut options = vec![
                InterfaceStatisticsOption::IsbEndTime(now),
                InterfaceStatisticsOption::IsbUsrDeliv(w.frames.get(link).copied().unwrap_or(0)),
                InterfaceStatisticsOption::IsbOsDrop(dropped),
            ];
            for (_, text) in leftovers.get(link).into_iter().flatten() {
                options.push(InterfaceStatisticsOption::Comment(Cow::Owned(format!(
                    "annotation not followed by a frame: {text}"
                ))));
            }
            let isb = InterfaceStatisticsBlock {
                interface_id: link as u32,
                timestamp: now,
                options,
            };
            if let Err(e) = w.png.write_pcapng_block(isb) {
                w.error.get_or_insert(pcap_err(e));
            }
        }
        if let Err(e) = w.png.get_mut().flush() {
            w.error.get_or_insert(e);
        }
        if let Some(e) = w.error.take() {
            return Err(e);
        }
        let s = CaptureSummary {
            path: self.path.clone(),
            frames: w.frames.clone(),
            drops,
        };
        *summary = Some(s.clone());
        Ok(s)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos() as u64
}

/// Writes frames in timestamp order, each with the annotations made on its
/// link before it was seen. Errors are kept in `w.error` (the first one).
fn write_frames(shared: &Shared, w: &mut Writer, batch: &mut [(usize, Frame)]) {
    batch.sort_by_key(|(_, f)| f.timestamp);
    let mut ann = shared.annotations.lock().unwrap_or_else(|p| p.into_inner());
    for (link, f) in batch.iter() {
        let mut options = vec![EnhancedPacketOption::Flags(match f.direction {
            Direction::Incoming => EPB_INBOUND,
            Direction::Outgoing => EPB_OUTBOUND,
        })];
        if let Some(q) = ann.get_mut(*link) {
            while q.front().is_some_and(|(t, _)| *t <= f.timestamp) {
                if let Some((_, text)) = q.pop_front() {
                    options.push(EnhancedPacketOption::Comment(Cow::Owned(text)));
                }
            }
        }
        let epb = EnhancedPacketBlock {
            interface_id: *link as u32,
            timestamp: f
                .timestamp
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or(Duration::ZERO),
            original_len: f.bytes.len() as u32,
            data: Cow::Borrowed(&f.bytes),
            options,
        };
        match w.png.write_pcapng_block(epb) {
            Ok(_) => {
                if let Some(c) = w.frames.get_mut(*link) {
                    *c += 1;
                }
            }
            Err(e) => {
                w.error.get_or_insert(pcap_err(e));
            }
        }
    }
    // Flushed per batch: a harness killed mid-case still leaves a readable
    // capture up to its last batch.
    if let Err(e) = w.png.get_mut().flush() {
        w.error.get_or_insert(e);
    }
}

/// The reader thread: poll all capture sockets and the stop eventfd; on each
/// wake-up drain every socket (not only the readable ones) so frames of
/// different links are written in timestamp order. Returns drops per link.
fn read_loop(shared: &Shared, sockets: &[(usize, RawPacketSocket)], stop: &OwnedFd) -> Vec<u64> {
    let mut drops = vec![0u64; shared.links.len()];
    let mut pfds: Vec<libc::pollfd> = std::iter::once(stop.as_raw_fd())
        .chain(sockets.iter().map(|(_, s)| s.as_raw_fd()))
        .map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: pfds is a valid array of pollfd.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, -1) };
        if rc < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
        let stopping = pfds[0].revents != 0;
        let mut batch = Vec::new();
        for (link, s) in sockets {
            // Errors (ENETDOWN and the like) end this socket's drain; they
            // are consumed by the read, so poll will not spin on them.
            while let Ok(Some(f)) = s.try_recv() {
                batch.push((*link, f));
            }
        }
        if !batch.is_empty() {
            let mut w = shared.writer.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(w) = w.as_mut() {
                write_frames(shared, w, &mut batch);
            }
        }
        if stopping {
            break;
        }
    }
    for (link, s) in sockets {
        if let (Some(d), Ok(n)) = (drops.get_mut(*link), s.take_drops()) {
            *d += n;
        }
    }
    drops
}
