//! Every parser of outside input, fed arbitrary bytes and mutations of real inputs: none may
//! panic, and accepted inputs must stay within what the parser promises. A fixed budget per
//! parser keeps this in CI; `PROPTEST_CASES=N` runs more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use proptest::prelude::*;
use staffctl::fuzzing;

/// Real inputs the mutations start from.
fn seeds(dir: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seed files in {}", root.display());
    out
}

/// A seed with some bytes replaced, some removed and some inserted.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (
        0..n,
        prop::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 0..24),
    )
        .prop_map(move |(i, edits)| {
            let mut bytes = seeds[i].clone();
            for (at, byte, kind) in edits {
                let len = bytes.len().max(1);
                let at = usize::from(at) % len;
                match kind {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at.min(bytes.len()), byte),
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn import_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        fuzzing::import_csv(&bytes);
    }

    #[test]
    fn mutated_spreadsheets_never_panic(bytes in mutated(seeds("tests/fixtures/import"))) {
        fuzzing::import_csv(&bytes);
    }

    #[test]
    fn backup_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        fuzzing::backup(&bytes, None, 10_000);
        fuzzing::backup(&bytes, Some("correct horse battery staple"), 10_000);
    }

    #[test]
    fn records_of_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::record(&bytes);
    }

    #[test]
    fn every_envelope_version_tag_is_handled(version in any::<u16>(), body in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = version.to_be_bytes().to_vec();
        bytes.extend(body);
        fuzzing::record(&bytes);
    }

    #[test]
    fn keymaps_never_panic(bytes in mutated(seeds("keymaps"))) {
        fuzzing::keymap(&bytes);
    }

    #[test]
    fn typed_codes_come_out_canonical(text in "\\PC{0,64}") {
        let code = fuzzing::code(text.as_bytes());
        prop_assert!(!code.chars().any(char::is_control), "control character in {code:?}");
        prop_assert_eq!(fuzzing::code(code.as_bytes()), code.clone(), "normalising twice changes {:?}", code);
    }
}

/// Truthful inputs are accepted: the generators above are not only exercising refusal paths.
#[test]
fn real_inputs_are_accepted() {
    for keymap in seeds("keymaps") {
        assert!(fuzzing::keymap(&keymap));
    }
    let accepted = seeds("tests/fixtures/import")
        .iter()
        .filter(|b| fuzzing::import_csv(b))
        .count();
    assert!(accepted >= 3, "only {accepted} import fixtures parsed");
}
