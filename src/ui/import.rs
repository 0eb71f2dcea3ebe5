//! Bring your own recordings: drop or pick files, see what each holds and what the reader made
//! of it, correct that guess, preview every animal (raster + ethogram), see which neurons the
//! animals share, and choose how behaviour states are merged. Files are read and parsed in a
//! Web Worker of their own (never on the page's thread, so a hostile file cannot freeze or
//! kill the page); nothing is uploaded. A file that cannot be read — or that kills the reader —
//! is reported by name, and what was loaded stays.

use std::sync::Arc;

use leptos::prelude::*;

use super::chart::PlotCanvas;
use super::events::EventAligned;
use super::keep;
use super::worm::{OnTheWorm, WormView};
use crate::worker::{FromWorker, ParsedDrop, ToWorker, TrainingWorker};
use crate::data::formats::inventory::{self, Array, Choice, Inventory};
use crate::data::labels::{self, KATO_4_CLASS, KATO_7_STATE};
use crate::data::preprocess::NeuronSet;
use crate::data::{Labels, Recording, names};
use crate::plot::{Coverage, Raster, preview};
use crate::train::experiment::FileArrays;

/// One file the user brought: what it holds and what the reader guessed.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub file: String,
    pub bytes: usize,
    /// The arrays it holds (`None` for side files and unreadable files).
    pub inventory: Option<Inventory>,
    pub guess: Option<Choice>,
    /// For a side file (names, state indices): what it is.
    pub side: Option<String>,
}

/// A line under the drop zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub error: bool,
    pub text: String,
}

/// The recordings the page holds, shared by every panel.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    pub files: RwSignal<Vec<FileEntry>>,
    /// Each animal with the file it came from (shared: panels read it without copying traces).
    pub animals: RwSignal<Vec<(String, Arc<Recording>)>>,
    pub messages: RwSignal<Vec<Message>>,
    pub neuron_set: RwSignal<NeuronSet>,
    /// The state merge, as typed (`labels::parse_merges`).
    pub merges: RwSignal<String>,
    /// The worker that reads files (started at the first drop).
    reader: StoredValue<Option<TrainingWorker>, LocalStorage>,
    /// The files it is reading now.
    reading: RwSignal<Vec<String>>,
    /// Arrays the user picked per file (kept in the experiment's spec, and applied again when a
    /// spec that has them meets its files).
    pub picks: RwSignal<Vec<FileArrays>>,
    /// The animals kept in this browser, by the address of their shared recording.
    pub kept: RwSignal<Vec<usize>>,
}

impl Library {
    pub fn new() -> Self {
        Self {
            files: RwSignal::new(Vec::new()),
            animals: RwSignal::new(Vec::new()),
            messages: RwSignal::new(Vec::new()),
            neuron_set: RwSignal::new(NeuronSet::Shared),
            merges: RwSignal::new(labels::format_merges(KATO_4_CLASS)),
            reader: StoredValue::new_local(None),
            reading: RwSignal::new(Vec::new()),
            kept: RwSignal::new(Vec::new()),
            picks: RwSignal::new(Vec::new()),
        }
    }

    /// Loads the recordings kept in this browser by earlier visits, saying so.
    pub fn restore_kept(&self) {
        let library = *self;
        wasm_bindgen_futures::spawn_local(async move {
            let (kept, errors) = keep::kept_recordings().await;
            if kept.is_empty() && errors.is_empty() {
                return;
            }
            let n = kept.len();
            let shared: Vec<(String, Arc<Recording>)> = kept.into_iter().map(|(f, r)| (f, Arc::new(r))).collect();
            library.kept.update(|k| k.extend(shared.iter().map(|(_, r)| Arc::as_ptr(r) as usize)));
            library.animals.update(|a| a.extend(shared));
            library.messages.update(|m| {
                if n > 0 {
                    m.push(Message { error: false, text: format!("{n} recording(s) kept in this browser were loaded again.") });
                }
                m.extend(errors.into_iter().map(|text| Message { error: true, text }));
            });
        });
    }

