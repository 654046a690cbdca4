//! The `redqueen` command. Everything it does is in the library; [`cli`] only parses the
//! arguments, calls the library and prints.

mod cli;

use clap::Parser;
use clap::error::ErrorKind;

/// Parses the arguments, runs the command, prints any error as one line and exits with
/// status 2, or 130/143 after SIGINT/SIGTERM (help and version exit 0).
fn main() {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) => cli::fail(&e.to_string(), " (see --help)", 2),
    };
    if let Err(e) = redqueen::interrupt::install().and_then(|()| cli::run(args)) {
        cli::fail(&e.to_string(), "", e.exit_code());
    }
}
