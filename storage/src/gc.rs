//! Garbage collection of files no commit references: segments of aborted loads, files
//! replaced by a rebuild, and `*.tmp` files left by a crash in the middle of `write_atomic`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};
use crate::fs::FileSystem;

/// Removes every file under `dir` (recursively) whose path is not in `referenced`, and every
/// `*.tmp` file, referenced or not. Directories are kept. Returns the removed paths.
///
/// Paths are compared as built by joining names onto `dir`, so `referenced` must be built the
/// same way (e.g. `store.join("segments").join(table).join("1.arrow")` with
/// `dir = store.join("segments")`). Stops at the first error.
pub fn remove_unreferenced(
    fs: &dyn FileSystem,
    dir: &Path,
    referenced: &HashSet<PathBuf>,
) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs
            .list_dir(&dir)
            .map_err(|err| StorageError::io(&dir, err))?;
        for path in entries {
            if fs.is_dir(&path) {
                pending.push(path);
            } else if is_temporary(&path) || !referenced.contains(&path) {
                fs.remove_file(&path)
                    .map_err(|err| StorageError::io(&path, err))?;
                removed.push(path);
            }
        }
    }
    Ok(removed)
}

fn is_temporary(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "tmp")
}
