//! The *C. elegans* wiring diagram, mapped onto recorded neurons by name.
//!
//! The compact table `connectome.csv` is derived by `scripts/derive-connectome.py` from the cect
//! package (MIT): Cook et al. 2019 (chemical synapses and gap junctions, EM sections) and
//! Varshney et al. 2011 (synapse counts). It is compiled in, so graphs work offline.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::names;

const TABLE: &str = include_str!("connectome.csv");

/// Which published reconstruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reconstruction {
    Cook2019,
    Varshney2011,
}

/// Which kind of connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Synapse {
    Chemical,
    GapJunction,
    Both,
}

/// All neuron pairs with any connection: `(pre, post) → [cook chem, cook gap, varshney chem, varshney gap]`.
#[derive(Debug, Clone)]
pub struct Connectome {
    weights: HashMap<(String, String), [f32; 4]>,
}

impl Connectome {
    /// The compiled-in table (parsed on each call; cheap, ~7k rows).
    pub fn builtin() -> Self {
        let mut weights = HashMap::new();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            let [pre, post, rest @ ..] = cols.as_slice() else { continue };
            let mut w = [0f32; 4];
            for (slot, v) in w.iter_mut().zip(rest) {
                *slot = v.parse().expect("connectome.csv is generated with numeric weights");
            }
            let key = (names::normalize(pre).unwrap_or_else(|| (*pre).into()), names::normalize(post).unwrap_or_else(|| (*post).into()));
            weights.insert(key, w);
        }
        Self { weights }
    }

    /// Connection weight from `pre` to `post` (0 when none).
    pub fn weight(&self, pre: &str, post: &str, source: Reconstruction, kind: Synapse) -> f32 {
        let Some(w) = self.weights.get(&(pre.to_string(), post.to_string())) else { return 0.0 };
        let base = match source {
            Reconstruction::Cook2019 => 0,
            Reconstruction::Varshney2011 => 2,
        };
        match kind {
            Synapse::Chemical => w[base],
            Synapse::GapJunction => w[base + 1],
            Synapse::Both => w[base] + w[base + 1],
        }
    }

    /// Dense `[pre][post]` weights among `neurons` (names as in recordings; unknown names get
    /// no connections). The diagonal is zero.
    pub fn adjacency(&self, neurons: &[String], source: Reconstruction, kind: Synapse) -> Vec<Vec<f32>> {
        neurons
            .iter()
            .map(|pre| neurons.iter().map(|post| if pre == post { 0.0 } else { self.weight(pre, post, source, kind) }).collect())
            .collect()
    }

    /// Distinct neuron names in the table.
    pub fn neurons(&self) -> Vec<String> {
        let mut all: Vec<String> = self.weights.keys().flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
        all.sort();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_synapses_are_present() {
        let c = Connectome::builtin();
        // AVA and AVB are the command interneurons; AVAL→AVAR gap junctions are well documented
        assert!(c.weight("AVAL", "AVAR", Reconstruction::Cook2019, Synapse::GapJunction) > 0.0);
        assert!(c.weight("AVAL", "AVAR", Reconstruction::Varshney2011, Synapse::GapJunction) > 0.0);
        assert_eq!(c.weight("AVAL", "NOSUCH", Reconstruction::Cook2019, Synapse::Both), 0.0);
        assert!(c.neurons().len() > 280);
        let names: Vec<String> = ["AVAL", "AVAR", "AVBL"].iter().map(|s| s.to_string()).collect();
        let a = c.adjacency(&names, Reconstruction::Cook2019, Synapse::Both);
        assert_eq!(a[0][0], 0.0);
        assert!(a[0][1] > 0.0);
    }

    #[test]
    fn gap_junctions_are_symmetric_in_cook() {
        let c = Connectome::builtin();
        for n in ["AVAL", "AVBL", "RIML"] {
            for m in ["AVAR", "AVBR", "RIMR", "AVEL"] {
                let (ab, ba) = (
                    c.weight(n, m, Reconstruction::Cook2019, Synapse::GapJunction),
                    c.weight(m, n, Reconstruction::Cook2019, Synapse::GapJunction),
                );
                assert_eq!(ab, ba, "{n}–{m}");
            }
        }
    }
}
