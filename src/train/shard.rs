//! An experiment split into shards that run apart (processes on one machine, tasks of a cluster
//! job) and merged back into the result one process would have made.
//!
//! Each run trains from its own seed (burn's generator is re-seeded when a run starts), so which
//! shard trains a run does not change its numbers: the merged result equals the unsharded one
//! but for wall times. A part carries the spec's and the data's fingerprints and the runs it was
//! given, so [`merge`] refuses parts of another experiment, missing parts and repeated ones.

use serde::{Deserialize, Serialize};

use super::experiment::{ExperimentResult, ExperimentSpec, failed_lines, run_count, summarise};
use crate::data::Recording;
use crate::model::ModelKind;

/// Shard `k` of `n` (1-based, as written: `2/3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not a shard: write K/N with 1 ≤ K ≤ N, e.g. 2/3");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n) = (k.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Self { k, n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// What a part says about where it belongs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Which shard (1-based) of how many.
    pub shard: usize,
    pub of: usize,
    /// Fingerprints of the spec (as run: overrides applied) and of the recordings.
    pub spec: String,
    pub data: String,
    /// The runs (places in the plan) this shard was given.
    pub runs: Vec<usize>,
}

/// Milliseconds per training step at 22 neurons, batch 64 (release CLI, `bench models` as
/// measured for issue 15): the relative cost that shards are balanced by.
fn step_ms(kind: ModelKind) -> f64 {
    match kind {
        ModelKind::Linear => 0.09,
        ModelKind::Mlp => 0.22,
        ModelKind::Gru => 2.7,
        ModelKind::Gcn => 3.5,
        ModelKind::Gat => 4.0,
        ModelKind::Nri => 26.0,
    }
}

/// The expected cost of each run of `spec` on `animals` recordings, in plan order (task ×
/// protocol × fold × seed × model): its steps at its model's speed, plus a second for reading
/// its fold and scoring it.
pub fn run_costs(spec: &ExperimentSpec, animals: usize) -> Vec<f64> {
    let per_model: Vec<f64> = spec.models.iter().map(|m| 1000.0 + m.steps.unwrap_or(spec.train.steps) as f64 * step_ms(m.kind)).collect();
    (0..run_count(spec, animals)).map(|i| per_model[i % per_model.len().max(1)]).collect()
}

/// The shard (0-based) of each run: the dearest run first to the shard with the least so far
/// (ties to the lower shard, then the earlier run), so every process gets the same answer.
pub fn assign(costs: &[f64], shards: usize) -> Vec<usize> {
    let shards = shards.max(1);
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![0f64; shards];
    let mut owner = vec![0; costs.len()];
    for i in order {
        let least = (0..shards).min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b))).unwrap_or(0);
        load[least] += costs[i];
        owner[i] = least;
    }
    owner
}

/// FNV-1a, 64 bits: a fingerprint that is the same on every machine and release (the standard
/// library's hasher promises neither). Written here: it is five lines, for a check, not security.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The spec's fingerprint: of its JSON, as run.
pub fn spec_fingerprint(spec: &ExperimentSpec) -> String {
    let mut h = Fnv::new();
    h.write(serde_json::to_string(spec).unwrap_or_default().as_bytes());
    h.hex()
}

/// The recordings' fingerprint: names, shapes, neuron names, every value and label.
pub fn data_fingerprint(recordings: &[Recording]) -> String {
    let mut h = Fnv::new();
    for r in recordings {
        h.write(r.name.as_bytes());
        h.write(&[0]);
        h.write(&(r.frames as u64).to_le_bytes());
        h.write(&(r.neurons as u64).to_le_bytes());
        for name in &r.neuron_names {
            h.write(name.as_deref().unwrap_or("").as_bytes());
            h.write(&[0]);
        }
        for v in &r.traces {
            h.write(&v.to_bits().to_le_bytes());
        }
        if let Some(labels) = &r.labels {
            for s in &labels.per_frame {
                h.write(&s.unwrap_or(u16::MAX).to_le_bytes());
            }
        }
    }
    h.hex()
}

