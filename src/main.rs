//! The `breadcrumb` command line: parse, dispatch to `cli::<command>`, map the outcome to an
//! exit code (0 success, 1 a negative answer such as a failed check, 2 an error).
// Output goes through `out!`/`outln!`, which do not panic when stdout's reader has gone.
#![deny(clippy::print_stdout)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging();
    // GDAL's own warnings (odd metadata, a reprojection's caveats) go through `tracing` like
    // everything else, for every command that opens a raster.
    breadcrumb_tools::terrain::raster_io::gdal_messages_to_tracing();
    match cli::run(args) {
        Ok(status) => status.into(),
        // `| head`: the reader took what it wanted; nothing is wrong.
        Err(err) if cli::out::reader_gone(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // One line (causes joined by `: `) so that scripts and people both read it.
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            cli::ExitStatus::Error.into()
        }
    }
}
