//! Behaviour label schemes: recognising Kato et al. (2015)'s states and merging them.

use super::Labels;

/// Kato et al. (2015) WT_NoStim states, upper-cased, in the alphabetical order of the release.
pub const KATO_8: [&str; 8] = ["DT", "FWD", "NOSTATE", "REV1", "REV2", "REVSUS", "SLOW", "VT"];

/// The common 4-class scheme: FWD = FWD+SLOW, REV = REV1+REV2, REVSUS, TURN = DT+VT;
/// NOSTATE (ambiguous) frames become unlabelled.
pub const KATO_4_CLASS: &[(&str, &[&str])] =
    &[("FWD", &["FWD", "SLOW"]), ("REV", &["REV1", "REV2"]), ("REVSUS", &["REVSUS"]), ("TURN", &["DT", "VT"])];

/// The 8-state scheme scored on its 7 real states: NOSTATE frames become unlabelled.
pub const KATO_7_STATE: &[(&str, &[&str])] = &[
    ("DT", &["DT"]),
    ("FWD", &["FWD"]),
    ("REV1", &["REV1"]),
    ("REV2", &["REV2"]),
    ("REVSUS", &["REVSUS"]),
    ("SLOW", &["SLOW"]),
    ("VT", &["VT"]),
];

/// True when every state name belongs to Kato's 8-state scheme.
pub fn is_kato_scheme(labels: &Labels) -> bool {
    labels.names.iter().all(|n| KATO_8.contains(&n.to_ascii_uppercase().as_str()))
}

/// Relabels frames by `merge` (target ← sources, compared case-insensitively); frames whose
/// state no target lists become unlabelled. Takes the built-in schemes (`KATO_4_CLASS`) and
/// merges the user typed (`parse_merges`) alike.
pub fn merge_states<T: AsRef<str>, V: AsRef<[S]>, S: AsRef<str>>(labels: &Labels, merge: &[(T, V)]) -> Labels {
    let target_of: Vec<Option<u16>> = labels
        .names
        .iter()
        .map(|name| {
            merge
                .iter()
                .position(|(_, sources)| sources.as_ref().iter().any(|s| s.as_ref().eq_ignore_ascii_case(name)))
                .map(|i| i as u16)
        })
        .collect();
    Labels {
        names: merge.iter().map(|(t, _)| t.as_ref().to_string()).collect(),
        per_frame: labels.per_frame.iter().map(|l| l.and_then(|i| target_of.get(usize::from(i)).copied().flatten())).collect(),
    }
}

/// A merge the user edits: one class per line or `;`, `TARGET = SOURCE + SOURCE`.
pub type Merges = Vec<(String, Vec<String>)>;

/// Parses `"FWD = FWD + SLOW; REV = REV1 + REV2"`; a class without `=` keeps its own state.
pub fn parse_merges(text: &str) -> Result<Merges, String> {
    let mut out: Merges = Vec::new();
    for (k, part) in text.split([';', '\n']).map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        let (target, sources) = part.split_once('=').unwrap_or((part, part));
        let target = target.trim().to_string();
        let sources: Vec<String> = sources.split(['+', ',']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if target.is_empty() || sources.is_empty() {
            return Err(format!("class {} ('{part}'): write it as NAME = STATE + STATE", k + 1));
        }
        if out.iter().any(|(t, _)| t.eq_ignore_ascii_case(&target)) {
            return Err(format!("class '{target}' is defined twice"));
        }
        if let Some((t, _)) = out.iter().find(|(_, src)| src.iter().any(|s| sources.iter().any(|x| x.eq_ignore_ascii_case(s)))) {
            return Err(format!("class '{target}' takes a state that class '{t}' already takes"));
        }
        out.push((target, sources));
    }
    if out.is_empty() {
        return Err("no classes: write at least one, e.g. FWD = FWD + SLOW".into());
    }
    Ok(out)
}

/// The text form of a merge, as `parse_merges` reads it.
pub fn format_merges<T: AsRef<str>, V: AsRef<[S]>, S: AsRef<str>>(merge: &[(T, V)]) -> String {
    merge
        .iter()
        .map(|(t, src)| format!("{} = {}", t.as_ref(), src.as_ref().iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(" + ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Frames per state, in `labels.names` order (unlabelled frames not counted).
pub fn counts(labels: &Labels) -> Vec<usize> {
    let mut c = vec![0; labels.names.len()];
    for i in labels.per_frame.iter().flatten() {
        if let Some(slot) = c.get_mut(usize::from(*i)) {
            *slot += 1;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_states_merge_into_four_classes() {
        let names: Vec<String> = KATO_8.iter().map(|s| s.to_lowercase()).collect();
        let labels = Labels { names, per_frame: (0..8).map(Some).chain([None]).collect() };
        assert!(is_kato_scheme(&labels));
        let four = merge_states(&labels, KATO_4_CLASS);
        assert_eq!(four.names, ["FWD", "REV", "REVSUS", "TURN"]);
        // dt fwd nostate rev1 rev2 revsus slow vt, then an unlabelled frame
        assert_eq!(four.per_frame, vec![Some(3), Some(0), None, Some(1), Some(1), Some(2), Some(0), Some(3), None]);
        assert_eq!(counts(&four), vec![2, 2, 1, 2]);
        assert_eq!(counts(&merge_states(&labels, KATO_7_STATE)).iter().sum::<usize>(), 7);
        // the text form round-trips and merges the same way
        let typed = parse_merges(&format_merges(KATO_4_CLASS)).unwrap();
        assert_eq!(merge_states(&labels, &typed), four);
    }

    #[test]
    fn typed_merges_are_checked() {
        assert_eq!(parse_merges("FWD = fwd + slow\nREV=rev1,rev2; TURN").unwrap()[2], ("TURN".into(), vec!["TURN".into()]));
        assert!(parse_merges("A = x; B = X").unwrap_err().contains("already takes"));
        assert!(parse_merges("A = x; a = y").unwrap_err().contains("twice"));
        assert!(parse_merges(" ; ").unwrap_err().contains("no classes"));
        assert!(parse_merges("= x").unwrap_err().contains("NAME = STATE"));
    }
}