    /// Keeps the animal `rec` (from `file`) in this browser, or stops keeping it.
    fn set_kept(&self, file: String, rec: Arc<Recording>, keep_it: bool) {
        let library = *self;
        let ptr = Arc::as_ptr(&rec) as usize;
        wasm_bindgen_futures::spawn_local(async move {
            let done = if keep_it { keep::keep_recording(&file, &rec).await } else { keep::drop_recording(&rec).await };
            match done {
                Ok(()) if keep_it => library.kept.update(|k| k.push(ptr)),
                Ok(()) => library.kept.update(|k| k.retain(|p| *p != ptr)),
                Err(e) => library.messages.update(|m| m.push(Message { error: true, text: format!("{}: could not be kept in this browser ({e})", rec.name) })),
            }
        });
    }

    /// Sends files dropped together to the reading worker (started on first use).
    pub fn read(&self, files: Vec<web_sys::File>) {
        let names: Vec<String> = files.iter().map(web_sys::File::name).collect();
        if self.start_reading(names) {
            self.reader.with_value(|w| if let Some(w) = w { w.parse(&files) });
        }
    }

    /// Reads files by URL: only the byte ranges a reader uses are fetched (HTTP range requests).
    pub fn open_urls(&self, urls: Vec<String>) {
        if self.start_reading(urls.clone()) {
            self.reader.with_value(|w| if let Some(w) = w { w.send(&ToWorker::OpenUrls { urls }, &[]) });
        }
    }

    /// Starts the reading worker if needed and notes what it is reading; false if it cannot start.
    fn start_reading(&self, names: Vec<String>) -> bool {
        if names.is_empty() {
            return false;
        }
        if self.reader.with_value(Option::is_none) {
            let me = *self;
            match TrainingWorker::start(crate::worker::THIS_BUILD, move |m| me.receive(m)) {
                Ok(w) => self.reader.set_value(Some(w)),
                Err(e) => {
                    self.messages.set(vec![Message { error: true, text: format!("the files cannot be read: {e}") }]);
                    return false;
                }
            }
        }
        self.messages.set(vec![Message { error: false, text: format!("Reading {}…", names.join(", ")) }]);
        // drops queue in the worker: every file still being read is remembered
        self.reading.update(|r| r.extend(names));
        true
    }

    /// A message from the reading worker.
    fn receive(&self, message: FromWorker) {
        match message {
            FromWorker::Reading { file, bytes } if bytes > 1e6 => {
                self.messages.set(vec![Message { error: false, text: format!("Reading {file} ({:.1} MB)…", bytes / 1e6) }]);
            }
            FromWorker::Parsed { drop } => {
                let done = |f: &String| drop.sizes.iter().any(|(d, _)| d == f) || drop.errors.iter().any(|(d, _)| d == f);
                self.reading.update(|r| r.retain(|f| !done(f)));
                self.accept(*drop);
            }
            FromWorker::Lost { message } => {
                // the reader died on these files (out of memory, a crash): say so, keep the rest
                let files = self.reading.get_untracked();
                self.reading.set(Vec::new());
                let text = format!("{}: the reader stopped while reading {} ({message}); nothing loaded before was lost", files.join(", "), if files.len() > 1 { "them" } else { "it" });
                self.messages.set(vec![Message { error: true, text }]);
            }
            FromWorker::Failed { message } => {
                self.reading.set(Vec::new());
                self.messages.set(vec![Message { error: true, text: message }]);
            }
            _ => {}
        }
    }

    /// The recordings, shared (for a run or a model to apply).
    pub fn recordings(&self) -> Vec<Arc<Recording>> {
        self.animals.with_untracked(|a| a.iter().map(|(_, r)| r.clone()).collect())
    }

