//! The `hmip6spec` command line.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hmip6spec::requirements::Role;
use hmip6spec::topology::rootless;
use hmip6spec::{capture_file, doctor, dump};

mod commands;

/// Conformance test suite for Hierarchical Mobile IPv6 (RFC 4140).
#[derive(Parser)]
#[command(name = "hmip6spec", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a pcap or pcapng capture: every layer and field of every
    /// frame, with the format rules each frame breaks marked as findings.
    Decode {
        /// The capture file (pcap or pcapng).
        file: PathBuf,
        /// One JSON object per line per frame instead of the readable dump.
        #[arg(long)]
        json: bool,
        /// Exit with status 1 when any frame has a finding.
        #[arg(long)]
        check: bool,
    },
    /// Check that this machine can run the suite (namespaces, veth,
    /// AF_PACKET, IPv6, user namespaces for rootless runs, tshark) and say
    /// what to do about anything missing. Exit status 0 when all is there.
    Doctor {
        /// Check as this user, without entering a user namespace first
        /// (shows what an unprivileged run would meet).
        #[arg(long)]
        no_reexec: bool,
    },
    /// Run cases against an IUT and write results.json, junit.xml,
    /// summary.md and report.html under reports/<run-id>/ and one capture
    /// per case under captures/<run-id>/. Exit status: 0 compliant,
    /// 1 non-compliant, 2 the run itself failed.
    Run(commands::RunArgs),
    /// List the cases (with their requirements, and whether each applies to
    /// a profile).
    List {
        #[command(flatten)]
        select: commands::SelectArgs,
        /// Show applicability for this profile.
        #[arg(long)]
        profile: Option<PathBuf>,
    },
    /// Explain a requirement ID or a case ID in words.
    Explain {
        id: String,
        #[arg(long, default_value = "cases")]
        cases: PathBuf,
    },
    /// Which requirements the cases cover, which testable ones no case
    /// covers, and which are untestable and why. Computed from the case
    /// files. Exit status 1 if a testable requirement is uncovered.
    Coverage {
        #[arg(long, default_value = "cases")]
        cases: PathBuf,
        /// Only requirements binding this role.
        #[arg(long)]
        role: Option<Role>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check case files and profiles: every error with file, line and
    /// column. Exit status 1 if there is any.
    Lint {
        /// Profiles (or case files) to check besides the cases directory.
        files: Vec<PathBuf>,
        #[arg(long, default_value = "cases")]
        cases: PathBuf,
    },
    /// Write the JSON Schemas of case and profile files (for editors).
    Schema {
        /// Where cases/schema.json goes.
        #[arg(long, default_value = "cases/schema.json")]
        cases_out: PathBuf,
        #[arg(long, default_value = "profiles/schema.json")]
        profiles_out: PathBuf,
        /// Fail (exit 1) if the files differ from what would be written.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => commands::run(args),
        Command::List { select, profile } => commands::list(&select, profile.as_deref()),
        Command::Explain { id, cases } => commands::explain(&id, &cases),
        Command::Coverage { cases, role, json } => commands::coverage(&cases, role, json),
        Command::Lint { files, cases } => commands::lint(&files, &cases),
        Command::Schema {
            cases_out,
            profiles_out,
            check,
        } => commands::schema(&cases_out, &profiles_out, check),
        Command::Decode { file, json, check } => decode(&file, json, check),
        Command::Doctor { no_reexec } => {
            if !no_reexec {
                // Without root, continue inside a user + network namespace
                // if the kernel allows it; if not, the table explains why.
                if let Err(e) = rootless::reexec_if_needed() {
                    eprintln!("hmip6spec doctor: rootless re-exec failed: {e}");
                }
            }
            let mut out = io::stdout().lock();
            if doctor::run(&mut out) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Exit status 0: decoded; 1: `--check` and some frame has findings;
/// 2: the file could not be read as a capture.
fn decode(file: &Path, json: bool, check: bool) -> ExitCode {
    let frames = match capture_file::read_capture(file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("hmip6spec decode: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut with_findings = 0usize;
    for frame in &frames {
        let decoded = dump::decode(frame);
        if decoded.as_ref().is_none_or(|d| !d.findings.is_empty()) {
            with_findings += 1;
        }
        let written = if json {
            writeln!(out, "{}", dump::frame_json(frame, decoded.as_ref()))
        } else {
            dump::write_text(&mut out, frame, decoded.as_ref()).and_then(|_| writeln!(out))
        };
        if written.is_err() {
            // A closed pipe (e.g. `| head`) is not an error of ours.
            return ExitCode::SUCCESS;
        }
    }
    if out.flush().is_err() {
        return ExitCode::SUCCESS;
    }
    if !json {
        eprintln!("{} frames, {} with findings", frames.len(), with_findings);
    }
    if check && with_findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
