//! Files staffctl writes for people to take away (audit exports, and later backups and code
//! files) hold staff records, so they are readable by their owner only: created with mode
//! 0600 whatever the umask, and an existing file that is overwritten loses any group and
//! other access. Devices and pipes (`-o /dev/stdout`, a FIFO) are written as they are.

use std::fs::File;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of the files staffctl writes for people.
pub const PRIVATE_FILE: u32 = 0o600;

/// Opens `path` for writing, private to its owner: created 0600, or truncated and restricted
/// to 0600 when it is an existing regular file. With `create_new`, an existing file is an
/// error instead.
pub fn create_private(path: &Path, create_new: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(PRIVATE_FILE);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn new_and_overwritten_files_are_private_to_their_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("new.csv");
        create_private(&new, false)
            .unwrap()
            .write_all(b"x")
            .unwrap();
        assert_eq!(mode(&new), 0o600);

        let old = tmp.path().join("old.csv");
        std::fs::write(&old, b"previous export").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private(&old, false).unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read(&old).unwrap(), b"");

        let err = create_private(&old, true).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn a_device_keeps_its_mode() {
        let before = mode(Path::new("/dev/null"));
        create_private(Path::new("/dev/null"), false).unwrap();
        assert_eq!(mode(Path::new("/dev/null")), before);
    }
}
