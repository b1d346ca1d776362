//! Files that hold key material or state: created with mode 0600 before
//! their first byte is written (the data dir's `emulator.db` and `root.key`,
//! the fixture key `healthcheck`/`print-config` write).

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

/// Creates `path` empty with mode 0600 if it does not exist yet, before any
/// secret byte is written to it. Existing files are left as they are.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// Writes `contents` to a new or truncated file created with mode 0600.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    create_private_file(path)?;
    let mut file = OpenOptions::new().write(true).truncate(true).open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
