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
/// state no target lists become unlabelled.
pub fn merge_states(labels: &Labels, merge: &[(&str, &[&str])]) -> Labels {
    let target_of: Vec<Option<u16>> = labels
        .names
        .iter()
        .map(|name| {
            merge
                .iter()
                .position(|(_, sources)| sources.iter().any(|s| s.eq_ignore_ascii_case(name)))
                .map(|i| i as u16)
        })
        .collect();
    Labels {
        names: merge.iter().map(|(t, _)| (*t).to_string()).collect(),
        per_frame: labels.per_frame.iter().map(|l| l.and_then(|i| target_of.get(usize::from(i)).copied().flatten())).collect(),
    }
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
    }
}