    /// Adds what a drop of files held; a file that failed is reported and changes nothing.
    /// Recordings from a file of the same name are replaced.
    fn accept(&self, mut dropped: ParsedDrop) {
        if let Some((file, choice)) = dropped.picked.take() {
            self.picked(dropped, &file, choice);
            return;
        }
        let failed: Vec<&str> = dropped.errors.iter().map(|(f, _)| f.as_str()).collect();
        let size = |file: &str| dropped.sizes.iter().find(|(f, _)| f == file).map_or(0, |(_, b)| *b as usize);
        // every listed file, also one whose guess failed: its arrays can be picked by hand
        let listed = dropped.listings.iter().map(|inv| FileEntry {
            file: inv.file.clone(),
            bytes: size(&inv.file),
            guess: inventory::guess(inv).ok(),
            inventory: Some(inv.clone()),
            side: None,
        });
        let sides = dropped.side_files.iter().filter(|(f, _)| !failed.contains(&f.as_str())).map(|(file, what)| FileEntry {
            file: file.clone(),
            bytes: size(file),
            inventory: None,
            guess: None,
            side: Some(what.clone()),
        });
        let entries: Vec<FileEntry> = listed.chain(sides).collect();
        let loaded: Vec<String> = dropped.recordings.iter().map(|(f, _)| f.clone()).collect();
        let count = dropped.recordings.len();
        // shared before the recordings they replace are dropped: see `Animals`' key
        let new: Vec<(String, Arc<Recording>)> = dropped.recordings.drain(..).map(|(f, r)| (f, Arc::new(r))).collect();
        self.animals.update(|a| {
            a.retain(|(f, _)| !loaded.contains(f));
            a.extend(new);
        });
        self.files.update(|list| {
            for e in entries {
                list.retain(|old| old.file != e.file);
                list.push(e);
            }
        });
        let megabytes = dropped.sizes.iter().map(|(_, b)| b).sum::<f64>() / 1e6;
        let transferred = dropped.transferred.iter().map(|(_, b)| b).sum::<f64>() / 1e6;
        // NWB/HDF5 files are read in parts: say how little of a big file was read
        let part = if transferred < 0.5 * megabytes { format!(" ({transferred:.1} MB of it read)") } else { String::new() };
        let mut messages = vec![Message {
            error: false,
            text: format!(
                "Read {} file(s), {megabytes:.1} MB{part}, in {:.0} ms: {} recording(s).",
                dropped.sizes.len(),
                dropped.seconds * 1e3,
                count
            ),
        }];
        messages.extend(dropped.notes.into_iter().map(|text| Message { error: false, text }));
        messages.extend(dropped.errors.into_iter().map(|(_, text)| Message { error: true, text }));
        self.messages.set(messages);
    }

    /// Asks the reader for `file`'s recording built from the arrays `choice` picks (it reads
    /// them from the file again: the page's listing holds large arrays by their shape only).
    fn apply(&self, file: &str, choice: &Choice) {
        if self.start_reading(vec![file.to_string()]) {
            let message = ToWorker::Assemble { file: file.to_string(), choice: choice.clone() };
            self.reader.with_value(|w| if let Some(w) = w { w.send(&message, &[]) });
        }
    }

    /// What the reader built from picked arrays: it replaces the file's recordings, or nothing
    /// changes and the page says why.
    fn picked(&self, mut dropped: ParsedDrop, file: &str, choice: Choice) {
        let Some((_, rec)) = dropped.recordings.pop().filter(|_| dropped.errors.is_empty()) else {
            let why: Vec<String> = dropped.errors.into_iter().map(|(_, e)| e).collect();
            let why = if why.is_empty() { format!("{file}: the arrays picked make no recording") } else { why.join("; ") };
            self.messages.set(vec![Message { error: true, text: format!("{why} (nothing was changed)") }]);
            return;
        };
        let text = format!("{file}: now one recording from '{}' ({} frames × {} neurons).", choice.traces, rec.frames, rec.neurons);
        // shared before the recording it replaces is dropped: see `Animals`' key
        let rec = Arc::new(rec);
        self.animals.update(|a| {
            let at = a.iter().position(|(f, _)| f == file).unwrap_or(a.len());
            a.retain(|(f, _)| f != file);
            a.insert(at.min(a.len()), (file.to_string(), rec));
        });
        self.messages.set(vec![Message { error: false, text }]);
        self.picks.update(|p| {
            p.retain(|f| f.name != file);
            p.push(FileArrays { name: file.to_string(), arrays: choice });
        });
    }
}

impl Default for Library {
    fn default() -> Self {
        Self::new()
    }
}

