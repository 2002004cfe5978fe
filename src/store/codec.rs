//! The versioned value envelope: `[schema version: u16 big-endian][bincode payload]`.
//!
//! bincode is not self-describing, so a record written by an older release can only be read if
//! we know which layout it used. Every record type names its current version and how to read
//! older ones ([`Record::upgrade`]).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::AuditEvent;
use crate::model::{Credential, Device, Facility, Invite, Practice, Role, User, legacy};

/// A type stored as a value in the store.
pub trait Record: Serialize + DeserializeOwned {
    /// Layout version written today.
    const VERSION: u16;
    /// What the record is, for error messages.
    const KIND: &'static str;

    /// Reads a payload written with an older `version`. The default knows no older layouts;
    /// when a layout changes, keep the old struct and convert it here.
    fn upgrade(version: u16, _payload: &[u8]) -> Result<Self, String> {
        Err(format!(
            "{} record has layout version {version}, which this staffctl does not know (it reads {}); upgrade staffctl",
            Self::KIND,
            Self::VERSION
        ))
    }
}

macro_rules! record {
    ($t:ty, $v:expr, $k:expr) => {
        impl Record for $t {
            const VERSION: u16 = $v;
            const KIND: &'static str = $k;
        }
    };
}

record!(Facility, 1, "facility");
record!(Role, 1, "role");

/// Declares a record whose current layout replaced older ones: each older version is decoded
/// as its legacy struct and converted with `into_current`.
macro_rules! upgraded_record {
    ($t:ty, $v:expr, $k:expr, $($old:expr => $legacy:ty),+) => {
        impl Record for $t {
            const VERSION: u16 = $v;
            const KIND: &'static str = $k;

            fn upgrade(version: u16, payload: &[u8]) -> Result<Self, String> {
                match version {
                    $($old => decode_payload::<$legacy>(payload, $k).map(<$legacy>::into_current),)+
                    other => Err(format!(
                        "{} record has layout version {other}, which this staffctl does not know (it reads {}); upgrade staffctl",
                        $k, $v
                    )),
                }
            }
        }
    };
}

upgraded_record!(Practice, 2, "practice", 1 => legacy::PracticeV1);
upgraded_record!(User, 2, "user", 1 => legacy::UserV1);
upgraded_record!(Credential, 2, "credential", 1 => legacy::CredentialV1);
record!(Invite, 1, "invite");
record!(Device, 1, "device");
record!(AuditEvent, 1, "audit event");

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes a record in its envelope.
pub fn encode<T: Record>(value: &T) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&T::VERSION.to_be_bytes());
    bincode::serde::encode_into_std_write(value, &mut out, config())
        .map_err(|e| format!("could not encode {}: {e}", T::KIND))?;
    Ok(out)
}

/// Decodes a bincode payload that must fill `payload` exactly.
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8], kind: &str) -> Result<T, String> {
    let (value, used) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|e| format!("{kind} record does not decode: {e}"))?;
    if used != payload.len() {
        return Err(format!(
            "{kind} record has {} trailing bytes",
            payload.len() - used
        ));
    }
    Ok(value)
}

/// The layout version of an encoded record, when it has one.
pub fn version_of(bytes: &[u8]) -> Option<u16> {
    bytes
        .split_first_chunk::<2>()
        .map(|(h, _)| u16::from_be_bytes(*h))
}

/// Decodes a record from its envelope, upgrading older layouts.
pub fn decode<T: Record>(bytes: &[u8]) -> Result<T, String> {
    let (head, payload) = bytes
        .split_first_chunk::<2>()
        .ok_or_else(|| format!("{} record is truncated ({} bytes)", T::KIND, bytes.len()))?;
    let version = u16::from_be_bytes(*head);
    if version == T::VERSION {
        decode_payload(payload, T::KIND)
    } else if version < T::VERSION {
        T::upgrade(version, payload)
    } else {
        Err(format!(
            "{} record was written by a newer staffctl (layout {version}, this one reads up to {}); upgrade staffctl",
            T::KIND,
            T::VERSION
        ))
    }
}

/// Decodes a `T` record in its current layout as `V`, a type with the same serde layout whose
/// strings borrow from `bytes` (`audit::event::EventView` for `AuditEvent`), so nothing is copied.
/// `None` when the record has another layout version or does not decode: then [`decode`] it,
/// which upgrades an older layout or says exactly what is wrong.
pub fn decode_borrowed<'a, T: Record, V: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Option<V> {
    let (head, payload) = bytes.split_first_chunk::<2>()?;
    if u16::from_be_bytes(*head) != T::VERSION {
        return None;
    }
    match bincode::serde::borrow_decode_from_slice(payload, config()) {
        Ok((value, used)) if used == payload.len() => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_user_and_practice_upgrade() {
        let now = jiff::Timestamp::UNIX_EPOCH;
        let old = legacy::PracticeV1 {
            name: "Clinic".into(),
            email: "o@c.example".into(),
            invite_expiry_hours: 1,
            invite_cooldown_minutes: 2,
            lockout_threshold: 3,
            lockout_window_minutes: 4,
            lockout_duration_minutes: 5,
            idle_timeout_minutes: 6,
            password_min_length: 17,
            mail_command: Some("/usr/sbin/sendmail -t".into()),
            device_approval: true,
            revision: 9,
            updated_at: now,
        };
        let mut bytes = vec![0, 1];
        bincode::serde::encode_into_std_write(&old, &mut bytes, config()).unwrap();
        let p: Practice = decode(&bytes).unwrap();
        assert_eq!(p.password_min_length, 17);
        assert!(p.device_approval);
        assert_eq!(p.time_zone, None);
        assert_eq!(p.revision, 9);
        assert!(decode::<Practice>(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn round_trip_and_corruption() {
        let p = Practice::new(
            "Clinic".into(),
            "o@c.example".into(),
            jiff::Timestamp::UNIX_EPOCH,
        );
        let bytes = encode(&p).unwrap();
        assert_eq!(&bytes[..2], &[0, 2]);
        assert_eq!(decode::<Practice>(&bytes).unwrap(), p);
        assert!(
            decode::<Practice>(&bytes[..1])
                .unwrap_err()
                .contains("truncated")
        );
        assert!(decode::<Practice>(&bytes[..bytes.len() - 3]).is_err());
        let mut newer = bytes.clone();
        newer[1] = 9;
        assert!(
            decode::<Practice>(&newer)
                .unwrap_err()
                .contains("newer staffctl")
        );
        let mut older = bytes;
        older[1] = 0;
        // Layout 0 never existed.
        assert!(
            decode::<Practice>(&older)
                .unwrap_err()
                .contains("does not know")
        );
    }
}
