//! MATLAB files as a value tree, and the recordings found in that tree.
//!
//! Both MATLAB readers (v5 in [`super::mat5`], v7.3/HDF5 in [`super::hdf5`]) produce a
//! [`MatValue`]; [`recordings_from_variables`] then finds recordings in it, so the layout
//! rules exist once. Layouts recognised: a struct whose fields are arrays (one animal), and a
//! struct whose fields are cells with one entry per animal (the Kato WT_NoStim release).

use super::{FormatError, fps_from_times, frames_by_neurons, rate_or_default};
use crate::data::{Labels, Recording, names};

/// A MATLAB value. Numeric data is column-major, as MATLAB stores it; `dims` are MATLAB's.
#[derive(Debug, Clone, PartialEq)]
pub enum MatValue {
    Numeric { dims: Vec<usize>, data: Vec<f64> },
    /// A char array; each row is one string.
    Char { rows: Vec<String> },
    Cell { dims: Vec<usize>, items: Vec<MatValue> },
    /// A struct array: `items[k][f]` is field `fields[f]` of element `k` (column-major).
    Struct { dims: Vec<usize>, fields: Vec<String>, items: Vec<Vec<MatValue>> },
    /// Something this reader skips (sparse, objects, function handles); the text says what.
    Unsupported(String),
}

impl MatValue {
    /// Field `name` (case-insensitive) of a 1×1 struct.
    pub fn field(&self, name: &str) -> Option<&MatValue> {
        match self {
            MatValue::Struct { fields, items, .. } if items.len() == 1 => {
                fields.iter().position(|f| f.eq_ignore_ascii_case(name)).map(|i| &items[0][i])
            }
            _ => None,
        }
    }

    /// The first of `names` that is a field of this struct.
    fn first_field(&self, names: &[&str]) -> Option<&MatValue> {
        names.iter().find_map(|n| self.field(n))
    }

    /// "double 3137×109", for listings and messages.
    pub fn describe(&self) -> String {
        let dims = |d: &[usize]| d.iter().map(ToString::to_string).collect::<Vec<_>>().join("×");
        match self {
            MatValue::Numeric { dims: d, .. } => format!("numeric {}", dims(d)),
            MatValue::Char { rows } => format!("char ({} rows)", rows.len()),
            MatValue::Cell { dims: d, .. } => format!("cell {}", dims(d)),
            MatValue::Struct { dims: d, fields, .. } => format!("struct {} ({})", dims(d), fields.join(", ")),
            MatValue::Unsupported(what) => format!("unsupported ({what})"),
        }
    }

    fn numbers(&self) -> Option<&[f64]> {
        match self {
            MatValue::Numeric { data, .. } => Some(data),
            _ => None,
        }
    }

    /// Text of a char array (rows joined) or of a 1-element cell holding one.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            MatValue::Char { rows } => Some(rows.join("\n")),
            MatValue::Cell { items, .. } if items.len() == 1 => items[0].text(),
            _ => None,
        }
    }
}

const TRACE_FIELDS: &[&str] = &["deltaFOverF_bc", "deltaFOverF", "traces", "activity", "dff", "data"];
const NAME_FIELDS: &[&str] = &["NeuronNames", "neuron_names", "names", "IDs"];
const STATE_FIELDS: &[&str] = &["States", "states", "behavior", "behaviour", "labels"];
const TIME_FIELDS: &[&str] = &["timeVectorSeconds", "time_s", "time", "times", "t"];
const FPS_FIELDS: &[&str] = &["fps", "frame_rate", "frameRate"];
const NAME_FIELD: &[&str] = &["dataset", "name"];

