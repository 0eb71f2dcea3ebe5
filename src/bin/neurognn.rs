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
    use neurognn::data::{Recording, formats, labels, names};
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
        /// List the recordings in data files: frames, neurons, identities, frame rate, labels.
        Inspect {
            /// Recording files (CSV/TSV, NPY, NPZ).
            #[arg(required = true)]
            files: Vec<PathBuf>,
        },
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
            Command::Inspect { files } => inspect(&files),
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

    /// Prints each recording, then the identified neurons every recording shares.
    fn inspect(files: &[PathBuf]) -> Result<(), String> {
        let mut all: Vec<Recording> = Vec::new();
        for path in files {
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let started = std::time::Instant::now();
            let recordings = formats::load(&path.display().to_string(), &bytes).map_err(|e| e.to_string())?;
            println!("{} — {} recording(s), parsed in {:.0} ms", path.display(), recordings.len(), started.elapsed().as_secs_f64() * 1e3);
            for rec in &recordings {
                let identified = rec.neuron_names.iter().flatten().count();
                println!(
                    "  {}: {} frames, {} neurons ({} identified), {:.4} Hz, {:.0} s",
                    rec.name,
                    rec.frames,
                    rec.neurons,
                    identified,
                    rec.fps,
                    rec.duration_s()
                );
                match &rec.labels {
                    Some(l) => {
                        let counts = labels::counts(l);
                        let unlabelled = l.per_frame.iter().filter(|x| x.is_none()).count();
                        let list: Vec<String> = l.names.iter().zip(&counts).map(|(n, c)| format!("{n} {c}")).collect();
                        println!("    labels: {}{}", list.join(", "), if unlabelled > 0 { format!(", unlabelled {unlabelled}") } else { String::new() });
                    }
                    None => println!("    labels: none"),
                }
            }
            all.extend(recordings);
        }
        let shared = names::shared_identified(&all);
        println!("identified neurons shared by all {} recordings: {}", all.len(), shared.len());
        if !shared.is_empty() {
            println!("  {}", shared.join(" "));
        }
        Ok(())
    }
}
