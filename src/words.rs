//! The wording helpers every message goes through: counts (`plural`), cut
//! texts (`shorten`) and "did you mean" (`closest`). One definition each, so
//! a count or a suggestion reads the same in every subcommand and format.

/// `1 error`, `2 errors`, `3 launches`, `4 entries`: every count printed
/// goes through it.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        return format!("1 {word}");
    }
    format!("{n} {}", plural_of(word))
}

/// The plural of a noun, or of a phrase ending in one (`subagent file`).
fn plural_of(word: &str) -> String {
    let before_y = word.strip_suffix('y').and_then(|w| w.chars().next_back());
    match before_y {
        Some(c) if !"aeiou".contains(c) => format!("{}ies", &word[..word.len() - 1]),
        _ if word.ends_with("ch") || word.ends_with('s') => format!("{word}es"),
        _ => format!("{word}s"),
    }
}

/// A count whose phrase does not end in the counted noun: `1 session has`,
/// `2 sessions have`; `1 agent launched`, `3 agents launched`.
pub fn plural_phrase(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The text on one line (whitespace folded), cut to `max` characters with
/// an ellipsis after them.
pub fn shorten(text: &str, max: usize) -> String {
    let one = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > max {
        format!("{}…", one.chars().take(max).collect::<String>())
    } else {
        one
    }
}

/// The known word closest to `word`, if one is close enough to be what was
/// meant (Jaro–Winkler similarity above 0.8): the "did you mean" of every
/// name a user types (rule ids, workflows, agent types, fault kinds, keys).
pub fn closest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(2, "entry"), "2 entries");
        assert_eq!(plural(0, "error"), "0 errors");
        assert_eq!(plural(3, "launch"), "3 launches");
        assert_eq!(plural(2, "day"), "2 days");
        assert_eq!(plural(2, "process"), "2 processes");
        assert_eq!(plural(2, "subagent file"), "2 subagent files");
        assert_eq!(plural_phrase(1, "session has", "sessions have"), "1 session has");
        assert_eq!(plural_phrase(4, "session has", "sessions have"), "4 sessions have");
    }

    #[test]
    fn shorten_folds_whitespace_and_cuts_after_max() {
        assert_eq!(shorten("a  b\n c", 10), "a b c");
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("ééééé", 2), "éé…");
    }

    #[test]
    fn closest_suggests_only_near_words() {
        let known = ["agent-count", "approval-gate", "phase-order"];
        assert_eq!(closest("agent-cont", known), Some("agent-count"));
        assert_eq!(closest("aproval-gate", known), Some("approval-gate"));
        assert_eq!(closest("zzz", known), None);
        assert_eq!(closest("x", []), None);
    }
}
