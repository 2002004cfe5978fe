//! Entry points for fuzzing and property tests: one function per parser of outside input, each
//! taking raw bytes and returning only whether the input was accepted. They call the parsers
//! exactly as staffctl does and change nothing; not a stable API.

use std::io::BufReader;

use crate::audit::AuditEvent;
use crate::model::{Credential, Device, Facility, Invite, Practice, Role, User};
use crate::service::backup::Passphrase;
use crate::service::backup::archive;
use crate::service::backup::format::BodyReader;
use crate::store::codec;

/// A CSV import file: decoding (encoding, workbook detection) and the sheet parser.
pub fn import_csv(bytes: &[u8]) -> bool {
    match crate::service::import::decode::decode(bytes) {
        Ok(decoded) => crate::service::import::sheet::parse(&decoded.text).is_ok(),
        Err(_) => false,
    }
}

/// A backup file: header, then the body (decrypted with `passphrase` when the header says it is
/// encrypted), read line by line to the checked end line. Stops after `max_lines` lines.
pub fn backup(bytes: &[u8], passphrase: Option<&str>, max_lines: usize) -> bool {
    let mut input = BufReader::new(bytes);
    let Ok(header) = archive::read_header(&mut input) else {
        return false;
    };
    let pass = passphrase.and_then(|p| Passphrase::new(p).ok());
    let Ok(body) = archive::body_reader(input, &header, pass.as_ref()) else {
        return false;
    };
    let mut reader = BodyReader::new(body);
    for _ in 0..max_lines {
        match reader.next_line() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
    false
}

/// A stored record's bytes decoded as every record type (every envelope version each accepts,
/// legacy layouts included); how many types accepted them.
pub fn record(bytes: &[u8]) -> usize {
    [
        codec::decode::<Facility>(bytes).is_ok(),
        codec::decode::<Role>(bytes).is_ok(),
        codec::decode::<Practice>(bytes).is_ok(),
        codec::decode::<User>(bytes).is_ok(),
        codec::decode::<Credential>(bytes).is_ok(),
        codec::decode::<Invite>(bytes).is_ok(),
        codec::decode::<Device>(bytes).is_ok(),
        codec::decode::<AuditEvent>(bytes).is_ok(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

/// A keymap file's text, as `staffctl` checks a user's keymap.
pub fn keymap(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    crate::tui::keymap::Keymap::check_text("fuzz", &text).is_empty()
}

/// A typed activation (or reset) code: its canonical form.
pub fn code(bytes: &[u8]) -> String {
    crate::security::code::normalise(&String::from_utf8_lossy(bytes))
}
