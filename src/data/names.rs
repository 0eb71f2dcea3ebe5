//! Neuron identities across sources: one spelling per neuron, and the neurons animals share.
//!
//! Normalisation: trim, drop trailing '?' (uncertain identifications), upper-case, and zero-pad
//! the ventral-cord motor neuron classes to two digits as in WormBase/Kato (VB1 ≡ VB01).
//! A name that is only a number (Kato's unidentified ROIs) is no identity at all, nor is text
//! that is not one name ("Unknown Cell", "---", "SMDVR, SAAVR").

use std::collections::BTreeSet;

use super::Recording;

/// Motor-neuron classes whose members are numbered with two digits (VB01, DA09, AS11).
const PADDED_CLASSES: &[&str] = &["AS", "DA", "DB", "DD", "VA", "VB", "VC", "VD"];

/// The canonical spelling of a neuron name, or `None` for an unidentified (numeric/empty) one.
pub fn normalize(raw: &str) -> Option<String> {
    let name = raw.trim().trim_end_matches('?').trim().to_ascii_uppercase();
    // numbers are unidentified neurons; text with spaces or punctuation ("Unknown Cell", "---",
    // "SMDVR, SAAVR": several candidates) does not identify one neuron
    if name.is_empty() || name.chars().all(|c| c.is_ascii_digit() || c == '.') || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let split = name.find(|c: char| c.is_ascii_digit()).unwrap_or(name.len());
    let (class, number) = name.split_at(split);
    if number.len() == 1 && PADDED_CLASSES.contains(&class) {
        return Some(format!("{class}0{number}"));
    }
    Some(name)
}

/// Identified neurons present in every recording, sorted.
pub fn shared_identified<'a>(recordings: impl IntoIterator<Item = &'a Recording>) -> Vec<String> {
    let mut sets = recordings.into_iter().map(identified_set);
    let Some(first) = sets.next() else { return Vec::new() };
    sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect()).into_iter().collect()
}

/// Identified neurons present in any recording, sorted.
pub fn union_identified<'a>(recordings: impl IntoIterator<Item = &'a Recording>) -> Vec<String> {
    recordings.into_iter().flat_map(identified_set).collect::<BTreeSet<_>>().into_iter().collect()
}

/// Distinct identified names of one recording.
pub fn identified_set(rec: &Recording) -> BTreeSet<String> {
    rec.neuron_names.iter().flatten().cloned().collect()
}

/// For each name in `names`, the column of `rec` that holds it (`None` where the animal lacks it).
pub fn columns_for(rec: &Recording, names: &[String]) -> Vec<Option<usize>> {
    names.iter().map(|n| rec.neuron_names.iter().position(|m| m.as_deref() == Some(n))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_collapse_to_one_name() {
        assert_eq!(normalize("VB1").as_deref(), Some("VB01"));
        assert_eq!(normalize("vb01").as_deref(), Some("VB01"));
        assert_eq!(normalize(" AVAL? ").as_deref(), Some("AVAL"));
        assert_eq!(normalize("DA9").as_deref(), Some("DA09"));
        assert_eq!(normalize("VB11").as_deref(), Some("VB11"));
        assert_eq!(normalize("IL1DL").as_deref(), Some("IL1DL"));
        assert_eq!(normalize("SMDDR").as_deref(), Some("SMDDR"));
        assert_eq!(normalize("42"), None);
        assert_eq!(normalize(""), None);
    }
}