/// The files of a file list, taken now: clearing the input afterwards empties the list.
fn files_of(list: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

/// The import panel.
#[component]
pub fn ImportPanel() -> impl IntoView {
    let library = expect_context::<Library>();
    library.restore_kept();
    let hover = RwSignal::new(false);
    let take = move |list: Option<web_sys::FileList>| {
        if let Some(list) = list {
            library.read(files_of(&list));
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        take(input.files());
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        hover.set(false);
        take(ev.data_transfer().and_then(|d| d.files()));
    };
    let url_input = NodeRef::<leptos::html::Input>::new();
    let on_url = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = url_input.get() {
            let url = input.value().trim().to_string();
            if !url.is_empty() {
                library.open_urls(vec![url]);
            }
        }
    };
    let messages = move || {
        library
            .messages
            .get()
            .into_iter()
            .map(|m| view! { <li class:error=m.error>{m.text}</li> })
            .collect_view()
    };
    view! {
        <section class="panel" aria-labelledby="import-title">
            <h2 id="import-title">"Your recordings"</h2>
            <div id="drop-zone" class="drop-zone" class:hover=move || hover.get()
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); hover.set(true); }
                on:dragleave=move |_| hover.set(false)
                on:drop=on_drop>
                <p>"Drop recordings here — CSV/TSV, NPY/NPZ, MATLAB (v5 and v7.3), NWB or other HDF5 — with any "
                   "side files (neuron names, state labels) — or "
                   <label class="pick">"choose files"
                       <input id="file-input" type="file" multiple on:change=on_pick />
                   </label>
                   ". They are read here and never leave your computer."</p>
            </div>
            <form class="open-url" on:submit=on_url>
                <label for="url-input">"Or open a file by its web address (only the parts used are fetched):"</label>
                <input id="url-input" type="url" placeholder="https://…/recording.nwb" node_ref=url_input />
                <button id="open-url" type="submit">"Open"</button>
            </form>
            <ul id="import-messages" class="messages" aria-live="polite">{messages}</ul>
            <FileList />
            <Animals />
            <AnimalViews />
            <SharedNeurons />
            <States />
        </section>
    }
}

/// Each file: what it holds, what the reader took from it, and a form to change that.
#[component]
fn FileList() -> impl IntoView {
    let library = expect_context::<Library>();
    view! {
        <div id="files">
            <For each={move || library.files.get()} key={|e: &FileEntry| (e.file.clone(), e.bytes, e.guess.clone().map(|g| g.traces))} let:entry>
                <FileCard entry=entry />
            </For>
        </div>
    }
}

