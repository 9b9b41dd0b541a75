//! Where the harness may write: folders under a results root, reached by plain names
//! only and never through a symbolic link, so that neither a name from a sweep file
//! nor a link planted in the results folder sends a checkpoint or a figure elsewhere.
//! It creates folders and resolves the artifact paths the store records; it writes no
//! file.

use anyhow::{bail, Context, Result};
use std::path::{Component, Path, PathBuf};

/// `root/relative`, created with every folder on the way. `relative` must be plain
/// names (no `..`, no root, no prefix), and no folder below `root` may be a symbolic
/// link: both are errors naming the path, before anything is written.
pub fn dir_under(root: &Path, relative: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(root)
        .with_context(|| format!("creating the results folder {}", root.display()))?;
    let mut path = root.to_path_buf();
    for part in relative.components() {
        let Component::Normal(name) = part else {
            bail!(
                "{} would leave the results folder {}: only plain folder names are written below it",
                relative.display(),
                root.display()
            );
        };
        path.push(name);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => bail!(
                "{} is a symbolic link: anolab does not write through links in its results folder {} (remove it, or give another folder)",
                path.display(),
                root.display()
            ),
            Ok(meta) if !meta.is_dir() => {
                bail!("{} exists and is not a folder", path.display())
            }
            Ok(_) => {}
            Err(_) => std::fs::create_dir(&path)
                .with_context(|| format!("creating the folder {}", path.display()))?,
        }
    }
    Ok(path)
}

/// The file an `artifacts` row names, on this machine: runs record their files relative
/// to the artifacts root (`runs/<key>/model.safetensors`), so that every machine that
/// mounts the root reads them wherever it mounts it. Absolute paths (stores written
/// before) are kept; so is an older path relative to the working folder that exists.
pub fn artifact(root: &Path, recorded: &str) -> PathBuf {
    let recorded = Path::new(recorded);
    let under_root = root.join(recorded);
    if under_root.exists() || !recorded.exists() {
        under_root
    } else {
        recorded.to_path_buf()
    }
}
