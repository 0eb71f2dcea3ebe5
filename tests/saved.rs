//! Saved models: a model kept from an experiment, written to bytes and read back, gives on the
//! animal it was tested on exactly the scores the experiment reported; it labels unlabelled
//! recordings; bad files and recordings without its neurons are refused with a message.
#![cfg(not(target_arch = "wasm32"))]

use burn::prelude::Device;
use neurognn::data::preprocess::NeuronSet;
use neurognn::data::synthetic::SyntheticConfig;
use neurognn::model::{ModelKind, ModelSpec};
use neurognn::train::experiment::{DataSpec, ExperimentSpec, PreprocessSpec, Protocol, RunResult, TaskSpec, run_experiment};
use neurognn::train::saved::{ModelFileError, SavedModel, apply};
use neurognn::train::{Host, Progress, TrainConfig};

/// Keeps every trained model, as the page's worker does.
#[derive(Default)]
struct Keeper {
    models: Vec<(usize, SavedModel)>,
}

impl Host for Keeper {
    async fn yield_now(&mut self) {}
    fn progress(&mut self, _: &Progress) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Continue(())
    }
    fn wants_models(&self) -> bool {
        true
    }
    fn model_trained(&mut self, index: usize, model: SavedModel) {
        self.models.push((index, model));
    }
}

fn spec() -> ExperimentSpec {
    let three: Vec<(String, Vec<String>)> = ["FWD", "REV", "TURN"].iter().map(|s| (s.to_string(), vec![s.to_string()])).collect();
    ExperimentSpec {
        name: "saved".into(),
        data: DataSpec::Synthetic { config: SyntheticConfig { animals: 3, neurons: 10, frames: 400, observed_fraction: 0.8, ..SyntheticConfig::default() } },
        preprocess: PreprocessSpec { neuron_set: NeuronSet::UnionMasked, change: true, history: 3, resample_hz: None },
        tasks: vec![TaskSpec::NextStep, TaskSpec::Behaviour { name: "states".into(), classes: three }],
        models: [ModelKind::Mlp, ModelKind::Gcn, ModelKind::Nri].iter().map(|&k| ModelSpec { hidden: 8, ..ModelSpec::new(k) }).collect(),
        protocols: vec![Protocol::LeaveOneAnimalOut],
        train: TrainConfig { steps: 20, batch_size: 16, eval_every: 10, report_every: 5, ..TrainConfig::default() },
        seeds: vec![1],
        ..ExperimentSpec::default()
    }
}

#[test]
fn a_saved_model_scores_its_test_animal_exactly_as_the_experiment_did() {
    let spec = spec();
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!() };
    let worm = config.generate();
    let device = Device::flex();
    let mut keeper = Keeper::default();
    let result = pollster::block_on(run_experiment(&spec, &worm.recordings, Some(&worm.graph), "CPU", &device, &mut keeper)).unwrap();
    // 2 tasks × 3 folds × 3 models, each kept
    assert_eq!(result.runs.len(), 18);
    assert_eq!(keeper.models.iter().map(|m| m.0).collect::<Vec<_>>(), (0..18).collect::<Vec<_>>());
    for (index, model) in &keeper.models {
        let run: &RunResult = &result.runs[*index];
        let bytes = model.to_bytes();
        let loaded = SavedModel::from_bytes(&bytes).unwrap();
        assert_eq!(&loaded, model);
        assert!(loaded.about.trained_on.contains(&format!("tested on {}", run.fold)), "{}", loaded.about.trained_on);
        assert_eq!(loaded.about.incoming.is_some(), run.model == "GCN");
        let recording = worm.recordings.iter().find(|r| r.name == run.fold).unwrap();
        let applied = pollster::block_on(apply(&loaded, recording, &device)).unwrap();
        let metric = if run.task == "next-step" { "mse" } else { "balanced_accuracy" };
        let (got, want) = (applied.metrics[metric], run.metrics[metric]);
        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{} {} on {}: {metric} {got} applied, {want} in the experiment", run.model, run.task, run.fold);
        if run.task == "states" {
            assert_eq!(applied.confusion, run.confusion);
            assert_eq!(applied.classes, ["FWD", "REV", "TURN"]);
        }
        assert_eq!(applied.graph.is_some(), run.model == "NRI");
        if let (Some(g), Some(r)) = (&applied.graph, run.graphs.first()) {
            assert_eq!(g, &r.edges, "the inferred graph on the same animal");
        }
    }
    let name = keeper.models[0].1.file_name("leave-one-animal-out", "worm 1");
    assert!(name.ends_with(".ngmodel") && !name.contains(' '), "{name}");
}

#[test]
fn unlabelled_recordings_get_predicted_states_and_bad_input_a_message() {
    let mut spec = spec();
    spec.tasks.remove(0);
    spec.models.truncate(1);
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!() };
    let worm = config.generate();
    let device = Device::flex();
    let mut keeper = Keeper::default();
    pollster::block_on(run_experiment(&spec, &worm.recordings, None, "CPU", &device, &mut keeper)).unwrap();
    let model = &keeper.models[0].1;
    let mut unlabelled = worm.recordings[0].clone();
    unlabelled.labels = None;
    let applied = pollster::block_on(apply(model, &unlabelled, &device)).unwrap();
    assert!(applied.metrics.is_empty(), "no labels, no scores: {:?}", applied.metrics);
    let states = applied.predicted_states.unwrap();
    assert_eq!(states.len(), unlabelled.frames);
    assert!(states[..2].iter().all(Option::is_none) && states[2..].iter().all(Option::is_some), "a state from the first full window on");

    // files that are not models, or not this version, or cut short
    let bytes = model.to_bytes();
    assert!(matches!(SavedModel::from_bytes(b"not a model"), Err(ModelFileError::NotAModel(_))));
    assert_eq!(SavedModel::from_bytes(&bytes[..bytes.len() / 2]), Err(ModelFileError::Truncated));
    let mut future = model.clone();
    future.version += 1;
    assert_eq!(SavedModel::from_bytes(&future.to_bytes()), Err(ModelFileError::Version { found: future.version }));
    let mut wrong = model.clone();
    wrong.parameters.pop();
    let err = pollster::block_on(apply(&wrong, &unlabelled, &device)).unwrap_err();
    assert!(err.to_string().contains("does not fit its network"), "{err}");
    // a recording with none of the model's neurons
    let mut strangers = worm.recordings[0].clone();
    strangers.neuron_names = (0..strangers.neurons).map(|i| Some(format!("X{i}"))).collect();
    let err = pollster::block_on(apply(model, &strangers, &device)).unwrap_err();
    assert!(err.to_string().contains("none of the model's"), "{err}");
}