/// One file's listing and its correction form.
///
/// * `entry`: the file.
#[component]
fn FileCard(entry: FileEntry) -> impl IntoView {
    let library = expect_context::<Library>();
    let title = format!("{} ({:.1} MB)", entry.file, entry.bytes as f64 / 1e6);
    let Some(inv) = entry.inventory.clone() else {
        let what = entry.side.clone().unwrap_or_else(|| "read by its layout".into());
        return view! { <details class="file"><summary>{title} " — " {what}</summary></details> }.into_any();
    };
    let choice = RwSignal::new(entry.guess.clone().unwrap_or_default());
    let file = entry.file.clone();
    let paths = |keep: &dyn Fn(&Array) -> bool| inv.entries.iter().filter(|e| keep(&e.array)).map(|e| e.path.clone()).collect::<Vec<_>>();
    let traces_options = paths(&|a| !matches!(a, Array::Text { .. }) && a.shape().len() == 2);
    let text_options = paths(&|a| matches!(a, Array::Text { .. }) && a.shape().len() == 1);
    let label_options = paths(&|a| a.shape().len() == 1);
    let rows = inv
        .entries
        .iter()
        .map(|e| {
            let path = e.path.clone();
            let role = move || {
                let c = choice.get();
                let p = Some(path.clone());
                if c.traces == path {
                    "traces"
                } else if c.names == p {
                    "neuron names"
                } else if c.labels == p {
                    "labels"
                } else if c.state_names == p {
                    "state names"
                } else {
                    ""
                }
            };
            view! { <tr><td><code>{e.path.clone()}</code></td><td>{e.array.describe()}</td><td class="role">{role}</td></tr> }
        })
        .collect_view();
    let summary = format!("{title} — {}, {} arrays", inv.format, inv.entries.len());
    let apply = move |_| library.apply(&file, &choice.get_untracked());
    view! {
        <details class="file">
            <summary>{summary}</summary>
            <table class="listing">
                <thead><tr><th>"array"</th><th>"type and shape"</th><th>"used as"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <div class="choice">
                <label>"Traces "
                    <Select options=traces_options optional=false
                        value=Signal::derive(move || Some(choice.get().traces))
                        set={move |v: Option<String>| choice.update(|c| c.traces = v.unwrap_or_default())} />
                </label>
                <label>"Neurons are "
                    <select on:change=move |ev| { let rows = event_target_value(&ev) == "rows"; choice.update(|c| c.neurons_on_rows = rows); }
                        prop:value=move || if choice.get().neurons_on_rows { "rows" } else { "columns" }>
                        <option value="columns">"columns (frames are rows)"</option>
                        <option value="rows">"rows (frames are columns)"</option>
                    </select>
                </label>
                <label>"Neuron names "
                    <Select options=text_options.clone() optional=true value=Signal::derive(move || choice.get().names)
                        set={move |v| choice.update(|c| c.names = v)} />
                </label>
                <label>"Labels "
                    <Select options=label_options optional=true value=Signal::derive(move || choice.get().labels)
                        set={move |v| choice.update(|c| c.labels = v)} />
                </label>
                <label>"State names "
                    <Select options=text_options optional=true value=Signal::derive(move || choice.get().state_names)
                        set={move |v| choice.update(|c| c.state_names = v)} />
                </label>
                <label>"Frame rate (Hz) "
                    <input type="number" min="0" step="any" class="fps"
                        prop:value=move || choice.get().fps.map(|f| f.to_string()).unwrap_or_default()
                        on:change=move |ev| { let v = event_target_value(&ev).parse::<f32>().ok(); choice.update(|c| c.fps = v); } />
                </label>
                <button on:click=apply>"Use these arrays"</button>
            </div>
        </details>
    }
    .into_any()
}

