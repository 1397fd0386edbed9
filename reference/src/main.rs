//! `hmip6-ref`: the reference IUTs' command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use hmip6_ref::ar::config::{ArArgs, ArConfig};
use hmip6_ref::config::ConfigError;
use hmip6_ref::faults::{self, FaultSpec, AR_FAULTS, MAP_FAULTS, MN_FAULTS};
use hmip6_ref::map::config::{MapArgs, MapConfig};
use hmip6_ref::mn::config::{MnArgs, MnConfig};

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
    /// Run an Access Router.
    Ar(ArArgs),
    /// Run an HMIPv6-aware mobile node.
    Mn(MnArgs),
    /// Send one command to a running daemon's control socket and print the
    /// answer (exit 1 when it is an error, 2 when the daemon is unreachable).
    /// This is what profiles' actions run, e.g.
    /// `hmip6-ref ctl @hmip6-ref-mn echo 2001:db8::1`.
    Ctl(CtlArgs),
}

#[derive(clap::Args)]
struct CtlArgs {
    /// The daemon's `--control` socket: a path, or `@NAME` for an abstract
    /// socket of the current network namespace.
    socket: std::path::PathBuf,
    /// The command and its arguments (`bindings`, `echo DST`, ...).
    #[arg(required = true, num_args = 1.., trailing_var_arg = true)]
    command: Vec<String>,
}

fn ctl(args: &CtlArgs) -> ExitCode {
    let command = args.command.join(" ");
    match hmip6_ref::control::request(&args.socket, &command) {
        Ok(answer) => {
            print!("{answer}");
            if answer.is_empty() || answer.starts_with("error") {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("hmip6-ref ctl: {}: {e}", args.socket.display());
            ExitCode::from(2)
        }
    }
}

/// `--list-faults`, else check the configuration (exit 2 on an error) and
/// run the daemon (exit 1 if it cannot start).
fn serve<C>(
    role: &str,
    list_faults: bool,
    table: &[FaultSpec],
    config: impl FnOnce() -> Result<C, ConfigError>,
    run: impl FnOnce(C) -> Result<(), String>,
) -> ExitCode {
    if list_faults {
        print!("{}", faults::listing(table));
        return ExitCode::SUCCESS;
    }
    let cfg = match config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hmip6-ref {role}: {e}");
            return ExitCode::from(2);
        }
    };
    match run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hmip6-ref {role}: {e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().role {
        Role::Map(args) => serve(
            "map",
            args.common.daemon.list_faults,
            MAP_FAULTS,
            || MapConfig::from_args(&args),
            hmip6_ref::map::daemon::run,
        ),
        Role::Ar(args) => serve(
            "ar",
            args.common.daemon.list_faults,
            AR_FAULTS,
            || ArConfig::from_args(&args),
            hmip6_ref::ar::daemon::run,
        ),
        Role::Mn(args) => serve(
            "mn",
            args.daemon.list_faults,
            MN_FAULTS,
            || MnConfig::from_args(&args),
            hmip6_ref::mn::daemon::run,
        ),
        Role::Ctl(args) => ctl(&args),
    }
}
