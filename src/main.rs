use clap::Parser;
use clap::error::ErrorKind;

/// Prints errors as one line and exits with status 2 (help and version exit 0).
fn main() {
    let cli = match redqueen::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) => {
            let text = e.to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("redqueen: {} (see --help)", first.trim());
            std::process::exit(2);
        }
    };
    if let Err(e) = redqueen::cli::run(cli) {
        eprintln!("redqueen: error: {e}");
        std::process::exit(2);
    }
}
