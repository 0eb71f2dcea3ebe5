//! NWB 2 files: the neural activity, neuron names and behaviour of the layouts C. elegans labs
//! publish, found by their NWB types and names. Reading goes through [`super::hdf5`]'s helpers;
//! nothing else in the file is read (a raw imaging volume beside the traces costs nothing).
//!
//! Activity, in this order:
//! - a 2-D series (frames × ROIs, a `RoiResponseSeries` or any series with times): NWB's own
//!   ophys layout; the WormID / NWBelegans files (`ndx-multichannel-volume`:
//!   `CalciumActivity/SignalDFoF|SignalRawFluor/SignalCalciumImResponseSeries`); the Flavell lab's
//!   DANDI 000776. A `Signal…` series is preferred to a `Reference…` one, ΔF/F to raw.
//! - one 1-D series per neuron, a family sharing a name pattern: Kato 2015 as OpenSourceBrain
//!   published it (`traces__{i}__{ID}`, beside `traces_raw__…` and `tracesDif__…`), Scholz et al.
//!   2018 from the Leifer lab (`Activity_0000`…). Raw, derivative and deconvolved families lose
//!   to the processed one.
//!
//! Never activity: position tracks and posture (`SpatialSeries`, `Position`, anything under a
//! behaviour module), images. A file with only those is refused, listing what it holds.
//!
//! Names: `NeuronIDs/labels` (`ndx-multichannel-volume`), else a name column of the ROI table
//! (`neuron_name`, `ID_labels`; a ragged `ID_labels` of single characters with its
//! `ID_labels_index` is joined back into names), else the IDs in per-neuron series names.
//!
//! Behaviour, in this order: a `TimeIntervals` table with a state column; a series of state codes
//! (`States`, `Ethogram`) whose description names the codes ("‘FWD’ forward crawling; …" in code
//! order, or "forward (1), reverse (-1)"); a 0/1 event vector (`reversal_events`), giving the
//! states "no reversal" and "reversal". `Recording::source` says which path each part came from.
//! The layouts were learnt from the writers' code; `scripts/fixtures/layouts.py` writes a
//! faithful small file of each with pynwb, and `tests/layouts.rs` imports them.

use std::collections::HashMap;

use hdf5_pure::{AttrValue, File, Group};

use super::hdf5::{Src, TOP, Within, attr_f64, members, read_numeric, read_numeric_f32, read_strings};
use super::{FormatError, fps_from_times, labels_from_names, rate_or_default, stem};
use crate::data::{Labels, Recording, names};

/// How many group levels below `processing/`, `acquisition/` and `intervals/` are searched.
const MAX_DEPTH: usize = 4;

// NWB table columns.
const NAME_COLUMNS: &[&str] = &["neuron_name", "neuron_names", "roi_name", "ID_labels", "name"];
const STATE_COLUMNS: &[&str] = &["state", "states", "label", "behavior", "behaviour"];
/// Names of series holding one state code per frame.
const CODE_SERIES: &[&str] = &["states", "state", "ethogram", "behavior", "behaviour"];
/// Parts of a path that mark behaviour, posture or images: never neural activity.
const NOT_ACTIVITY: &[&str] = &["behavio", "position", "posture", "centerline", "stimul", "image", "eigenworm", "velocity"];
/// Types that are never neural activity.
const NOT_ACTIVITY_TYPES: &[&str] = &["SpatialSeries", "Position", "CenterlineSeries", "ImageSeries", "TwoPhotonSeries", "OnePhotonSeries", "MultiChannelVolumeSeries"];

/// A group met while walking the file.
struct Entry {
    path: String,
    group: Group,
    /// Its `neurodata_type` ("" if none).
    kind: String,
    /// A `rate` attribute on the group itself (non-standard, but seen).
    rate: Option<f64>,
    datasets: Vec<String>,
}

impl Entry {
    fn has(&self, name: &str) -> bool {
        self.datasets.iter().any(|d| d == name)
    }

