//! The command palette's search: every action the operator may run, found by name or words.

use super::*;

/// Actions the operator may run whose name or description fuzzily matches `query`, best first.
pub fn palette_matches(query: &str, authority: &Authority) -> Vec<Action> {
    use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
    use nucleo_matcher::{Config, Matcher};
    let palette: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| {
            // Keys of forms, questions and inputs answer what is on screen: not commands.
            !["form.", "confirm.", "input."]
                .iter()
                .any(|p| a.name().starts_with(p))
                && authority.allows(*a)
        })
        .collect();
    if query.trim().is_empty() {
        return palette;
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, Action)> = palette
        .iter()
        .filter_map(|a| {
            let text = format!("{} {}", a.name(), a.doc());
            pattern
                .score(nucleo_matcher::Utf32Str::new(&text, &mut buf), &mut matcher)
                .map(|s| (s, *a))
        })
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().map(|(_, a)| a).collect()
}