/// A `<select>` over array paths; `optional` adds "none".
#[component]
fn Select(options: Vec<String>, optional: bool, #[prop(into)] value: Signal<Option<String>>, set: impl Fn(Option<String>) + 'static) -> impl IntoView {
    let current = move || value.get().unwrap_or_default();
    view! {
        <select on:change=move |ev| { let v = event_target_value(&ev); set((!v.is_empty()).then_some(v)); } prop:value=current>
            {optional.then(|| view! { <option value="">"none"</option> })}
            {options.into_iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
        </select>
    }
}

/// Every animal side by side: numbers and a raster with its ethogram.
#[component]
fn Animals() -> impl IntoView {
    let library = expect_context::<Library>();
    let count = move || library.animals.with(Vec::len);
    view! {
        <h3>"Animals: " <span id="animal-count">{count}</span></h3>
        <div class="animals">
            <For each={move || library.animals.get().into_iter().enumerate().collect::<Vec<_>>()}
                // keyed by the shared recording's address, so that a recording replaced by another
                // of the same size is redrawn: a new one is always made before the one it replaces
                // is dropped, so it never takes the old one's address
                key={|(i, (_, r)): &(usize, (String, Arc<Recording>))| (*i, Arc::as_ptr(r) as usize)} let:item>
                <AnimalCard index=item.0 file=item.1.0 rec=item.1.1 />
            </For>
        </div>
    }
}

/// One animal.
///
/// * `index`: its position (for the canvas id); `file`: where it came from; `rec`: the data.
#[component]
fn AnimalCard(index: usize, file: String, rec: Arc<Recording>) -> impl IntoView {
    let library = expect_context::<Library>();
    let identified = rec.neuron_names.iter().flatten().count();
    let stats = format!(
        "{} frames · {} neurons ({identified} identified) · {:.2} Hz · {}",
        rec.frames,
        rec.neurons,
        rec.fps,
        rec.labels.as_ref().map_or("no labels".to_string(), |l| format!("{} states", l.names.len()))
    );
    let raster = Raster::from_recording(&rec, 400);
    let traces = preview::traces(&rec, 800);
    let name = rec.name.clone();
    let ptr = Arc::as_ptr(&rec) as usize;
    let kept = move || library.kept.with(|k| k.contains(&ptr));
    let (keep_file, keep_rec) = (file.clone(), rec.clone());
    let toggle_keep = move |ev: leptos::ev::Event| library.set_kept(keep_file.clone(), keep_rec.clone(), event_target_checked(&ev));
    let dropped = rec.clone();
    // removed from the page, it is no longer kept either
    let remove = move |_| {
        if kept() {
            library.set_kept(file.clone(), dropped.clone(), false);
        }
        library.animals.update(|a| a.retain(|(f, r)| !(f == &file && r.name == name)));
    };
    view! {
        <article class="animal">
            <h4>{rec.name.clone()}</h4>
            <p class="stats">{stats}</p>
            <p class="source">"from " {rec.source.clone()}</p>
            <PlotCanvas data=Signal::derive(move || raster.clone())
                id=format!("raster-{index}") class="raster" label=format!("activity raster of {}", rec.name) width=440 height=250 />
            <PlotCanvas data=Signal::derive(move || traces.clone())
                id=format!("traces-{index}") class="traces" label=format!("a few neurons' traces of {}", rec.name) width=440 height=250 />
            <div class="controls">
                <label><input type="checkbox" class="keep-animal" prop:checked=kept on:change=toggle_keep /> " Keep in this browser"</label>
                <button class="secondary" on:click=remove>"Remove"</button>
            </div>
        </article>
    }
}

/// One chosen animal on the worm (played back, its raster under the same cursor) and its
/// activity around behaviour transitions.
#[component]
fn AnimalViews() -> impl IntoView {
    let library = expect_context::<Library>();
    let chosen = RwSignal::new(0usize);
    let recording = Signal::derive(move || library.animals.with(|a| a.get(chosen.get()).or(a.first()).map(|(_, r)| r.clone())));
    let worm = Memo::new(move |_| recording.get().map(|r| OnTheWorm::of(Raster::from_recording(&r, 400))));
    let cursor = RwSignal::new(0usize);
    let raster = Signal::derive(move || worm.with(|w| w.as_ref().map(|w| w.raster_at(cursor.get()))));
    let traces = Memo::new(move |_| recording.get().map(|r| preview::traces(&r, 800)));
    let traces_at_cursor = Signal::derive(move || worm.with(|w| w.as_ref().zip(traces.get()).map(|(w, t)| w.traces_at(t, cursor.get()))));
    let options = move || {
        library.animals.with(|a| a.iter().enumerate().map(|(i, (_, r))| view! { <option value=i.to_string()>{r.name.clone()}</option> }).collect_view())
    };
    view! {
        <Show when=move || library.animals.with(|a| !a.is_empty())>
            <h3>"An animal on the worm, and around its behaviour"</h3>
            <label>"Animal " <select id="view-animal" on:change=move |ev| chosen.set(event_target_value(&ev).parse().unwrap_or(0)) prop:value=move || chosen.get().to_string()>{options}</select></label>
            <WormView id="animal-worm" recording=Signal::derive(move || worm.get()) cursor=cursor />
            <PlotCanvas data=raster id="animal-raster" label="activity raster with the ethogram and the moment shown on the worm" width=900 height=300 />
            <PlotCanvas data=traces_at_cursor id="animal-traces" label="a few neurons' traces, with the moment shown on the worm" width=900 height=300 />
            <EventAligned id="animal-events" recording=recording />
        </Show>
    }
}

/// The coverage matrix and the choice of neuron set for experiments across animals.
#[component]
fn SharedNeurons() -> impl IntoView {
    let library = expect_context::<Library>();
    let shared = Memo::new(move |_| library.animals.with(|a| names::shared_identified(a.iter().map(|(_, r)| &**r)).len()));
    let union = Memo::new(move |_| library.animals.with(|a| names::union_identified(a.iter().map(|(_, r)| &**r)).len()));
    let coverage = Signal::derive(move || library.animals.with(|a| Coverage::of(&a.iter().map(|(_, r)| &**r).collect::<Vec<_>>())));
    let set_to = move |s: NeuronSet| move |_| library.neuron_set.set(s);
    view! {
        <Show when=move || library.animals.with(|a| !a.is_empty())>
            <h3>"Identified neurons shared by all animals: " <span id="shared-count">{move || shared.get()}</span></h3>
            <PlotCanvas data=coverage id="coverage"
                label="coverage matrix: animals by identified neurons" width=900 height=260 />
            <fieldset class="neuron-set">
                <legend>"Neurons used across animals"</legend>
                <label><input type="radio" name="neuron-set" checked=move || library.neuron_set.get() == NeuronSet::Shared
                    on:change={set_to(NeuronSet::Shared)} />
                    {move || format!(" the {} shared by all", shared.get())}</label>
                <label><input type="radio" name="neuron-set" checked=move || library.neuron_set.get() == NeuronSet::UnionMasked
                    on:change={set_to(NeuronSet::UnionMasked)} />
                    {move || format!(" all {} identified in any animal, masked where an animal lacks one", union.get())}</label>
            </fieldset>
        </Show>
    }
}

/// Behaviour states found, and how they are merged into classes.
#[component]
fn States() -> impl IntoView {
    let library = expect_context::<Library>();
    let all = Memo::new(move |_| {
        library.animals.with(|a| {
            let mut names: Vec<String> = Vec::new();
            let mut counts: Vec<usize> = Vec::new();
            let mut kato = true;
            for l in a.iter().filter_map(|(_, r)| r.labels.as_ref()) {
                kato &= labels::is_kato_scheme(l);
                for (n, c) in l.names.iter().zip(labels::counts(l)) {
                    match names.iter().position(|m| m.eq_ignore_ascii_case(n)) {
                        Some(i) => counts[i] += c,
                        None => {
                            names.push(n.clone());
                            counts.push(c);
                        }
                    }
                }
            }
            (names.into_iter().zip(counts).collect::<Vec<_>>(), kato)
        })
    });
    let merged = move || -> Result<Vec<(String, usize)>, String> {
        let merges = labels::parse_merges(&library.merges.get())?;
        let (states, _) = all.get();
        let pooled = Labels {
            names: states.iter().map(|(n, _)| n.clone()).collect(),
            per_frame: states.iter().enumerate().flat_map(|(i, (_, c))| std::iter::repeat_n(Some(i as u16), *c)).collect(),
        };
        let out = labels::merge_states(&pooled, &merges);
        Ok(out.names.iter().cloned().zip(labels::counts(&out)).collect())
    };
    let preset = move |text: String| move |_| library.merges.set(text.clone());
    view! {
        <Show when=move || !all.get().0.is_empty()>
            <h3>"Behaviour states" <span id="label-scheme">{move || if all.get().1 { " (Kato et al. 2015 scheme)" } else { "" }}</span></h3>
            <ul id="states" class="states">
                {move || all.get().0.into_iter().enumerate().map(|(i, (n, c))| {
                    let color = crate::plot::raster::state_color(i);
                    let swatch = format!("background: rgb({}, {}, {})", color.0, color.1, color.2);
                    view! { <li data-state=n.clone()><span class="swatch" style=swatch></span>{format!("{n}: {c} frames")}</li> }
                }).collect_view()}
            </ul>
            <label for="merges">"Classes for behaviour classification (NAME = STATE + STATE; states not listed are left out):"</label>
            <textarea id="merges" rows="2" prop:value=move || library.merges.get()
                on:input=move |ev| library.merges.set(event_target_value(&ev))></textarea>
            <div class="controls">
                <button class="secondary" on:click={preset(labels::format_merges(KATO_4_CLASS))}>"Kato 4 classes"</button>
                <button class="secondary" on:click={preset(labels::format_merges(KATO_7_STATE))}>"Kato 8 states (NOSTATE left out)"</button>
            </div>
            <p id="merged-counts">{move || match merged() {
                Ok(classes) => classes.iter().map(|(n, c)| format!("{n} {c}")).collect::<Vec<_>>().join(" · "),
                Err(e) => format!("⚠ {e}"),
            }}</p>
        </Show>
    }
}