    /// The last part of the path.
    fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    fn is_series(&self) -> bool {
        self.has("data") && (self.kind.ends_with("Series") || self.rate.is_some() || self.has("starting_time") || self.has("timestamps"))
    }

    /// Behaviour, posture or images, by type or place.
    fn not_activity(&self) -> bool {
        let lower = self.path.to_ascii_lowercase();
        NOT_ACTIVITY_TYPES.contains(&self.kind.as_str()) || NOT_ACTIVITY.iter().any(|w| lower.contains(w))
    }

    fn data_shape(&self) -> Option<Vec<u64>> {
        self.group.dataset("data").and_then(|d| d.shape()).ok()
    }
}

/// Datasets an NWB reader looks for, probed by name when a group cannot be listed.
const NWB_DATASETS: &[&str] = &["data", "rois", "starting_time", "timestamps", "start_time", "stop_time", "id", "labels", "ID_labels_index"];
/// Groups probed by name when a group cannot be listed: NWB's ophys containers and the names
/// the published C. elegans layouts use (`ndx-multichannel-volume`'s `CalciumActivity` module).
const NWB_GROUPS: &[&str] = &[
    "SignalRawFluor", "SignalDFoF", "SignalFluorescence", "ReferenceRawFluor", "ReferenceDFoF", "ProcessedRawFluor", "ProcessedDFoF",
    "SignalCalciumImResponseSeries", "Fluorescence", "DfOverF", "RoiResponseSeries", "NeuronIDs", "CalciumSeriesSegmentation",
    "ImageSegmentation", "PlaneSegmentation", "ophys", "Behavior", "behavior",
];

/// Collects the groups below `group`, `depth` levels deep.
///
/// hdf5-pure 0.47 cannot list a group that holds a soft link as h5py writes it (a symbol-table
/// entry without an object address: it reads past the end of the file). pynwb writes such links
/// wherever one container has two parents (DANDI 000776's `CalciumActivity`, every
/// PlaneSegmentation's `imaging_plane`), so a group that cannot be listed is searched by probing
/// the names this reader needs ([`NWB_DATASETS`], [`NWB_GROUPS`]).
fn walk(file: &Src<'_>, group: Group, path: String, depth: usize, out: &mut Vec<Entry>) -> Result<(), FormatError> {
    let (datasets, groups) = members_or_probed(file, &group, &path);
    // Some NWB attributes (object references, vlen string arrays such as `colnames`) are beyond
    // hdf5-pure; only `neurodata_type` and `rate` matter here, so an unreadable set is skipped.
    let attrs = group.attrs().unwrap_or_default();
    let kind = attrs.get("neurodata_type").and_then(AttrValue::as_str).unwrap_or_default().to_string();
    file.visit(&path)?;
    out.push(Entry { path: path.clone(), group: group.clone(), kind, rate: attr_f64(&attrs, "rate"), datasets });
    if depth == 0 {
        return Ok(());
    }
    for name in groups {
        let child = format!("{path}/{name}");
        walk(file, group.group(&name).within(file, &child)?, child, depth - 1, out)?;
    }
    Ok(())
}

/// A group's datasets and groups; for a group hdf5-pure cannot list (see [`walk`]), those of
/// the names an NWB reader looks for that it holds.
pub(super) fn members_or_probed(file: &Src<'_>, group: &Group, at: &str) -> (Vec<String>, Vec<String>) {
    members(file, group, at).unwrap_or_else(|_| {
        let probe = NWB_DATASETS.iter().chain(NAME_COLUMNS).chain(STATE_COLUMNS);
        let datasets = probe.filter(|n| group.dataset(n).is_ok()).map(|n| (*n).to_string()).collect();
        (datasets, NWB_GROUPS.iter().filter(|n| group.group(n).is_ok()).map(|n| (*n).to_string()).collect())
    })
}

