//! `neurognn`: the native command line on the same library as the web app, for experiments and
//! benchmarks on bigger machines.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::PathBuf;
    use std::process::ExitCode;

    use clap::{Parser, Subcommand};
    use neurognn::device;
    use neurognn::plot::{LossSeries, draw_loss, to_svg};
    use neurognn::train::demo::{DemoSpec, run_demo};
    use neurognn::train::NativeHost;

    #[derive(Parser)]
    #[command(name = "neurognn", version, about = "Graph neural networks on whole-brain calcium imaging")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Train the built-in demo (MLP next-step prediction on a synthetic worm) and print the losses.
        Demo {
            /// Optimiser steps.
            #[arg(long, default_value_t = DemoSpec::default().train.steps)]
            steps: usize,
            /// Seed for the weights and the minibatch order (default: the page's).
            #[arg(long)]
            seed: Option<u64>,
            /// Use the GPU through wgpu (needs a build with `--features gpu`).
            #[arg(long)]
            gpu: bool,
            /// Print every loss report.
            #[arg(long, short)]
            verbose: bool,
            /// Write the report as JSON.
            #[arg(long)]
            json: Option<PathBuf>,
            /// Write the loss curve as SVG.
            #[arg(long)]
            svg: Option<PathBuf>,
        },
    }

    pub fn main() -> ExitCode {
        match run(Cli::parse()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        }
    }

    fn run(cli: Cli) -> Result<(), String> {
        match cli.command {
            Command::Demo { steps, seed, gpu, verbose, json, svg } => {
                let mut spec = DemoSpec::default();
                spec.train.steps = steps;
                if let Some(seed) = seed {
                    spec.train.seed = seed;
                }
                let compute = if gpu {
                    pollster::block_on(device::pick(true))
                } else {
                    device::cpu("the command line's default; --gpu uses wgpu")
                };
                println!("backend: {}", compute.label);
                let report = pollster::block_on(run_demo(&spec, &compute.device, &mut NativeHost { verbose }))
                    .map_err(|e| e.to_string())?;
                let run = &report.run;
                println!(
                    "data: synthetic worm, {} neurons × {} frames; {} training and {} validation windows",
                    report.neurons, report.frames, report.train_windows, report.validation_windows
                );
                println!("model: MLP, {} parameters; {} steps", run.parameters, run.steps_run);
                println!("loss: first {:.5}  last {:.5}", run.first_loss(), run.last_loss());
                let v = &run.validation;
                println!(
                    "validation: MSE {:.5} (persistence {:.5}), R² {:.4} (persistence {:.4})",
                    v.mse, v.persistence_mse, v.r2, v.persistence_r2
                );
                println!("wall time: {:.2} s", run.elapsed_s);
                if let Some(path) = json {
                    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
                    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
                if let Some(path) = svg {
                    let series = [LossSeries { name: compute.label.clone(), points: run.losses.clone() }];
                    let text = to_svg((640, 400), |area| draw_loss(area, &series)).map_err(|e| e.to_string())?;
                    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
                Ok(())
            }
        }
    }
}
