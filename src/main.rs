use clap::Parser;

fn main() {
    let cli = redqueen::cli::Cli::parse();
    if let Err(e) = redqueen::cli::run(cli) {
        eprintln!("redqueen: error: {e}");
        std::process::exit(2);
    }
}