/// Neuron names, one per column, and where they came from.
type Names = (Vec<Option<String>>, String);
/// Per-neuron series grouped by (group path, family name): (index, series, ID).
type Families<'a> = HashMap<(String, String), Vec<(usize, &'a Entry, Option<String>)>>;

/// The activity a recording is made of.
enum Activity<'a> {
    /// One 2-D series, frames × neurons.
    Matrix(&'a Entry),
    /// One 1-D series per neuron, in column order, with the ID its name carries.
    PerNeuron(Vec<(&'a Entry, Option<String>)>),
}

/// Reads the recording of an NWB file.
pub(super) fn read(file: &Src<'_>, h5: &File) -> Result<Vec<Recording>, FormatError> {
    let root = h5.root();
    let top = members(file, &root, TOP)?.1;
    let mut entries = Vec::new();
    for name in ["processing", "acquisition", "intervals"] {
        if top.iter().any(|g| g == name) {
            walk(file, root.group(name).within(file, name)?, name.to_string(), MAX_DEPTH, &mut entries)?;
        }
    }
    let activity = match matrix_series(&entries) {
        Some(series) => Activity::Matrix(series),
        None => per_neuron_series(&entries).map(Activity::PerNeuron).ok_or_else(|| nothing_found(file, &entries))?,
    };
    let (first, frames, neurons, values, traces_at) = match &activity {
        Activity::Matrix(series) => {
            let at = format!("{}/data", series.path);
            let (dims, values) = read_scaled(file, series, &at)?;
            let &[frames, neurons] = dims.as_slice() else {
                return Err(FormatError::invalid(file, format!("{at} has shape {dims:?}, expected frames × neurons")));
            };
            (*series, frames, neurons, values, at)
        }
        Activity::PerNeuron(members) => {
            let (first, _) = members[0];
            let (neurons, frames) = (members.len(), first.data_shape().and_then(|s| s.first().copied()).unwrap_or(0) as usize);
            // the first series' declared length sizes the matrix: no more than the budget allows
            let count = frames.checked_mul(neurons).filter(|&c| c as u64 <= file.budget.values_left()).ok_or_else(|| {
                FormatError::invalid(file, format!("{} series of {frames} frames are more values than a file may hold", neurons))
            })?;
            let mut values = vec![0.0f32; count];
            for (column, (member, _)) in members.iter().enumerate() {
                let at = format!("{}/data", member.path);
                let (_, column_values) = read_scaled(file, member, &at)?;
                if column_values.len() != frames {
                    return Err(FormatError::invalid(file, format!("{at} has {} frames, {} has {frames}", column_values.len(), first.path)));
                }
                for (frame, v) in column_values.into_iter().enumerate() {
                    values[frame * neurons + column] = v;
                }
            }
            // the name pattern: `traces__{i}__{ID}`, `Activity_{i}`
            let name = first.name();
            let pattern = match name.split_once("__") {
                Some((family, _)) => format!("{family}__{{i}}__{{ID}}"),
                None => format!("{}{{i}}", name.trim_end_matches(|c: char| c.is_ascii_digit())),
            };
            let parent = first.path.rsplit_once('/').map_or("", |(p, _)| p);
            (first, frames, neurons, values, format!("{parent}/{pattern}/data, {neurons} series"))
        }
    };
    if frames == 0 || neurons == 0 {
        return Err(FormatError::invalid(file, format!("{traces_at} is empty")));
    }
    let timing = series_timing(file, first, frames)?;
    let mut parts = vec![format!("traces '{traces_at}'")];
    let names = match &activity {
        Activity::Matrix(series) => matrix_names(file, &entries, series, neurons)?,
        Activity::PerNeuron(members) => {
            let ids: Vec<Option<String>> = members.iter().map(|(_, id)| id.as_deref().and_then(names::normalize)).collect();
            ids.iter().any(Option::is_some).then(|| (ids, "the series' names".to_string()))
        }
    };
    let neuron_names = match names {
        Some((names, from)) => {
            parts.push(format!("names from {from}"));
            names
        }
        None => vec![None; neurons],
    };
    let labels = match &timing {
        Some(t) => behaviour(file, &entries, frames, t)?,
        None => None,
    };
    if let Some((_, from)) = &labels {
        parts.push(format!("states from {from}"));
    }
    if let Some(t) = &timing
        && let Some(note) = &t.note
    {
        parts.push(note.clone());
    }
    let (fps, fps_note) = rate_or_default(timing.as_ref().map(|t| t.fps));
    Ok(vec![Recording {
        name: stem(file),
        source: format!("{file} (NWB {}{fps_note})", parts.join(", ")),
        frames,
        neurons,
        traces: values,
        neuron_names,
        fps,
        labels: labels.map(|(l, _)| l),
    }])
}

/// A series' data with its `conversion` and `offset` applied, as `f32`.
fn read_scaled(file: &Src<'_>, series: &Entry, at: &str) -> Result<(Vec<usize>, Vec<f32>), FormatError> {
    let data = series.group.dataset("data").within(file, at)?;
    let attrs = data.attrs().within(file, at)?;
    let (scale, offset) = (attr_f64(&attrs, "conversion").unwrap_or(1.0), attr_f64(&attrs, "offset").unwrap_or(0.0));
    read_numeric_f32(file, &data, at, |v| if scale != 1.0 || offset != 0.0 { v * scale + offset } else { v })
}

/// The best 2-D activity series: a `RoiResponseSeries` first, a signal before a reference
/// channel, ΔF/F before raw fluorescence.
fn matrix_series(entries: &[Entry]) -> Option<&Entry> {
    entries
        .iter()
        .filter(|e| e.is_series() && !e.not_activity())
        .filter(|e| e.data_shape().is_some_and(|s| s.len() == 2))
        .max_by_key(|e| {
            let p = e.path.to_ascii_lowercase();
            (
                e.kind == "RoiResponseSeries",
                !p.contains("reference"),
                p.contains("signal"),
                p.contains("dfoverf") || p.contains("dff") || p.contains("dfof"),
                p.contains("fluor"),
                std::cmp::Reverse(e.path.len()),
            )
        })
}

/// A per-neuron series name split into family, index and ID: `traces__35__AVAL` gives
/// ("traces", 35, Some("AVAL")), `Activity_0007` gives ("Activity", 7, None).
fn family_of(name: &str) -> Option<(String, usize, Option<String>)> {
    if let Some((family, rest)) = name.split_once("__") {
        let (index, id) = rest.split_once("__").map_or((rest, None), |(i, id)| (i, Some(id.to_string())));
        return Some((family.to_string(), index.parse().ok()?, id));
    }
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits == name.len() {
        return None;
    }
    let (family, index) = name.split_at(name.len() - digits);
    Some((family.trim_end_matches(['_', '-', ' ']).to_string(), index.parse().ok()?, None))
}

/// How much a family's name says "processed activity" (raw, derivative, deconvolved and
/// reference channels count against it).
fn family_score(family: &str) -> i32 {
    let f = family.to_ascii_lowercase();
    let good = ["activity", "trace", "dff", "dfof", "calcium", "fluor"].iter().filter(|w| f.contains(*w)).count() as i32;
    let bad = ["raw", "dif", "deriv", "deconv", "red", "reference", "background"].iter().filter(|w| f.contains(*w)).count() as i32;
    good - 2 * bad
}

/// The family of 1-D series, one per neuron, that holds the activity (at least two members
/// of one length, in one group).
fn per_neuron_series(entries: &[Entry]) -> Option<Vec<(&Entry, Option<String>)>> {
    let mut families: Families<'_> = HashMap::new();
    for e in entries.iter().filter(|e| e.is_series() && !e.not_activity()) {
        let one_d = e.data_shape().is_some_and(|s| s.len() == 1 || (s.len() == 2 && s[1] == 1));
        if let (true, Some((family, index, id))) = (one_d, family_of(e.name())) {
            let parent = e.path.rsplit_once('/').map_or("", |(p, _)| p).to_string();
            families.entry((parent, family)).or_default().push((index, e, id));
        }
    }
    let ((_, _), mut members) = families
        .into_iter()
        .filter(|(_, m)| m.len() >= 2)
        .max_by_key(|((parent, family), m)| (family_score(family), m.len(), std::cmp::Reverse(format!("{parent}/{family}"))))?;
    members.sort_by_key(|(index, _, _)| *index);
    let length = |e: &Entry| e.data_shape().and_then(|s| s.first().copied());
    let frames = length(members[0].1);
    Some(members.into_iter().filter(|(_, e, _)| length(e) == frames).map(|(_, e, id)| (e, id)).collect())
}

/// The refusal for a file without activity, naming the series it does hold.
fn nothing_found(file: &Src<'_>, entries: &[Entry]) -> FormatError {
    let series: Vec<String> = entries
        .iter()
        .filter(|e| e.is_series())
        .take(12)
        .map(|e| format!("{} ({}{:?})", e.path, if e.kind.is_empty() { String::new() } else { format!("{} ", e.kind) }, e.data_shape().unwrap_or_default()))
        .collect();
    let found = if series.is_empty() { "no series at all".to_string() } else { format!("found only {}", series.join(", ")) };
    FormatError::invalid(
        file,
        format!(
            "no neural activity: looked under processing/ and acquisition/ for a RoiResponseSeries (frames × neurons) \
             or one series per neuron, leaving out behaviour, position and images; {found}"
        ),
    )
}

/// Frame times and rate of a series.
struct Timing {
    times: Vec<f64>,
    fps: f32,
    /// Said in the recording's source when the times are irregular.
    note: Option<String>,
}

/// Frame times and rate: `starting_time` + `rate` (on it or on the series), else `timestamps`.
/// Irregular timestamps (frames dropped) give the mean rate over the recording, so its
/// duration stays right, and a note saying so.
fn series_timing(file: &Src<'_>, series: &Entry, frames: usize) -> Result<Option<Timing>, FormatError> {
    let (mut rate, mut start) = (series.rate, 0.0);
    if series.has("starting_time") {
        let at = format!("{}/starting_time", series.path);
        let ds = series.group.dataset("starting_time").within(file, &at)?;
        rate = attr_f64(&ds.attrs().within(file, &at)?, "rate").or(rate);
        start = read_numeric(file, &ds, &at)?.1.first().copied().filter(|s| s.is_finite()).unwrap_or(0.0);
    }
    if let Some(rate) = rate.filter(|r| r.is_finite() && *r > 0.0) {
        return Ok(Some(Timing { times: (0..frames).map(|i| start + i as f64 / rate).collect(), fps: rate as f32, note: None }));
    }
    if !series.has("timestamps") {
        return Ok(None);
    }
    let at = format!("{}/timestamps", series.path);
    let (_, times) = read_numeric(file, &series.group.dataset("timestamps").within(file, &at)?, &at)?;
    if times.len() != frames {
        return Err(FormatError::invalid(file, format!("{at} has {} times for {frames} frames", times.len())));
    }
    let Some(median_fps) = fps_from_times(&times) else { return Ok(None) };
    let span = times.last().zip(times.first()).map(|(b, a)| b - a).filter(|s| s.is_finite() && *s > 0.0);
    let mean_fps = span.map(|s| ((frames - 1) as f64 / s) as f32);
    Ok(Some(match mean_fps {
        Some(mean) if (mean / median_fps - 1.0).abs() > 0.05 => {
            let gap = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
            let note = format!("irregular timestamps: {:.2} Hz between most frames, gaps up to {gap:.1} s; {mean:.2} Hz over the recording used", median_fps);
            Timing { times, fps: mean, note: Some(note) }
        }
        _ => Timing { times, fps: median_fps, note: None },
    }))
}

/// Names for a 2-D series: `NeuronIDs/labels` of its module, else a name column of the ROI
/// table (in the order of the series' `rois` rows if given).
fn matrix_names(file: &Src<'_>, entries: &[Entry], series: &Entry, neurons: usize) -> Result<Option<Names>, FormatError> {
    let module = |path: &str| path.split('/').take(2).collect::<Vec<_>>().join("/");
    let labels = entries
        .iter()
        .filter(|e| (e.kind == "SegmentationLabels" || e.name() == "NeuronIDs") && e.has("labels"))
        .max_by_key(|e| module(&e.path) == module(&series.path));
    if let Some(ids) = labels {
        let at = format!("{}/labels", ids.path);
        let all = read_strings(file, &ids.group.dataset("labels").within(file, &at)?, &at)?;
        if all.len() == neurons {
            return Ok(Some((all.iter().map(|s| names::normalize(s)).collect(), format!("'{at}'"))));
        }
    }
    let Some((table, column)) = entries.iter().find_map(|e| {
        let is_table = e.kind == "PlaneSegmentation" || e.path.ends_with("PlaneSegmentation");
        NAME_COLUMNS.iter().find(|c| is_table && e.has(c)).map(|c| (e, *c))
    }) else {
        return Ok(None);
    };
    let at = format!("{}/{column}", table.path);
    let all = table_column_text(file, table, column)?;
    let rows: Vec<usize> = if series.has("rois") {
        let rois_at = format!("{}/rois", series.path);
        let (_, rows) = read_numeric(file, &series.group.dataset("rois").within(file, &rois_at)?, &rois_at)?;
        rows.iter()
            .map(|&r| (r >= 0.0 && r.fract() == 0.0 && (r as usize) < all.len()).then_some(r as usize))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| FormatError::invalid(file, format!("{rois_at} points outside the {} rows of {at}", all.len())))?
    } else {
        (0..all.len()).collect()
    };
    if rows.len() != neurons {
        return Err(FormatError::invalid(file, format!("{} neuron names ({at}) for {neurons} columns of {}/data", rows.len(), series.path)));
    }
    Ok(Some((rows.iter().map(|&r| names::normalize(&all[r])).collect(), format!("'{at}'"))))
}

/// A text column of a table; a ragged column (`<column>_index` beside it, as hdmf writes a
/// list of strings split into characters) is joined back into one string per row.
fn table_column_text(file: &Src<'_>, table: &Entry, column: &str) -> Result<Vec<String>, FormatError> {
    let at = format!("{}/{column}", table.path);
    let flat = read_strings(file, &table.group.dataset(column).within(file, &at)?, &at)?;
    let index = format!("{column}_index");
    if !table.has(&index) && table.group.dataset(&index).is_err() {
        return Ok(flat);
    }
    let index_at = format!("{}/{index}", table.path);
    let (_, ends) = read_numeric(file, &table.group.dataset(&index).within(file, &index_at)?, &index_at)?;
    let mut rows = Vec::with_capacity(ends.len());
    let mut start = 0usize;
    for &end in &ends {
        if !(end >= 0.0 && end.fract() == 0.0 && end <= flat.len() as f64) || (end as usize) < start {
            return Err(FormatError::invalid(file, format!("{index_at} runs outside the {} elements of {at}", flat.len())));
        }
        let end = end as usize;
        rows.push(flat[start..end].concat());
        start = end;
    }
    Ok(rows)
}

/// Per-frame labels, and where they came from.
fn behaviour(file: &Src<'_>, entries: &[Entry], frames: usize, timing: &Timing) -> Result<Option<(Labels, String)>, FormatError> {
    if let Some(found) = interval_labels(file, entries, timing)? {
        return Ok(Some(found));
    }
    // series of one value per frame, other than the activity
    let per_frame = |e: &&Entry| e.is_series() && e.data_shape().is_some_and(|s| s.iter().product::<u64>() == frames as u64 && s[0] == frames as u64);
    for e in entries.iter().filter(per_frame).filter(|e| CODE_SERIES.contains(&e.name().to_ascii_lowercase().as_str())) {
        let at = format!("{}/data", e.path);
        let (_, values) = read_numeric(file, &e.group.dataset("data").within(file, &at)?, &at)?;
        if let Some(codes) = whole_numbers(&values) {
            let description = e.group.attrs().ok().and_then(|a| a.get("description").and_then(AttrValue::as_str).map(str::to_string)).unwrap_or_default();
            return Ok(Some((code_labels(&codes, &description), format!("'{at}' (codes named by its description)"))));
        }
    }
    for e in entries.iter().filter(per_frame).filter(|e| e.name().to_ascii_lowercase().contains("reversal")) {
        let at = format!("{}/data", e.path);
        let (_, values) = read_numeric(file, &e.group.dataset("data").within(file, &at)?, &at)?;
        if values.iter().all(|v| v.is_nan() || *v == 0.0 || *v == 1.0) {
            let per_frame = values.iter().map(|v| (!v.is_nan()).then_some(*v as u16)).collect();
            let labels = Labels { names: vec!["no reversal".into(), "reversal".into()], per_frame };
            return Ok(Some((labels, format!("'{at}' (1 = reversal)"))));
        }
    }
    Ok(None)
}

/// Whole numbers (NaN as `None`), or `None` if any value is fractional.
fn whole_numbers(values: &[f64]) -> Option<Vec<Option<i64>>> {
    values.iter().map(|&v| if v.is_nan() { Some(None) } else { (v.fract() == 0.0 && v.abs() < 1e6).then_some(Some(v as i64)) }).collect()
}

/// State codes named from a description: "forward (1), reverse (-1)" names each code; a list
/// of quoted names ("‘FWD’ forward crawling; ‘SLOW’ …") names codes in order from the lowest
/// (1-based when the codes start at 1). Codes without a name are called "state k".
fn code_labels(codes: &[Option<i64>], description: &str) -> Labels {
    let mut named: HashMap<i64, String> = named_codes(description);
    if named.is_empty() {
        let quoted = quoted_names(description);
        let first = if codes.iter().flatten().min().is_some_and(|&c| c >= 1) { 1 } else { 0 };
        named = quoted.into_iter().enumerate().map(|(i, n)| (first + i as i64, n)).collect();
    }
    // one spelling per state across files: states ordered by name, as the other readers do
    let per_frame: Vec<String> = codes.iter().map(|c| c.map(|c| named.get(&c).cloned().unwrap_or_else(|| format!("state {c}"))).unwrap_or_default()).collect();
    labels_from_names(&per_frame)
}

/// `name (code)` pairs: "forward (1), reverse (-1), turning (2), rest (0)".
fn named_codes(description: &str) -> HashMap<i64, String> {
    let mut out = HashMap::new();
    for part in description.split([',', ';']) {
        let Some((name, rest)) = part.rsplit_once('(') else { continue };
        let Some(code) = rest.split(')').next().and_then(|c| c.trim().parse::<i64>().ok()) else { continue };
        let name = name.trim().trim_start_matches(|c: char| !c.is_alphanumeric()).rsplit(':').next().unwrap_or("").trim();
        if !name.is_empty() && name.len() <= 40 {
            out.insert(code, name.to_string());
        }
    }
    out
}

/// Names in single quotes (straight or curly), in order: "‘FWD’ forward crawling; ‘SLOW’ …".
fn quoted_names(description: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = description;
    while let Some(open) = rest.find(['\u{2018}', '\'']) {
        let after = &rest[open + rest[open..].chars().next().map_or(1, char::len_utf8)..];
        let Some(close) = after.find(['\u{2019}', '\'']) else { break };
        let name = after[..close].trim();
        if !name.is_empty() && name.len() <= 40 {
            out.push(name.to_string());
        }
        rest = &after[close + after[close..].chars().next().map_or(1, char::len_utf8)..];
    }
    out
}

/// Per-frame labels from the first TimeIntervals-like table with a state column: each frame
/// takes the state of the interval [start, stop) holding its time (first interval wins).
fn interval_labels(file: &Src<'_>, entries: &[Entry], timing: &Timing) -> Result<Option<(Labels, String)>, FormatError> {
    let Some((table, column)) = entries.iter().find_map(|e| {
        let intervals = e.has("start_time") && e.has("stop_time");
        STATE_COLUMNS.iter().find(|c| intervals && e.has(c)).map(|c| (e, *c))
    }) else {
        return Ok(None);
    };
    let column_f64 = |name: &str| -> Result<Vec<f64>, FormatError> {
        let at = format!("{}/{name}", table.path);
        Ok(read_numeric(file, &table.group.dataset(name).within(file, &at)?, &at)?.1)
    };
    let (start, stop) = (column_f64("start_time")?, column_f64("stop_time")?);
    let at = format!("{}/{column}", table.path);
    let states = read_strings(file, &table.group.dataset(column).within(file, &at)?, &at)?;
    if start.len() != stop.len() || start.len() != states.len() {
        return Err(FormatError::invalid(
            file,
            format!("{}: start_time, stop_time and {column} differ in length ({}, {}, {})", table.path, start.len(), stop.len(), states.len()),
        ));
    }
    // Interval bounds sit on frame times; a thousandth of a frame absorbs their rounding.
    let eps = 1e-3 / f64::from(timing.fps);
    let times = &timing.times;
    let mut per_frame = vec![String::new(); times.len()];
    for ((&a, &b), state) in start.iter().zip(&stop).zip(&states) {
        if !(a.is_finite() && b.is_finite()) {
            continue;
        }
        let first = times.partition_point(|&t| t + eps < a);
        let end = times.partition_point(|&t| t + eps < b).max(first);
        for slot in per_frame[first..end].iter_mut().filter(|s| s.is_empty()) {
            *slot = state.trim().to_string();
        }
    }
    Ok(Some((labels_from_names(&per_frame), format!("'{at}'"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_split_into_family_index_and_id() {
        assert_eq!(family_of("traces__35__AVAL"), Some(("traces".into(), 35, Some("AVAL".into()))));
        assert_eq!(family_of("traces_raw__0__Unknown Cell"), Some(("traces_raw".into(), 0, Some("Unknown Cell".into()))));
        assert_eq!(family_of("Activity_0007"), Some(("Activity".into(), 7, None)));
        assert_eq!(family_of("FullActivity_12"), Some(("FullActivity".into(), 12, None)));
        assert_eq!(family_of("States"), None);
        assert!(family_score("traces") > family_score("traces_raw") && family_score("traces") > family_score("tracesDif"));
        assert!(family_score("FullActivity") > family_score("DerivActivity") && family_score("FullActivity") > family_score("RedFluorescence"));
    }

    #[test]
    fn codes_are_named_from_descriptions() {
        let kato = "Vector of different state types: ‘FWD’ forward crawling; ‘SLOW’ forward slowing; ‘DT’ dorsal post reversal turn";
        let l = code_labels(&[Some(1), Some(3), None, Some(2)], kato);
        let named: Vec<Option<&str>> = l.per_frame.iter().map(|i| i.map(|i| l.names[i as usize].as_str())).collect();
        assert_eq!(named, [Some("FWD"), Some("DT"), None, Some("SLOW")]);
        let leifer = "Ethogram: forward (1), reverse (-1), turning (2), rest (0). WARNING: to be confirmed";
        let l = code_labels(&[Some(-1), Some(1), Some(0)], leifer);
        let named: Vec<&str> = l.per_frame.iter().map(|i| l.names[i.unwrap() as usize].as_str()).collect();
        assert_eq!(named, ["reverse", "forward", "rest"]);
        let l = code_labels(&[Some(4)], "no names here");
        assert_eq!(l.names, ["state 4"]);
    }
}
