//! `hmip6-ref`: the reference IUTs' command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use hmip6_ref::faults::{self, MAP_FAULTS};
use hmip6_ref::map::config::{MapArgs, MapConfig};
use hmip6_ref::map::daemon;

#[derive(Parser)]
#[command(
    name = "hmip6-ref",
    version,
    about = "Reference HMIPv6 (RFC 4140) nodes for hmip6spec, with switchable faults"
)]
struct Cli {
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Run a Mobility Anchor Point.
    Map(MapArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.role {
        Role::Map(args) => {
            if args.common.list_faults {
                print!("{}", faults::listing(MAP_FAULTS));
                return ExitCode::SUCCESS;
            }
            let cfg = match MapConfig::from_args(&args) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("hmip6-ref map: {e}");
                    return ExitCode::from(2);
                }
            };
            match daemon::run(cfg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hmip6-ref map: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
