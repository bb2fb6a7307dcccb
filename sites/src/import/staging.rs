//! All-or-nothing output: a bundle is written into a hidden sibling directory and renamed onto
//! its final name only once every file is complete. A rename within one directory is atomic,
//! so a reader sees the old bundle or the new one, never a mixture or a half-written file.

use std::path::{Path, PathBuf};

use breadcrumb_tools::error::{Result, ToolsError};

/// Refuses an output that is a file, or a non-empty directory unless `force`.
pub(crate) fn check_target(out: &Path, force: bool) -> Result<()> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(ToolsError::Invalid {
            path: out.to_path_buf(),
            reason: "exists and is not a directory".into(),
        });
    }
    let non_empty = std::fs::read_dir(out).map_err(|e| ToolsError::io(out, e))?.next().is_some();
    if non_empty && !force {
        return Err(ToolsError::Invalid {
            path: out.to_path_buf(),
            reason: "directory is not empty; pass --force to replace it".into(),
        });
    }
    Ok(())
}

/// A hidden staging directory beside the output; removed on drop unless committed.
pub(crate) struct Staging {
    dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

/// `.NAME.SUFFIX-PID` beside `out`.
fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!(".{name}.{suffix}-{}", std::process::id()))
}

impl Staging {
    /// Creates the staging directory (and the output's parent directories).
    pub fn new(out: &Path) -> Result<Self> {
        if out.file_name().is_none() {
            return Err(ToolsError::Argument(format!(
                "{}: give the bundle directory a name",
                out.display()
            )));
        }
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| ToolsError::io(parent, e))?;
        }
        let dir = sibling(out, "import");
        if dir.exists() {
            // Left by a crashed run of this same process id; nothing else writes there.
            std::fs::remove_dir_all(&dir).map_err(|e| ToolsError::io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| ToolsError::io(&dir, e))?;
        Ok(Staging { dir, out: out.to_path_buf(), committed: false })
    }

    /// The staging directory to write into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Moves the staged bundle onto the output, replacing an existing directory (which
    /// [`check_target`] has allowed).
    pub fn commit(mut self, force: bool) -> Result<()> {
        check_target(&self.out, force)?;
        let old = if self.out.exists() {
            let old = sibling(&self.out, "replaced");
            std::fs::rename(&self.out, &old).map_err(|e| ToolsError::io(&self.out, e))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.dir, &self.out) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &self.out);
            }
            return Err(ToolsError::io(&self.out, e));
        }
        self.committed = true;
        if let Some(old) = old {
            std::fs::remove_dir_all(&old).map_err(|e| ToolsError::io(&old, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
