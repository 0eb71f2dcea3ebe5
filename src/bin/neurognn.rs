//! `neurognn`: the native command line on the same library as the web app, for experiments and
//! benchmarks on bigger machines.

#[cfg(target_arch = "wasm32")]
fn main() {}

/// burn's CPU backend allocates each step's tensors afresh. glibc's malloc returned the big ones
/// to the system and faulted them in again, page by page, every step (a quarter of a step's
/// time in the kernel; NRI at 100 neurons took twice as long); mimalloc keeps freed memory for
/// the next step.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::path::PathBuf;
    use std::process::ExitCode;

    use clap::{Parser, Subcommand};
    use neurognn::data::formats::inventory::{self, Choice};
    use neurognn::data::{Recording, formats, labels, names};
    use neurognn::device;
    use neurognn::plot::{LossSeries, draw_loss, to_svg};
    use neurognn::train::demo::{DemoRun, DemoSpec, run_demo};
    use neurognn::train::experiment::RunResult;
    use neurognn::train::saved::{SavedModel, apply};
    use neurognn::train::{Host, NativeHost, Progress};
    use neurognn::train::experiment::{DataSpec, ExperimentResult, ExperimentSpec, FileArrays, Share, format_table, resume_experiment, run_count, run_experiment};
    use neurognn::train::shard::{self, Shard};
    use neurognn::train::presets;

    #[derive(Parser)]
    #[command(name = "neurognn", version, about = "Graph neural networks on whole-brain calcium imaging")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    // parsed once per process: the size of its largest variant (`run`'s options) costs nothing
    #[allow(clippy::large_enum_variant)]
    #[derive(Subcommand)]
    enum Command {
        /// List the recordings in data files: frames, neurons, identities, frame rate, labels.
        Inspect {
            /// Recording files (CSV/TSV, NPY, NPZ, MATLAB, NWB, HDF5).
            #[arg(required = true)]
            files: Vec<PathBuf>,
            /// Read the files with the arrays a spec picks for them (`data.files[].arrays`).
            #[arg(long)]
            spec: Option<PathBuf>,
            /// Also list every array of each file, and the spec fragment that picks them.
            #[arg(long)]
            arrays: bool,
        },
        /// Write a results JSON (`run --json`, the page's download) as Markdown tables: mean ± sd,
        /// n, and each model's paired difference from the best non-graph model and persistence
        /// with its 95 % CI and p-value.
        Report {
            /// The results JSON.
            results: PathBuf,
            /// Write the Markdown here instead of printing it.
            #[arg(long)]
            out: Option<PathBuf>,
        },
        /// Speed figures to compare release to release (printed, not asserted).
        Bench {
            #[command(subcommand)]
            what: Bench,
        },
        /// Run an experiment (a preset or a spec file), print the results table, write JSON.
        Run {
            /// An experiment spec (JSON), as the page downloads it.
            spec: Option<PathBuf>,
            /// A named preset instead of a spec file (`--list` shows them).
            #[arg(long, conflicts_with = "spec")]
            preset: Option<String>,
            /// List the presets and exit.
            #[arg(long)]
            list: bool,
            /// Folder of the Kato files (with npz/worm1.npz … npz/worm5.npz).
            #[arg(long, default_value = "../shared/data/kato2015")]
            data: PathBuf,
            /// Recordings for a spec whose data source is "files".
            #[arg(long = "file")]
            files: Vec<PathBuf>,
            /// Override the optimiser steps of every run (quick checks).
            #[arg(long)]
            steps: Option<usize>,
            /// Override the seeds, e.g. --seeds 0,1,2.
            #[arg(long, value_delimiter = ',')]
            seeds: Option<Vec<u64>>,
            /// Use the GPU through wgpu (needs a build with `--features gpu`).
            #[arg(long)]
            gpu: bool,
            /// Write the results (spec, summary, runs) as JSON.
            #[arg(long)]
            json: Option<PathBuf>,
            /// A graph you know (CSV/TSV edge list `from,to[,weight]` or a matrix with neuron
            /// names along the top and down the side) to score inferred and model-free graphs
            /// against, in place of the synthetic worm's wiring.
            #[arg(long)]
            reference: Option<PathBuf>,
            /// Write the summary as CSV: mean, sd and n per model, with the paired comparisons
            /// (difference, 95 % CI, p-value) on the headline metric.
            #[arg(long)]
            csv: Option<PathBuf>,
            /// Print each run as it starts.
            #[arg(long, short)]
            verbose: bool,
            /// Save every run's trained model in this folder (`.ngmodel` files, as the page's).
            #[arg(long)]
            models: Option<PathBuf>,
            /// Train this many runs at once, each in its own process (default: the machine's
            /// cores). The numbers are those of one process: each run trains from its own seed.
            #[arg(long)]
            jobs: Option<usize>,
            /// Run only the K-th of N shards of the runs (balanced by their expected cost) and
            /// write it with --json as a part for `neurognn merge`.
            #[arg(long, conflicts_with = "jobs")]
            shard: Option<neurognn::train::shard::Shard>,
            /// With --shard, for the processes of `--jobs`: instead of a fixed slice, take each
            /// run that no other process has taken yet, by creating its file in this folder.
            #[arg(long, requires = "shard", hide = true)]
            claims: Option<PathBuf>,
        },
        /// Join the parts of a sharded run (`run --shard K/N --json PART`) into the result of
        /// the whole run; refuses parts of another spec or data, and missing or repeated ones.
        Merge {
            /// Where to write the merged results JSON.
            out: PathBuf,
            /// The parts, one per shard, in any order.
            #[arg(required = true)]
            parts: Vec<PathBuf>,
            /// Also write the summary as CSV.
            #[arg(long)]
            csv: Option<PathBuf>,
        },
        /// Apply a saved model (a `.ngmodel` file from the page or `run --models`) to recordings.
        Apply {
            /// The model file.
            model: PathBuf,
            /// Recording files (any format `inspect` reads).
            #[arg(required = true)]
            files: Vec<PathBuf>,
            /// Use the GPU through wgpu (needs a build with `--features gpu`).
            #[arg(long)]
            gpu: bool,
            /// Write what the model did on each recording as JSON.
            #[arg(long)]
            json: Option<PathBuf>,
        },
        /// Train the built-in demo (next-step prediction on a synthetic worm: an MLP, then a GCN given its wiring) and print the losses.
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

    #[derive(Subcommand)]
    enum Bench {
        /// Time training steps of every model at Kato size (5 worms' shared neurons).
        Models {
            /// Timed steps per model (after a few warm-up steps).
            #[arg(long, default_value_t = 50)]
            steps: usize,
            #[arg(long, default_value_t = 64)]
            batch: usize,
            /// Neurons (nodes); 22 is the Kato shared set.
            #[arg(long, default_value_t = 22)]
            nodes: usize,
            #[arg(long, default_value_t = 8)]
            history: usize,
            /// Use the GPU through wgpu (needs a build with `--features gpu`).
            #[arg(long)]
            gpu: bool,
        },
        /// Train models on one big synthetic recording (next step, within the animal) and print
        /// the peak memory and time: windows are cut per batch, so memory follows the traces.
        Train {
            #[arg(long, default_value_t = 1000)]
            neurons: usize,
            #[arg(long, default_value_t = 100_000)]
            frames: usize,
            /// Models to train, one after another (e.g. mlp,nri); a model that would not fit the
            /// backend's memory is refused before it starts, and the refusal is printed.
            #[arg(long, value_delimiter = ',', default_value = "mlp")]
            models: Vec<String>,
            /// Optimiser steps per model.
            #[arg(long, default_value_t = 200)]
            steps: usize,
            #[arg(long, default_value_t = 8)]
            history: usize,
            /// Use the GPU through wgpu (needs a build with `--features gpu`).
            #[arg(long)]
            gpu: bool,
        },
        /// Time reading files (the page's goal: WT_NoStim.mat under 0.5 s natively, 2 s in the page).
        Parse {
            /// Files to read.
            #[arg(required = true)]
            files: Vec<PathBuf>,
            /// Reads per file; the minimum and median are printed.
            #[arg(long, default_value_t = 5)]
            repeat: usize,
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
            Command::Inspect { files, spec, arrays } => {
                let picks = match spec {
                    Some(path) => read_spec(&path)?.data.picks(),
                    None => Vec::new(),
                };
                inspect(&files, &picks, arrays)
            }
            Command::Bench { what: Bench::Parse { files, repeat } } => bench_parse(&files, repeat.max(1)),
            Command::Bench { what: Bench::Train { neurons, frames, models, steps, history, gpu } } => bench_train(neurons, frames, &models, steps, history, gpu),
            Command::Bench { what: Bench::Models { steps, batch, nodes, history, gpu } } => bench_models(steps.max(1), batch.max(1), nodes.max(2), history.max(1), gpu),
            Command::Apply { model, files, gpu, json } => apply_model(&model, &files, gpu, json),
            Command::Report { results, out } => report(&results, out),
            Command::Merge { out, parts, csv } => merge_parts(&out, &parts, csv),
            Command::Run { spec, preset, list, data, files, steps, seeds, gpu, json, csv, verbose, models, reference, jobs, shard, claims } => {
                if list {
                    for (name, about) in presets::PRESETS {
                        println!("{name:<18} {about}");
                    }
                    return Ok(());
                }
                let mut spec = match (spec, preset) {
                    (Some(path), None) => read_spec(&path)?,
                    (None, Some(name)) => presets::preset(&name).ok_or_else(|| {
                        format!("no preset '{name}'; presets: {}", presets::PRESETS.map(|p| p.0).join(", "))
                    })?,
                    _ => return Err("give a spec file or --preset NAME (--list shows the presets)".into()),
                };
                if let Some(steps) = steps {
                    spec.train.steps = steps;
                    spec.models.iter_mut().for_each(|m| m.steps = m.steps.map(|s| s.min(steps)));
                }
                if let Some(seeds) = seeds {
                    spec.seeds = seeds;
                }
                if let Some(path) = reference {
                    let size = std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
                    if size > neurognn::data::reference::MAX_REFERENCE_BYTES as u64 {
                        return Err(format!("{} is {size} bytes; a reference graph may have at most {}", path.display(), neurognn::data::reference::MAX_REFERENCE_BYTES));
                    }
                    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
                    spec.reference = Some(neurognn::data::reference::KnownGraph::parse(&name, &bytes).map_err(|e| e.to_string())?);
                }
                spec.validate().map_err(|e| e.to_string())?;
                let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                run_spec(&spec, &data, &files, gpu, verbose, Outputs { json, csv, models }, Split { jobs, shard, claims })
            }
            Command::Demo { steps, seed, gpu, verbose, json, svg } => {
                let mut spec = DemoSpec::default();
                spec.train.steps = steps;
                if let Some(seed) = seed {
                    spec.train.seed = seed;
                }
                let compute = if gpu {
                    pollster::block_on(device::pick(device::BackendChoice::WebGpu))
                } else {
                    device::cpu("the command line's default; --gpu uses wgpu")
                };
                println!("backend: {}", compute.label);
                let report = pollster::block_on(run_demo(&spec, &compute.device, &mut NativeHost { verbose }))
                    .map_err(|e| e.to_string())?;
                println!(
                    "data: synthetic worm, {} neurons × {} frames; {} training and {} validation windows",
                    report.neurons, report.frames, report.train_windows, report.validation_windows
                );
                println!("graph given to the graph networks: {}, {} edges among these neurons", report.graph, report.graph_edges);
                for DemoRun { model, run } in &report.runs {
                    let v = &run.validation;
                    println!(
                        "{model}: {} parameters, {} steps in {:.2} s; loss first {:.5} last {:.5}; validation MSE {:.5} (persistence {:.5}), R² {:.4} (persistence {:.4})",
                        run.parameters, run.steps_run, run.elapsed_s, run.first_loss(), run.last_loss(), v.mse, v.persistence_mse, v.r2, v.persistence_r2
                    );
                }
                if let Some(path) = json {
                    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
                    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
                if let Some(path) = svg {
                    let series: Vec<LossSeries> = report.runs.iter().map(|r| LossSeries { name: format!("{} · {}", r.model, compute.label), points: r.run.losses.clone() }).collect();
                    let text = to_svg((640, 400), |area| draw_loss(area, &series)).map_err(|e| e.to_string())?;
                    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
                Ok(())
            }
        }
    }

    fn compute(gpu: bool) -> device::Compute {
        if gpu { pollster::block_on(device::pick(device::BackendChoice::WebGpu)) } else { device::cpu("the command line's default; --gpu uses wgpu") }
    }

    fn read_spec(path: &std::path::Path) -> Result<ExperimentSpec, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        ExperimentSpec::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Opens files to be read by offset (an NWB's raw imaging is never read) and named by path.
    fn open_files(paths: &[PathBuf]) -> Result<Vec<(String, formats::FileBytes)>, String> {
        paths
            .iter()
            .map(|path| Ok((path.display().to_string(), formats::FileBytes::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)))
            .collect()
    }

    /// Reads files as the page reads a drop: side files attach to recordings, and all of them
    /// share one budget ([`formats::budget::DROP`]).
    fn read_recordings(paths: &[PathBuf], picks: &[(String, Choice)]) -> Result<Vec<Recording>, String> {
        let dropped = formats::load_files_picked(&open_files(paths)?, picks);
        if let Some(e) = dropped.errors.first() {
            return Err(e.to_string());
        }
        Ok(dropped.recordings.into_iter().map(|(_, r)| r).collect())
    }

    /// A native host that also writes each run's trained model into a folder.
    struct SavingHost {
        inner: NativeHost,
        dir: Option<PathBuf>,
        /// Which of the plan's runs this process trains.
        slice: Slice,
        /// Protocol and fold of the run that finished last (for the file name).
        last: (String, String),
    }

    /// Which of an experiment's runs a process trains.
    enum Slice {
        /// Every run.
        All,
        /// One fixed shard of many (`--shard K/N`): whether each run of the plan is this one's.
        Fixed(Vec<bool>),
        /// The runs no other process of `--jobs` took first, claimed by creating a file each in
        /// `dir`; `taken` are those this process took, in plan order.
        Claimed { dir: PathBuf, taken: Vec<usize> },
    }

    impl Slice {
        /// The runs (places in the plan) this process was given or took, of `total`.
        fn runs(&self, total: usize) -> Vec<usize> {
            match self {
                Slice::All => (0..total).collect(),
                Slice::Fixed(mine) => (0..total).filter(|&i| mine.get(i).copied().unwrap_or(false)).collect(),
                Slice::Claimed { taken, .. } => taken.clone(),
            }
        }
    }

    impl Host for SavingHost {
        async fn yield_now(&mut self) {}
        fn progress(&mut self, p: &Progress) -> std::ops::ControlFlow<()> {
            self.inner.progress(p)
        }
        fn run_started(&mut self, label: &str, index: usize, total: usize) {
            self.inner.run_started(label, index, total);
        }
        fn run_finished(&mut self, _: usize, run: &RunResult) {
            self.last = (run.protocol.clone(), run.fold.clone());
        }
        fn wants_models(&self) -> bool {
            self.dir.is_some()
        }
        async fn claim(&mut self, index: usize) -> bool {
            match &mut self.slice {
                Slice::All => true,
                Slice::Fixed(mine) => mine.get(index).copied().unwrap_or(false),
                Slice::Claimed { dir, taken } => {
                    // creating a file is atomic: of processes claiming a run at once, one creates it
                    let path = dir.join(index.to_string());
                    match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                        Ok(_) => {
                            taken.push(index);
                            true
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                        Err(e) => {
                            eprintln!("cannot claim run {} ({}): {e}", index + 1, path.display());
                            false
                        }
                    }
                }
            }
        }
        fn model_trained(&mut self, _: usize, model: SavedModel) {
            let Some(dir) = &self.dir else { return };
            let path = dir.join(model.file_name(&self.last.0, &self.last.1));
            if let Err(e) = std::fs::write(&path, model.to_bytes()) {
                eprintln!("warning: cannot write {}: {e}", path.display());
            }
        }
    }

    /// Applies a saved model to recordings and prints what it did on each.
    fn apply_model(model: &std::path::Path, files: &[PathBuf], gpu: bool, json: Option<PathBuf>) -> Result<(), String> {
        let bytes = std::fs::read(model).map_err(|e| format!("cannot read {}: {e}", model.display()))?;
        let saved = SavedModel::from_bytes(&bytes).map_err(|e| format!("{}: {e}", model.display()))?;
        println!("model: {} · {} ({}), {} neurons, history {}", saved.about.model.kind.label(), saved.about.task.label(), saved.about.trained_on, saved.about.neurons.len(), saved.about.shape.history);
        let compute = compute(gpu);
        let mut out = Vec::new();
        for rec in read_recordings(files, &[])? {
            let a = pollster::block_on(apply(&saved, &rec, &compute.device)).map_err(|e| format!("{}: {e}", rec.name))?;
            let metrics: Vec<String> = a.metrics.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
            let scores = if metrics.is_empty() { "no labels: states predicted only".to_string() } else { metrics.join(", ") };
            println!("{}: {} of {} neurons, {} windows; {scores}", a.recording, a.neurons_found, a.neurons_found + a.missing.len(), a.windows);
            out.push(a);
        }
        if let Some(path) = json {
            let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Where `run` writes what it made, besides printing the table.
    struct Outputs {
        json: Option<PathBuf>,
        csv: Option<PathBuf>,
        models: Option<PathBuf>,
    }

    /// How `run` splits its runs: over processes (`--jobs`), or into one shard of many (`--shard`).
    struct Split {
        jobs: usize,
        shard: Option<Shard>,
        /// The claims folder of `--jobs`' processes (`run --claims`).
        claims: Option<PathBuf>,
    }

    /// Loads the spec's data, runs it, prints the table and writes JSON, CSV and models.
    fn run_spec(spec: &ExperimentSpec, data: &std::path::Path, files: &[PathBuf], gpu: bool, verbose: bool, out: Outputs, split: Split) -> Result<(), String> {
        let Outputs { json, csv, models } = out;
        if !files.is_empty() && !matches!(spec.data, DataSpec::Files { .. }) {
            let source = serde_json::to_value(&spec.data).ok().and_then(|v| v["source"].as_str().map(str::to_string)).unwrap_or_default();
            return Err(format!(
                "--file was given, but this spec's data source is \"{source}\", which reads no files; to run on your recordings, set \"data\": {{\"source\": \"files\", \"names\": []}} in the spec"
            ));
        }
        if split.shard.is_some() && (json.is_none() || csv.is_some()) {
            return Err("--shard writes its part with --json PART.json (and no --csv): `neurognn merge` joins the parts and writes the summary".into());
        }
        if let Some(dir) = &models {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let read = |file: &'static str| {
            let path = data.join(file);
            async move { std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display())) }
        };
        let (recordings, truth) = pollster::block_on(spec.data.load(read_recordings(files, &spec.data.picks())?, read))?;
        let compute = compute(gpu);
        let total = run_count(spec, recordings.len());
        println!("experiment: {} on {} recording(s); backend: {}", spec.name, recordings.len(), compute.label);
        println!("runs: {total}");
        let mut host = SavingHost { inner: NativeHost { verbose }, dir: models.clone(), last: Default::default(), slice: Slice::All };
        if let Some(shard) = split.shard {
            if let Some(dir) = split.claims {
                if !dir.is_dir() {
                    return Err(format!("--claims {}: not a folder (the processes of --jobs claim their runs in one they share)", dir.display()));
                }
                println!("shard {shard}: the runs no other process has taken (claimed in {})", dir.display());
                host.slice = Slice::Claimed { dir, taken: Vec::new() };
            } else {
                let owner = shard::assign(&shard::run_costs(spec, recordings.len()), shard.n);
                let mine = (0..total).filter(|&i| owner[i] == shard.k - 1).count();
                println!("shard {shard}: {mine} of the {total} runs");
                host.slice = Slice::Fixed(owner.iter().map(|&o| o == shard.k - 1).collect());
            }
            let mut result = pollster::block_on(resume_experiment(spec, &recordings, truth.as_ref(), &compute.label, &compute.device, &mut host, &[], Share::Pool))
                .map_err(|e| e.to_string())?;
            let mine = host.slice.runs(total);
            result.part = Some(shard::Part { shard: shard.k, of: shard.n, spec: shard::spec_fingerprint(spec), data: shard::data_fingerprint(&recordings), runs: mine });
            println!("wall time: {:.1} s", result.seconds);
            return write_results(&result, json.as_deref(), None);
        }
        let result = if split.jobs > 1 && total > 1 {
            let jobs = split.jobs.min(total);
            println!("training in {jobs} processes (--jobs {jobs}; each run trains from its own seed, as in one process)");
            run_in_processes(spec, data, files, Children { gpu, verbose, models: models.as_deref(), jobs, total })?
        } else {
            pollster::block_on(run_experiment(spec, &recordings, truth.as_ref(), &compute.label, &compute.device, &mut host)).map_err(|e| e.to_string())?
        };
        println!("neurons: {} ({})", result.neurons.len(), result.neurons.join(" "));
        print!("{}", format_table(&result));
        println!("\nwall time: {:.1} s", result.seconds);
        write_results(&result, json.as_deref(), csv.as_deref())
    }

    /// Writes a result as JSON and its summary as CSV, where asked.
    fn write_results(result: &ExperimentResult, json: Option<&std::path::Path>, csv: Option<&std::path::Path>) -> Result<(), String> {
        if let Some(path) = json {
            let text = serde_json::to_string_pretty(result).map_err(|e| e.to_string())?;
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
        if let Some(path) = csv {
            std::fs::write(path, neurognn::train::report::summary_csv(result)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
        Ok(())
    }

    /// What the processes of `run --jobs` are started with.
    struct Children<'a> {
        gpu: bool,
        verbose: bool,
        models: Option<&'a std::path::Path>,
        jobs: usize,
        /// The experiment's runs, all of which the processes together must train.
        total: usize,
    }

    /// Runs `spec` in `jobs` processes of this program (`run --shard K/N --claims DIR`), each
    /// taking the next run of the plan that no other has taken whenever it is free (as the
    /// page's workers do), and merges their parts. burn's CPU backend draws from one generator
    /// per process, so runs that train at once must be in different processes to repeat from
    /// their seeds.
    fn run_in_processes(spec: &ExperimentSpec, data: &std::path::Path, files: &[PathBuf], how: Children<'_>) -> Result<ExperimentResult, String> {
        let started = std::time::Instant::now();
        let dir = std::env::temp_dir().join(format!("neurognn-jobs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let outcome = (|| -> Result<ExperimentResult, String> {
            let spec_path = dir.join("spec.json");
            std::fs::write(&spec_path, serde_json::to_string(spec).map_err(|e| e.to_string())?).map_err(|e| format!("cannot write {}: {e}", spec_path.display()))?;
            let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to start its processes: {e}"))?;
            let claims = dir.join("claims");
            std::fs::create_dir_all(&claims).map_err(|e| format!("cannot create {}: {e}", claims.display()))?;
            let mut children = Vec::new();
            for k in 1..=how.jobs {
                let part = dir.join(format!("part-{k}.json"));
                let mut command = std::process::Command::new(&exe);
                command.arg("run").arg(&spec_path).arg("--data").arg(data).arg("--shard").arg(format!("{k}/{}", how.jobs)).arg("--claims").arg(&claims).arg("--json").arg(&part);
                for file in files {
                    command.arg("--file").arg(file);
                }
                if how.gpu {
                    command.arg("--gpu");
                }
                if how.verbose {
                    command.arg("--verbose");
                } else {
                    let log = dir.join(format!("part-{k}.log"));
                    command.stdout(std::fs::File::create(&log).map_err(|e| format!("cannot write {}: {e}", log.display()))?);
                }
                if let Some(models) = how.models {
                    command.arg("--models").arg(models);
                }
                let child = command.spawn().map_err(|e| format!("cannot start process {k} of {}: {e}", how.jobs))?;
                children.push((k, part, child));
            }
            // the first process to fail ends the others (its message is on stderr)
            let mut running: Vec<usize> = (0..children.len()).collect();
            let mut failed = None;
            while !running.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(50));
                running.retain(|&i| match children[i].2.try_wait() {
                    Ok(None) => true,
                    Ok(Some(status)) => {
                        if !status.success() && failed.is_none() {
                            failed = Some(format!("shard {}/{} failed ({status})", children[i].0, how.jobs));
                        }
                        false
                    }
                    Err(e) => {
                        failed.get_or_insert(format!("shard {}/{}: {e}", children[i].0, how.jobs));
                        false
                    }
                });
                if failed.is_some() {
                    for &i in &running {
                        let _ = children[i].2.kill();
                        let _ = children[i].2.wait();
                    }
                    running.clear();
                }
            }
            if let Some(why) = failed {
                return Err(why);
            }
            let parts = children.iter().map(|(_, part, _)| read_results(part)).collect::<Result<Vec<_>, _>>()?;
            for (k, (_, part)) in parts.iter().enumerate() {
                let trained: f64 = part.runs.iter().map(|r| r.seconds).sum();
                println!("process {}: {} runs ({trained:.1} s training them), done after {:.1} s", k + 1, part.runs.len(), part.seconds);
            }
            let mut merged = shard::merge(parts)?;
            let lost: Vec<String> = (0..how.total).filter(|i| !merged.runs.iter().any(|r| r.index == *i)).map(|i| (i + 1).to_string()).collect();
            if !lost.is_empty() {
                return Err(format!("{} of the {} runs were trained by no process (runs {}); see the messages above", lost.len(), how.total, lost.join(", ")));
            }
            merged.seconds = started.elapsed().as_secs_f64();
            Ok(merged)
        })();
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    }

    /// Reads a results JSON (a whole run's or a part of a sharded run), named by its path for
    /// messages; a file that is not one (binary files too) is "not a NeuroGNN results JSON".
    fn read_results(path: &std::path::Path) -> Result<(String, ExperimentResult), String> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let result = serde_json::from_slice(&bytes).map_err(|e| format!("{name}: not a NeuroGNN results JSON ({e})"))?;
        Ok((name, result))
    }

    /// `neurognn merge`: joins parts into one result, prints its table, writes JSON (and CSV).
    fn merge_parts(out: &std::path::Path, parts: &[PathBuf], csv: Option<PathBuf>) -> Result<(), String> {
        let parts = parts.iter().map(|p| read_results(p)).collect::<Result<Vec<_>, _>>()?;
        let result = shard::merge(parts)?;
        println!("merged {} runs of {}", result.runs.len(), result.spec.name);
        print!("{}", format_table(&result));
        write_results(&result, Some(out), csv.as_deref())
    }

    /// Reads a results JSON and writes its Markdown report (recomputing the summary and its
    /// comparisons from the runs, so a JSON from an older release reports the same way).
    fn report(results: &std::path::Path, out: Option<PathBuf>) -> Result<(), String> {
        use neurognn::train::experiment::summarise;
        let (_, mut result) = read_results(results)?;
        result.summary = summarise(&result.runs);
        let markdown = neurognn::train::report::markdown(&result);
        match out {
            Some(path) => {
                std::fs::write(&path, markdown).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                println!("wrote {}", path.display());
            }
            None => print!("{markdown}"),
        }
        Ok(())
    }

    /// Times training steps of every model on random windows of the given size.
    fn bench_models(steps: usize, batch: usize, nodes: usize, history: usize, gpu: bool) -> Result<(), String> {
        use neurognn::model::{ModelKind, ModelSpec};
        use neurognn::train::bench::{StepShape, time_steps};
        let compute = compute(gpu);
        println!("backend: {}; batch {batch}, {nodes} nodes, history {history}, 2 features", compute.label);
        println!("{:<8} {:>10} {:>14} {:>16}", "model", "params", "ms per step", "peak RSS MB");
        let shape = StepShape { nodes, history, features: 2, batch };
        for kind in ModelKind::ALL {
            let t = pollster::block_on(time_steps(&ModelSpec::new(kind), shape, 3, steps, f64::INFINITY, &compute.device)).map_err(|e| e.to_string())?;
            println!("{:<8} {:>10} {:>14.2} {:>16}", kind.label(), t.parameters, t.ms, peak_rss_mb().map_or("–".into(), |m| format!("{m:.0}")));
        }
        println!("(ms per step: the mean of {steps} steps after 3 warm-up steps, each reading its loss back; peak RSS is the process's high-water mark so far; native, {} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
        Ok(())
    }

    /// Trains `models` one after another on one synthetic recording of `neurons × frames` and
    /// prints the process's peak memory after each phase beside the traces' size.
    fn bench_train(neurons: usize, frames: usize, models: &[String], steps: usize, history: usize, gpu: bool) -> Result<(), String> {
        use neurognn::data::synthetic::{GraphSource, SyntheticConfig};
        use neurognn::model::{ModelKind, ModelSpec};
        let compute = compute(gpu);
        let kinds = models
            .iter()
            .map(|m| serde_json::from_value::<ModelKind>(serde_json::Value::String(m.to_ascii_lowercase())).map_err(|_| format!("unknown model '{m}'; one of linear, mlp, gru, gcn, gat, nri")))
            .collect::<Result<Vec<_>, _>>()?;
        let rss = || peak_rss_mb().map_or("–".into(), |m| format!("{m:.0} MB"));
        let config = SyntheticConfig { neurons, frames, graph: GraphSource::Random, ..SyntheticConfig::default() };
        let started = std::time::Instant::now();
        let recordings = config.generate().recordings;
        let traces_mb = (neurons * frames * 4) as f64 / 1e6;
        println!("backend: {}; {neurons} neurons × {frames} frames (traces {traces_mb:.0} MB as f32), history {history}", compute.label);
        println!("generated in {:.1} s; peak RSS {}", started.elapsed().as_secs_f64(), rss());
        for kind in kinds {
            let spec = ExperimentSpec {
                name: format!("bench-{}", kind.label()),
                data: DataSpec::Synthetic { config: config.clone() },
                // the model's own defaults (NRI: batch 32), but the steps asked for
                models: vec![ModelSpec { steps: None, ..ModelSpec::new(kind) }],
                preprocess: neurognn::train::spec::PreprocessSpec { history, ..Default::default() },
                train: neurognn::train::TrainConfig { steps, eval_every: steps, report_every: steps, patience: 0, batch_size: 64, ..Default::default() },
                rollout_horizon: 0,
                ..ExperimentSpec::default()
            };
            let started = std::time::Instant::now();
            match pollster::block_on(run_experiment(&spec, &recordings, None, &compute.label, &compute.device, &mut NativeHost::default())) {
                Ok(result) => {
                    let metric = |m: &str| result.summary.iter().find(|r| r.metric == m).map_or(f64::NAN, |r| r.mean);
                    println!(
                        "{:<6} trained {steps} steps in {:.1} s (data, training, scoring); test MSE {:.4} vs persistence {:.4}; peak RSS {} ({:.1}× the traces)",
                        kind.label(),
                        started.elapsed().as_secs_f64(),
                        metric("mse"),
                        metric("persistence_mse"),
                        rss(),
                        peak_rss_mb().unwrap_or(f64::NAN) / traces_mb
                    );
                }
                Err(e) => println!("{:<6} refused: {e}", kind.label()),
            }
        }
        println!("(peak RSS is the process's high-water mark so far; native, {} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
        Ok(())
    }

    /// The process's peak resident memory (Linux `VmHWM`).
    fn peak_rss_mb() -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb / 1024.0)
    }

    /// Reads each file `repeat` times and prints the minimum and median wall time.
    fn bench_parse(files: &[PathBuf], repeat: usize) -> Result<(), String> {
        println!("{:<48} {:>10} {:>10} {:>10} {:>10}  recordings", "file", "MB", "MB read", "min ms", "median ms");
        for path in files {
            let bytes = open_files(std::slice::from_ref(path))?.remove(0).1;
            let mut times = Vec::with_capacity(repeat);
            let mut count = 0;
            for _ in 0..repeat {
                let started = std::time::Instant::now();
                count = formats::load(&path.display().to_string(), bytes.clone()).map_err(|e| e.to_string())?.len();
                times.push(started.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(f64::total_cmp);
            let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let read = bytes.bytes_read() as f64 / repeat as f64 / 1e6;
            println!("{name:<48} {:>10.1} {read:>10.1} {:>10.1} {:>10.1}  {count}", bytes.len() as f64 / 1e6, times[0], times[repeat / 2]);
        }
        println!("(native, {} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
        Ok(())
    }

    /// Prints every array of each file (what the page's import view lists) and the spec
    /// fragment that picks the reader's guess, to copy and correct.
    fn list_arrays(read: &[(String, formats::FileBytes)]) -> Result<(), String> {
        let mut picks = Vec::new();
        for (file, bytes) in read {
            let inventory = formats::inventory(file, bytes.clone()).map_err(|e| e.to_string())?;
            println!("{file} ({}): {} arrays", inventory.format, inventory.entries.len());
            for entry in &inventory.entries {
                println!("  {}  {}", entry.path, entry.array.describe());
            }
            for why in &inventory.left_out {
                println!("  not read: {why}");
            }
            match inventory::guess(&inventory) {
                Ok(choice) => picks.push(FileArrays { name: formats::base_name(file).to_string(), arrays: choice }),
                Err(e) => println!("  no guess: {e}"),
            }
        }
        if !picks.is_empty() {
            let fragment = serde_json::json!({ "data": { "source": "files", "names": [], "files": picks } });
            println!("spec fragment (edit the paths to pick other arrays; `run SPEC --file …` and `inspect --spec SPEC` use it):");
            println!("{}", serde_json::to_string_pretty(&fragment).map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    /// Prints each recording, then the identified neurons every recording shares.
    fn inspect(files: &[PathBuf], picks: &[(String, Choice)], arrays: bool) -> Result<(), String> {
        // read together, as the page reads a drop: side files attach to their recording
        let read = open_files(files)?;
        if arrays {
            list_arrays(&read)?;
        }
        let started = std::time::Instant::now();
        let dropped = formats::load_files_picked(&read, picks);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if let Some(e) = dropped.errors.first() {
            return Err(e.to_string());
        }
        let all: Vec<Recording> = dropped.recordings.iter().map(|(_, r)| r.clone()).collect();
        for (file, _) in &read {
            let recordings: Vec<&Recording> = dropped.recordings.iter().filter(|(f, _)| f == file).map(|(_, r)| r).collect();
            if recordings.is_empty() {
                continue;
            }
            println!("{file} — {} recording(s), parsed in {ms:.0} ms", recordings.len());
            for rec in recordings {
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
                println!("    from: {}", rec.source);
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
        }
        for note in &dropped.notes {
            println!("side file {note}");
        }
        let shared = names::shared_identified(&all);
        println!("identified neurons shared by all {} recordings: {}", all.len(), shared.len());
        if !shared.is_empty() {
            println!("  {}", shared.join(" "));
        }
        Ok(())
    }
}
