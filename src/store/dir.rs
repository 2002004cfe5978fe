//! Who may read the data directory.
//!
//! The store holds password hashes and every staff member's record, so only its owner (and,
//! where the practice shares it through the service group, that group) may read it:
//!
//! - a directory this user owns is set to 0700 and everything in it to 0600 (directories 0700)
//!   on open, whatever the umask or `mkdir` left; when the directory's group is the service
//!   group `staffctl` and it already gives that group access, 02770 and 0660 instead (setgid,
//!   so files keep the group);
//! - a directory someone else owns is used only when it is shared that way and closed to
//!   other accounts; otherwise the open is refused with the command that fixes it. (Opening
//!   another account's store would also leave files it cannot read, such as sled's snapshot.)
//!
//! Files staffctl writes itself (the lock, the head file, the reserve) are created with the
//! mode from the start; those sled creates are fixed right after it opens.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// The group of `staffctl serve`'s account, whose members may share a data directory.
pub const SERVICE_GROUP: &str = "staffctl";

/// Modes for the data directory and what is inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    /// Directories.
    pub dir: u32,
    /// Files.
    pub file: u32,
}

impl Modes {
    /// Only the owner.
    pub const PRIVATE: Modes = Modes {
        dir: 0o700,
        file: 0o600,
    };
    /// The owner and the service group.
    pub const SHARED: Modes = Modes {
        dir: 0o2770,
        file: 0o660,
    };
}

/// Checks the data directory before the store opens (creating it, 0700, when missing and
/// `create`), tightens its own mode when this user owns it, and returns the modes for its
/// contents.
pub fn prepare(dir: &Path, create: bool) -> Result<Modes> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !create {
                return Err(Error::NotFound(format!(
                    "no store at {}; run `staffctl init` or pass --data DIR",
                    dir.display()
                )));
            }
            return create_private(dir).map(|()| Modes::PRIVATE);
        }
        Err(e) => {
            return Err(Error::Storage(format!(
                "cannot use data directory {}: {e}",
                dir.display()
            )));
        }
    };
    if !meta.is_dir() {
        return Err(Error::Storage(format!(
            "{} is not a directory; pass --data DIR with a directory for the store",
            dir.display()
        )));
    }
    let mode = meta.mode() & 0o7777;
    let service_gid = nix::unistd::Group::from_name(SERVICE_GROUP)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw());
    let shared = service_gid == Some(meta.gid()) && mode & 0o070 != 0;
    let modes = if shared {
        Modes::SHARED
    } else {
        Modes::PRIVATE
    };
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() == me {
        if mode != modes.dir {
            set_mode(dir, modes.dir).map_err(|e| {
                Error::Storage(format!(
                    "cannot restrict data directory {} to mode {:o}: {e}; run `chmod {:o} {}`",
                    dir.display(),
                    modes.dir,
                    modes.dir & 0o777,
                    dir.display()
                ))
            })?;
        }
        return Ok(modes);
    }
    let owner = user_name(meta.uid());
    if mode & 0o007 != 0 {
        return Err(Error::Storage(format!(
            "data directory {} is open to every local account (mode {:o}, owner {owner}); staffctl will not use it until its owner runs `chmod {:o} {}`",
            dir.display(),
            mode & 0o777,
            modes.dir & 0o777,
            dir.display()
        )));
    }
    if !shared {
        return Err(Error::Storage(format!(
            "data directory {} belongs to {owner}, not to {}; run staffctl as {owner} (e.g. `sudo -u {owner} staffctl ...`), or start `staffctl serve` as {owner} and work through it",
            dir.display(),
            user_name(me)
        )));
    }
    Ok(modes)
}

/// After the store has opened: gives everything this user owns under `dir` the modes
/// (sockets and symbolic links keep theirs). Problems are reported as notices: the
/// directory's own mode already keeps other accounts out.
pub fn tighten(dir: &Path, modes: Modes) {
    let me = nix::unistd::geteuid().as_raw();
    if let Err(e) = tighten_in(dir, modes, me, 0) {
        crate::notice::emit(&format!(
            "cannot restrict the files in {} to mode {:o}: {e}",
            dir.display(),
            modes.file
        ));
    }
}

fn tighten_in(dir: &Path, modes: Modes, me: u32, depth: usize) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = match entry.path().symlink_metadata() {
            Ok(meta) => meta,
            // Removed since the directory was read (sled's snapshots come and go).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.uid() != me {
            continue;
        }
        let kind = meta.file_type();
        let want = if kind.is_dir() {
            modes.dir
        } else if kind.is_file() {
            modes.file
        } else {
            continue;
        };
        if meta.mode() & 0o7777 != want {
            set_mode(&entry.path(), want)?;
        }
        if kind.is_dir() && depth < 3 {
            tighten_in(&entry.path(), modes, me, depth + 1)?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Creates `dir` (and missing parents) with mode 0700 exactly, whatever the umask.
fn create_private(dir: &Path) -> Result<()> {
    let failed = |e: std::io::Error| {
        Error::Storage(format!(
            "cannot create data directory {}: {e}",
            dir.display()
        ))
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(failed)?;
    set_mode(dir, Modes::PRIVATE.dir).map_err(failed)
}

fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => crate::security::sanitize::for_terminal(&u.name).into_owned(),
        _ => format!("uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn an_open_directory_of_ours_is_closed_with_what_is_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir_all(dir.join("db/blobs")).unwrap();
        for (path, m) in [("", 0o755), ("db", 0o755), ("db/blobs", 0o777)] {
            set_mode(&dir.join(path), m).unwrap();
        }
        std::fs::write(dir.join("db/db"), b"log").unwrap();
        set_mode(&dir.join("db/db"), 0o644).unwrap();
        let sock = std::os::unix::net::UnixListener::bind(dir.join("s.sock")).unwrap();
        set_mode(&dir.join("s.sock"), 0o660).unwrap();

        let modes = prepare(&dir, false).unwrap();
        // (The test's group is not the service group.)
        assert_eq!(modes, Modes::PRIVATE);
        assert_eq!(mode(&dir), 0o700);
        tighten(&dir, modes);
        assert_eq!(mode(&dir.join("db")), 0o700);
        assert_eq!(mode(&dir.join("db/blobs")), 0o700);
        assert_eq!(mode(&dir.join("db/db")), 0o600);
        // A socket keeps the mode its server gave it.
        assert_eq!(mode(&dir.join("s.sock")), 0o660);
        drop(sock);
    }

    #[test]
    fn a_missing_directory_is_created_private_whatever_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/data");
        assert!(matches!(prepare(&dir, false), Err(Error::NotFound(_))));
        assert_eq!(prepare(&dir, true).unwrap(), Modes::PRIVATE);
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("data");
        std::fs::write(&file, b"").unwrap();
        let err = prepare(&file, true).unwrap_err().to_string();
        assert!(err.contains("is not a directory"), "{err}");
    }
}
