//! The `breadcrumb` command line: parse, dispatch to `cli::<command>`, map the outcome to an
//! exit code (0 success, 1 a negative answer such as a failed check, 2 an error).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging();
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            // One line: what is wrong, with its causes joined, so scripts and people both read it.
            let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
            let mut line = String::from("error: ");
            for (i, part) in chain.iter().enumerate() {
                if i > 0 && !chain[i - 1].contains(part.as_str()) {
                    line.push_str(": ");
                    line.push_str(part);
                } else if i == 0 {
                    line.push_str(part);
                }
            }
            eprintln!("{}", line.replace('\n', " "));
            cli::ExitStatus::Error.into()
        }
    }
}
