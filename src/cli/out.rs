//! Everything the commands print on stdout goes through [`out!`] and [`outln!`], which return
//! the write error instead of panicking as `print!` does: `breadcrumb tools schema | head -1`
//! closes the pipe after one line, and the next write then fails with `BrokenPipe` (Rust ignores
//! SIGPIPE). `main` ends such a run quietly with exit 0, like other well-behaved filters; any
//! other failed write (a full disk behind a redirect) is an ordinary error.
//!
//! `clippy::print_stdout` is denied for the crate, so a `println!` cannot creep back in.

use std::io::Write as _;

/// Prints to stdout like `print!`; evaluates to `Result<(), StdoutError>`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!($($arg)*))
    };
}

/// Prints a line to stdout like `println!`; evaluates to `Result<(), StdoutError>`.
macro_rules! outln {
    () => {
        $crate::cli::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// A write to stdout that failed.
#[derive(Debug)]
pub struct StdoutError(std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Writes `args` to stdout (what the macros expand to).
pub fn write(args: std::fmt::Arguments<'_>) -> Result<(), StdoutError> {
    std::io::stdout().lock().write_fmt(args).map_err(StdoutError)
}

/// Whether `err` is stdout's reader having gone away (`| head`), which is no error of ours.
pub fn reader_gone(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<StdoutError>()
            .is_some_and(|e| e.0.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_broken_pipe_counts_as_the_reader_gone() {
        let gone = |kind| std::io::Error::new(kind, "x");
        let broken = anyhow::Error::new(StdoutError(gone(std::io::ErrorKind::BrokenPipe)));
        assert!(reader_gone(&broken));
        assert!(reader_gone(&broken.context("printing the table")));
        let full = anyhow::Error::new(StdoutError(gone(std::io::ErrorKind::StorageFull)));
        assert!(!reader_gone(&full));
        assert!(full.to_string().starts_with("cannot write to stdout"), "{full}");
        // A broken pipe elsewhere (a child process, a socket) is a real error.
        assert!(!reader_gone(&anyhow::Error::new(gone(std::io::ErrorKind::BrokenPipe))));
    }
}
