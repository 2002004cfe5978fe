//! Turning a spreadsheet export's bytes into text, as files really come: UTF-8 with or without a
//! byte-order mark, UTF-16 from Excel's "Unicode text", or Windows-1252 (Latin-1) from older
//! exports. A workbook or another binary file is named, never read as mojibake.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The text of a file and the encoding it was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The file's text.
    pub text: String,
    /// The encoding's name (`UTF-8`, `UTF-16LE`, `windows-1252`).
    pub encoding: &'static str,
}

/// Reads `bytes` as text, or says what the file is instead.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(
            "this is a spreadsheet workbook (.xlsx or .ods), not a CSV file; in the spreadsheet choose File > Save As > CSV (comma delimited) and import that".into(),
        );
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(
            "this is an old Excel workbook (.xls), not a CSV file; save it as CSV (comma delimited) and import that".into(),
        );
    }
    if bytes.starts_with(b"%PDF") {
        return Err("this is a PDF document, not a CSV file".into());
    }
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return whole(encoding, &bytes[bom..]);
    }
    // UTF-16 without a byte-order mark: every other byte is zero in mostly-ASCII text.
    let sample = &bytes[..bytes.len().min(4096)];
    let zeros_even = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let zeros_odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|b| **b == 0)
        .count();
    let half = sample.len() / 2;
    if half > 0 && zeros_odd * 10 > half * 8 && zeros_even == 0 {
        return whole(UTF_16LE, bytes);
    }
    if half > 0 && zeros_even * 10 > half * 8 && zeros_odd == 0 {
        return whole(UTF_16BE, bytes);
    }
    if bytes.contains(&0) {
        return Err("this file holds binary data, not text; export the staff list as CSV".into());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: text.to_string(),
            encoding: UTF_8.name(),
        });
    }
    // Not UTF-8: the Windows code page spreadsheets on Windows save in, when every byte is a
    // character there (C1 control bytes would mean it is something else).
    let c1 = bytes
        .iter()
        .any(|b| matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D));
    if c1 {
        return Err(
            "this file is neither UTF-8 nor Windows-1252 text; save it from the spreadsheet as \"CSV UTF-8\"".into(),
        );
    }
    whole(WINDOWS_1252, bytes)
}

fn whole(encoding: &'static Encoding, bytes: &[u8]) -> Result<Decoded, String> {
    let (text, malformed) = encoding.decode_without_bom_handling(bytes);
    if malformed {
        return Err(format!(
            "this file is not valid {} text (some bytes do not decode); save it from the spreadsheet as \"CSV UTF-8\"",
            encoding.name()
        ));
    }
    Ok(Decoded {
        text: text.into_owned(),
        encoding: encoding.name(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("Zoë,x".as_bytes()).unwrap().text, "Zoë,x");
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("Zoë".as_bytes());
        let d = decode(&bom).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("Zoë", "UTF-8"));
    }

    #[test]
    fn utf16_from_excel_unicode_text() {
        let text = "First Name\tEmail\r\nZoë\tz@x.example\r\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&le).unwrap().text, text);
        let no_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&no_bom).unwrap().encoding, "UTF-16LE");
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&be).unwrap().text, text);
    }

    #[test]
    fn windows_1252_is_converted_not_mangled() {
        // "Zoë Müller" as Windows-1252.
        let bytes = b"Zo\xEB M\xFCller,\x80";
        let d = decode(bytes).unwrap();
        assert_eq!(d.text, "Zoë Müller,€");
        assert_eq!(d.encoding, "windows-1252");
    }

    #[test]
    fn workbooks_and_binaries_are_named() {
        assert!(decode(b"PK\x03\x04rest").unwrap_err().contains(".xlsx"));
        assert!(
            decode(&[0xD0, 0xCF, 0x11, 0xE0, 1, 2])
                .unwrap_err()
                .contains(".xls")
        );
        assert!(
            decode(b"abc\0\x01\x02def\x00\x00x")
                .unwrap_err()
                .contains("binary")
        );
        assert!(
            decode(b"\x81\x8d\x8f")
                .unwrap_err()
                .contains("neither UTF-8")
        );
    }
}