/// Merges the parts of a sharded run (each with the name of the file it came from, for the
/// messages) into the result of the unsharded run: every run in plan order, the summary and
/// its comparisons over all of them. Refuses parts without a shard, of another spec or data,
/// of another count, repeated or missing, or missing runs.
pub fn merge(parts: Vec<(String, ExperimentResult)>) -> Result<ExperimentResult, String> {
    let Some((first_name, _)) = parts.first() else { return Err("no parts to merge".into()) };
    let mut shards: Vec<(&str, &Part)> = Vec::new();
    for (name, result) in &parts {
        let Some(part) = &result.part else {
            return Err(format!("{name} is not a part of a sharded run (it was not written by `neurognn run --shard K/N`)"));
        };
        shards.push((name, part));
    }
    let reference = shards[0].1;
    for (name, part) in &shards {
        if part.spec != reference.spec {
            return Err(format!("{name} is a part of another experiment than {first_name} (spec {} vs {})", part.spec, reference.spec));
        }
        if part.data != reference.data {
            return Err(format!("{name} was run on other data than {first_name} (data {} vs {})", part.data, reference.data));
        }
        if part.of != reference.of {
            return Err(format!("{name} is shard {}/{}, but {first_name} is of {} shards", part.shard, part.of, reference.of));
        }
    }
    let n = reference.of;
    for k in 1..=n {
        let holders: Vec<&str> = shards.iter().filter(|(_, p)| p.shard == k).map(|(name, _)| *name).collect();
        if holders.len() > 1 {
            return Err(format!("shard {k}/{n} is given more than once: {}", holders.join(", ")));
        }
    }
    let missing: Vec<String> = (1..=n).filter(|k| !shards.iter().any(|(_, p)| p.shard == *k)).map(|k| format!("{k}/{n}")).collect();
    if !missing.is_empty() {
        return Err(format!("missing {} of {n}: shard{} {}", missing.len(), if missing.len() == 1 { "" } else { "s" }, missing.join(", ")));
    }
    for ((name, part), (_, result)) in shards.iter().zip(&parts) {
        let mut have: Vec<usize> = result.runs.iter().map(|r| r.index).collect();
        have.sort_unstable();
        if have != part.runs {
            let lost: Vec<String> = part.runs.iter().filter(|i| !have.contains(i)).map(|i| (i + 1).to_string()).collect();
            return Err(format!("{name} should hold {} runs and holds {}; runs not there: {}", part.runs.len(), have.len(), if lost.is_empty() { "none (it holds others)".into() } else { lost.join(", ") }));
        }
    }
    // the first part, with every part's runs in plan order and what is made from them anew
    let seconds = parts.iter().map(|(_, r)| r.seconds).fold(0.0, f64::max);
    let mut parts = parts.into_iter().map(|(_, result)| result);
    let Some(mut merged) = parts.next() else { return Err("no parts to merge".into()) };
    merged.runs.extend(parts.flat_map(|result| result.runs));
    merged.runs.sort_by_key(|r| r.index);
    merged.seconds = seconds;
    merged.summary = summarise(&merged.runs);
    merged.failed = failed_lines(&merged.runs);
    merged.part = None;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { k: 2, n: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().unwrap_err().contains("K/N"), "{bad}");
        }
    }

    #[test]
    fn dear_runs_are_spread_and_loads_balanced() {
        // four NRI runs (26) among many cheap ones: two shards get two each
        let costs = [26.0, 1.0, 1.0, 26.0, 1.0, 1.0, 26.0, 1.0, 1.0, 26.0, 1.0, 1.0];
        let owner = assign(&costs, 2);
        let load = |s: usize| costs.iter().zip(&owner).filter(|(_, o)| **o == s).map(|(c, _)| c).sum::<f64>();
        assert_eq!(load(0), load(1));
        assert_eq!([0, 3, 6, 9].iter().filter(|&&i| owner[i] == 0).count(), 2);
        // one shard takes everything; more shards than runs leave some empty
        assert!(assign(&costs, 1).iter().all(|&o| o == 0));
        assert_eq!(assign(&[1.0, 1.0], 3), vec![0, 1]);
    }

    #[test]
    fn fingerprints_change_with_the_data() {
        let spec = ExperimentSpec::default();
        let mut other = spec.clone();
        other.seeds = vec![0, 1];
        assert_ne!(spec_fingerprint(&spec), spec_fingerprint(&other));
        assert_eq!(spec_fingerprint(&spec), spec_fingerprint(&spec.clone()));
        let recordings = crate::data::synthetic::SyntheticConfig::default().generate().recordings;
        let mut changed = recordings.clone();
        changed[0].traces[5] += 1e-3;
        assert_ne!(data_fingerprint(&recordings), data_fingerprint(&changed));
    }
}
