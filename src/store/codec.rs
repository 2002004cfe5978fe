//! The versioned value envelope: `[schema version: u16 big-endian][bincode payload]`.
//!
//! bincode is not self-describing, so a record written by an older release can only be read if
//! we know which layout it used. Every record type names its current version and how to read
//! older ones ([`Record::upgrade`]).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::AuditEvent;
use crate::model::{Credential, Device, Facility, Invite, Practice, Role, User};

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

record!(Practice, 1, "practice");
record!(Facility, 1, "facility");
record!(Role, 1, "role");
record!(User, 1, "user");
record!(Credential, 1, "credential");
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

/// Decodes a record from its envelope, upgrading older layouts.
pub fn decode<T: Record>(bytes: &[u8]) -> Result<T, String> {
    let (head, payload) = bytes
        .split_first_chunk::<2>()
        .ok_or_else(|| format!("{} record is truncated ({} bytes)", T::KIND, bytes.len()))?;
    let version = u16::from_be_bytes(*head);
    if version == T::VERSION {
        let (value, used) = bincode::serde::decode_from_slice(payload, config())
            .map_err(|e| format!("{} record does not decode: {e}", T::KIND))?;
        if used != payload.len() {
            return Err(format!(
                "{} record has {} trailing bytes",
                T::KIND,
                payload.len() - used
            ));
        }
        Ok(value)
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
    fn round_trip_and_corruption() {
        let p = Practice::new(
            "Clinic".into(),
            "o@c.example".into(),
            jiff::Timestamp::UNIX_EPOCH,
        );
        let bytes = encode(&p).unwrap();
        assert_eq!(&bytes[..2], &[0, 1]);
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
        assert!(
            decode::<Practice>(&older)
                .unwrap_err()
                .contains("does not know")
        );
    }
}
