//! Next-step prediction on one recording's [`NextStepData`] (the demo): the generic [`fit`]
//! loop with an MLP, scored on the validation windows beside the persistence baseline. The
//! model predicts the change and the loop adds it back to the last frame, so an untrained model
//! starts near persistence.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::fit::{FitSetup, Fitted, Objective, evaluate, fit};
use super::metrics::NextStepScores;
use super::{Host, TrainConfig, TrainError};
use crate::data::windows::NextStepData;
use crate::model::{ModelKind, ModelSpec, Network};

/// What a next-step run learnt and how well it predicts held-out frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextStepReport {
    /// `(step, training loss)` at every report; step 0 is the untrained model.
    pub losses: Vec<(usize, f32)>,
    pub steps_run: usize,
    /// True when the host stopped the run early.
    pub stopped: bool,
    /// Scores on the validation windows (z-scored activity), with the weights kept.
    pub validation: NextStepScores,
    pub parameters: usize,
    pub elapsed_s: f64,
}

impl NextStepReport {
    pub fn first_loss(&self) -> f32 {
        self.losses.first().map_or(f32::NAN, |p| p.1)
    }

    pub fn last_loss(&self) -> f32 {
        self.losses.last().map_or(f32::NAN, |p| p.1)
    }
}

/// The MLP (`layers = 0`: linear) that maps a flattened window to every neuron's change.
pub fn next_step_mlp(hidden: usize, layers: usize) -> ModelSpec {
    let kind = if layers == 0 { ModelKind::Linear } else { ModelKind::Mlp };
    ModelSpec { kind, hidden, layers, dropout: 0.0, ..ModelSpec::new(kind) }
}

/// Trains `model` on `data.train` and scores it on `data.validation`; `incoming` is the graph
/// a graph network is given (row-major `incoming[i][j]`, see [`FitSetup`]).
pub async fn fit_next_step<H: Host>(
    data: &NextStepData,
    model: &ModelSpec,
    incoming: Option<&[f32]>,
    cfg: &TrainConfig,
    device: &Device,
    host: &mut H,
) -> Result<(Network, NextStepReport), TrainError> {
    let (train, validation) = (&data.train, &data.validation);
    let setup = FitSetup { spec: model, objective: &Objective::NextStep, incoming, train: cfg };
    let Fitted { network, report } = fit(setup, train, validation, device, host).await?;
    let predicted = evaluate(&network, model, validation, incoming, &Objective::NextStep, device).await?.outputs;
    let truth = validation.targets();
    let scores = NextStepScores::compute(&predicted, &truth.last, &truth.next, validation.nodes);
    let report = NextStepReport {
        losses: report.losses,
        steps_run: report.steps_run,
        stopped: report.stopped,
        validation: scores,
        parameters: report.parameters,
        elapsed_s: report.elapsed_s,
    };
    Ok((network, report))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::ops::ControlFlow;

    use super::*;
    use crate::train::Progress;
    use crate::data::synthetic::SyntheticConfig;
    use crate::data::windows::SplitFractions;
    use crate::train::NativeHost;

    fn data() -> NextStepData {
        let rec = SyntheticConfig { frames: 800, ..Default::default() }.generate().recordings.remove(0);
        NextStepData::prepare(&rec, 3, SplitFractions::default()).unwrap()
    }

    #[test]
    fn training_lowers_the_loss_and_beats_persistence() {
        let data = data();
        let cfg = TrainConfig { steps: 150, ..Default::default() };
        let (_, report) =
            pollster::block_on(fit_next_step(&data, &next_step_mlp(32, 1), None, &cfg, &Device::flex(), &mut NativeHost::default()))
                .unwrap();
        assert!(report.last_loss() < 0.7 * report.first_loss(), "{:?}", report.losses);
        let v = report.validation;
        assert!(v.mse < v.persistence_mse, "model {} vs persistence {}", v.mse, v.persistence_mse);
        assert_eq!(report.steps_run, 150);
        assert_eq!(report.losses.len(), 16);
    }

    #[test]
    fn same_seed_same_run_on_cpu() {
        let data = data();
        let cfg = TrainConfig { steps: 20, report_every: 5, ..Default::default() };
        let run = || {
            pollster::block_on(fit_next_step(&data, &next_step_mlp(16, 1), None, &cfg, &Device::flex(), &mut NativeHost::default()))
                .unwrap()
                .1
        };
        let (a, b) = (run(), run());
        assert_eq!(a.losses, b.losses);
        assert_eq!(a.validation, b.validation);
    }

    struct StopAfter(usize);
    impl Host for StopAfter {
        async fn yield_now(&mut self) {}
        fn progress(&mut self, p: &Progress) -> ControlFlow<()> {
            if p.step >= self.0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        }
    }

    #[test]
    fn a_host_can_stop_a_run_and_keep_its_result() {
        let data = data();
        let cfg = TrainConfig { steps: 1000, report_every: 10, ..Default::default() };
        let (_, report) =
            pollster::block_on(fit_next_step(&data, &next_step_mlp(16, 1), None, &cfg, &Device::flex(), &mut StopAfter(30)))
                .unwrap();
        assert!(report.stopped);
        assert_eq!(report.steps_run, 31);
        assert!(report.validation.mse.is_finite());
    }
}