/// Finds recordings among a file's top-level variables: in each struct that has a traces field,
/// or else in the top-level variables themselves (saved one by one, as `save f.mat traces names`).
pub fn recordings_from_variables(file: &str, variables: &[(String, MatValue)]) -> Result<Vec<Recording>, FormatError> {
    let found = recordings_in_structs(file, variables)?;
    if !found.is_empty() {
        return Ok(found);
    }
    let (fields, values): (Vec<String>, Vec<MatValue>) = variables.iter().cloned().unzip();
    let top = MatValue::Struct { dims: vec![1, 1], fields, items: vec![values] };
    let found = recordings_in_structs(file, &[(super::stem(file), top)])?;
    if variables.is_empty() {
        return Err(FormatError::invalid(file, "no recording found: the file holds no variables"));
    }
    if found.is_empty() {
        let found: Vec<String> = variables.iter().map(|(n, v)| format!("{n}: {}", v.describe())).collect();
        return Err(FormatError::invalid(
            file,
            format!("no recording found: expected a struct with a traces field such as deltaFOverF_bc; found {}", found.join("; ")),
        ));
    }
    Ok(found)
}

fn recordings_in_structs(file: &str, variables: &[(String, MatValue)]) -> Result<Vec<Recording>, FormatError> {
    let mut out = Vec::new();
    for (var, value) in variables {
        let MatValue::Struct { .. } = value else { continue };
        let Some(traces) = value.first_field(TRACE_FIELDS) else { continue };
        match traces {
            // one entry per animal
            MatValue::Cell { items, .. } => {
                for k in 0..items.len() {
                    let pick = |names: &[&str]| match value.first_field(names) {
                        Some(MatValue::Cell { items, .. }) => items.get(k),
                        other => other,
                    };
                    out.push(animal(file, &format!("{var} worm {}", k + 1), &items[k], pick(NAME_FIELDS), pick(STATE_FIELDS), pick(FPS_FIELDS), pick(TIME_FIELDS), pick(NAME_FIELD))?);
                }
            }
            _ => out.push(animal(
                file,
                var,
                traces,
                value.first_field(NAME_FIELDS),
                value.first_field(STATE_FIELDS),
                value.first_field(FPS_FIELDS),
                value.first_field(TIME_FIELDS),
                value.first_field(NAME_FIELD),
            )?),
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn animal(
    file: &str,
    label: &str,
    traces: &MatValue,
    names_v: Option<&MatValue>,
    states: Option<&MatValue>,
    fps_v: Option<&MatValue>,
    times: Option<&MatValue>,
    name_v: Option<&MatValue>,
) -> Result<Recording, FormatError> {
    let err = |m: String| FormatError::invalid(file, format!("{label}: {m}"));
    let MatValue::Numeric { dims, data } = traces else { return Err(err(format!("traces are {}, not numbers", traces.describe()))) };
    let [rows, cols] = dims[..] else { return Err(err(format!("traces have {} dimensions, expected 2", dims.len()))) };
    if rows * cols != data.len() {
        return Err(err(format!("traces declare {rows}×{cols} but hold {} values", data.len())));
    }
    let neuron_names: Option<Vec<Option<String>>> = match names_v {
        Some(MatValue::Cell { items, .. }) => Some(items.iter().map(|v| v.text().and_then(|t| names::normalize(&t))).collect()),
        _ => None,
    };
    // Column-major [rows, cols] is row-major [cols, rows].
    let (frames, neurons, traces_rm) = frames_by_neurons(data, cols, rows, neuron_names.as_ref().map(Vec::len));
    if let Some(n) = &neuron_names
        && n.len() != neurons
    {
        return Err(err(format!("{} neuron names for {neurons} neurons", n.len())));
    }
    let time_fps = times.and_then(MatValue::numbers).and_then(fps_from_times);
    let stored_fps = fps_v.and_then(MatValue::numbers).and_then(|v| v.first().copied()).filter(|f| f.is_finite() && *f > 0.0);
    let (fps, note) = match (stored_fps, time_fps) {
        (Some(f), _) => (f as f32, ""),
        (None, Some(f)) => (f, "; frame rate from the time vector"),
        (None, None) => rate_or_default(None),
    };
    Ok(Recording {
        name: name_v.and_then(MatValue::text).filter(|s| !s.is_empty()).unwrap_or_else(|| label.to_string()),
        source: format!("{file} ({label}{note})"),
        frames,
        neurons,
        traces: traces_rm,
        neuron_names: neuron_names.unwrap_or_else(|| vec![None; neurons]),
        fps,
        labels: states.map(|s| labels_from_state_struct(s, frames)).transpose().map_err(err)?,
    })
}

/// Kato-style states: a struct of 0/1 vectors, one per state; a frame with none is unlabelled.
fn labels_from_state_struct(states: &MatValue, frames: usize) -> Result<Labels, String> {
    let MatValue::Struct { fields, items, .. } = states else {
        return Err(format!("states are {}, expected a struct of 0/1 vectors", states.describe()));
    };
    let Some(values) = items.first() else { return Err("the states struct is empty".into()) };
    let mut per_frame = vec![None; frames];
    for (s, (name, v)) in fields.iter().zip(values).enumerate() {
        let indicator = v.numbers().ok_or_else(|| format!("state {name} is {}, not a 0/1 vector", v.describe()))?;
        if indicator.len() != frames {
            return Err(format!("state {name} has {} frames, traces have {frames}", indicator.len()));
        }
        for (t, &x) in indicator.iter().enumerate() {
            if x != 0.0 {
                per_frame[t] = Some(s as u16);
            }
        }
    }
    Ok(Labels { names: fields.clone(), per_frame })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(dims: &[usize], data: &[f64]) -> MatValue {
        MatValue::Numeric { dims: dims.to_vec(), data: data.to_vec() }
    }
    fn chars(s: &str) -> MatValue {
        MatValue::Char { rows: vec![s.into()] }
    }

    #[test]
    fn a_one_animal_struct_becomes_a_recording() {
        // 3 frames × 2 neurons, column-major: neuron 1 = 1,2,3; neuron 2 = 4,5,6
        let worm = MatValue::Struct {
            dims: vec![1, 1],
            fields: vec!["deltaFOverF_bc".into(), "NeuronNames".into(), "States".into(), "fps".into()],
            items: vec![vec![
                num(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                MatValue::Cell { dims: vec![1, 2], items: vec![chars("AVAL"), chars("7")] },
                MatValue::Struct {
                    dims: vec![1, 1],
                    fields: vec!["FWD".into(), "REV1".into()],
                    items: vec![vec![num(&[1, 3], &[1.0, 0.0, 0.0]), num(&[1, 3], &[0.0, 0.0, 1.0])]],
                },
                num(&[1, 1], &[2.5]),
            ]],
        };
        let recs = recordings_from_variables("w.mat", &[("worm".into(), worm)]).unwrap();
        let r = &recs[0];
        assert_eq!((r.frames, r.neurons, r.fps), (3, 2, 2.5));
        assert_eq!(r.traces, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(r.neuron_names, vec![Some("AVAL".into()), None]);
        assert_eq!(r.labels.as_ref().unwrap().per_frame, vec![Some(0), None, Some(1)]);
    }

    #[test]
    fn loose_top_level_variables_form_one_recording() {
        let vars = vec![("traces".to_string(), num(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])), ("fps".to_string(), num(&[1, 1], &[3.0]))];
        let recs = recordings_from_variables("dir/loose.mat", &vars).unwrap();
        assert_eq!((recs[0].frames, recs[0].neurons, recs[0].fps), (3, 2, 3.0));
    }

    #[test]
    fn files_without_recordings_list_what_they_hold() {
        let err = recordings_from_variables("x.mat", &[("a".into(), num(&[1, 1], &[1.0]))]).unwrap_err().to_string();
        assert!(err.contains("no recording found") && err.contains("a: numeric 1×1"), "{err}");
    }
}
