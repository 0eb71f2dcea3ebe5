//! A graph the user knows (a simulation's coupling, an anatomical or functional atlas), read from
//! a file by neuron name, to score inferred and model-free graphs against. Two layouts:
//!
//! * an edge list, one edge per line: `from,to` or `from,to,weight` (a header line such as
//!   `from,to,weight` or `pre,post` is skipped; weight 0 means no edge);
//! * a square matrix with the neuron names along the top and down the side (the top-left cell
//!   empty): the cell in row `a`, column `b` is the edge `a → b` (0 or empty: no edge).
//!
//! Commas, tabs or semicolons separate fields. A graph whose every edge goes both ways is
//! scored undirected (a pair counts as connected either way), any other directed.

use serde::{Deserialize, Serialize};

/// Largest reference file read (bytes): a 2,000-neuron matrix in text is ~16 MB.
pub const MAX_REFERENCE_BYTES: usize = 16 << 20;
/// Most edges a reference may have (it travels in the experiment's spec and link).
pub const MAX_REFERENCE_EDGES: usize = 100_000;
const MAX_NAME_CHARS: usize = 64;

/// A known graph over named neurons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownGraph {
    /// What it is, as the user named it (the file's name by default).
    pub name: String,
    /// `[from, to]` by neuron name.
    pub edges: Vec<[String; 2]>,
}

/// What is wrong with a reference graph file, and where.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReferenceError {
    #[error("reference graph '{file}' is {bytes} bytes; at most {MAX_REFERENCE_BYTES} are read")]
    TooLarge { file: String, bytes: usize },
    #[error("reference graph '{file}' is not text (UTF-8)")]
    NotText { file: String },
    #[error("reference graph '{file}', line {line}: {why}")]
    Line { file: String, line: usize, why: String },
    #[error("reference graph '{file}' has no edges")]
    Empty { file: String },
    #[error("reference graph '{file}' has {edges} edges; at most {MAX_REFERENCE_EDGES} are kept")]
    TooManyEdges { file: String, edges: usize },
}

impl KnownGraph {
    /// Reads a reference graph file (see the module docs for the layouts).
    pub fn parse(file: &str, bytes: &[u8]) -> Result<KnownGraph, ReferenceError> {
        if bytes.len() > MAX_REFERENCE_BYTES {
            return Err(ReferenceError::TooLarge { file: file.into(), bytes: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ReferenceError::NotText { file: file.into() })?;
        let rows: Vec<(usize, Vec<&str>)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(i, l)| (i, split_fields(l)))
            .collect();
        let line_error = |line: usize, why: String| ReferenceError::Line { file: file.into(), line, why };
        let mut edges: Vec<[String; 2]> = Vec::new();
        let is_matrix = rows.first().is_some_and(|(_, cells)| cells.len() > 2 && cells[0].is_empty());
        if is_matrix {
            let (head_line, head) = &rows[0];
            let columns: Vec<String> = head[1..].iter().map(|c| name(c).map_err(|why| line_error(*head_line, why))).collect::<Result<_, _>>()?;
            for (line, cells) in &rows[1..] {
                if cells.len() != columns.len() + 1 {
                    return Err(line_error(*line, format!("{} cells; the header names {} neurons, so each row has a name and {} values", cells.len(), columns.len(), columns.len())));
                }
                let from = name(cells[0]).map_err(|why| line_error(*line, why))?;
                for (to, cell) in columns.iter().zip(&cells[1..]) {
                    if weight(cell).map_err(|why| line_error(*line, why))? != 0.0 && *to != from {
                        edges.push([from.clone(), to.clone()]);
                    }
                    if edges.len() > MAX_REFERENCE_EDGES {
                        return Err(ReferenceError::TooManyEdges { file: file.into(), edges: edges.len() });
                    }
                }
            }
        } else {
            for (k, (line, cells)) in rows.iter().enumerate() {
                if !(2..=3).contains(&cells.len()) {
                    return Err(line_error(*line, format!("{} fields; an edge list has from,to or from,to,weight (a matrix starts with an empty cell)", cells.len())));
                }
                let header = k == 0 && (cells.get(2).is_some_and(|w| w.parse::<f64>().is_err()) || HEADER_WORDS.contains(&cells[0].to_ascii_lowercase().as_str()));
                if header {
                    continue;
                }
                let w = cells.get(2).map_or(Ok(1.0), |c| weight(c)).map_err(|why| line_error(*line, why))?;
                let from = name(cells[0]).map_err(|why| line_error(*line, why))?;
                let to = name(cells[1]).map_err(|why| line_error(*line, why))?;
                if w != 0.0 && from != to {
                    edges.push([from, to]);
                }
                if edges.len() > MAX_REFERENCE_EDGES {
                    return Err(ReferenceError::TooManyEdges { file: file.into(), edges: edges.len() });
                }
            }
        }
        edges.sort();
        edges.dedup();
        if edges.is_empty() {
            return Err(ReferenceError::Empty { file: file.into() });
        }
        Ok(KnownGraph { name: file.into(), edges })
    }

    /// Whether every edge also goes the other way (then it is scored undirected).
    pub fn is_symmetric(&self) -> bool {
        self.edges.iter().all(|[a, b]| self.edges.binary_search(&[b.clone(), a.clone()]).is_ok())
    }

    /// The `[from][to]` adjacency over `neurons` (1 where an edge is; neurons it does not name
    /// have none).
    pub fn adjacency(&self, neurons: &[String]) -> Vec<Vec<f32>> {
        let at = |n: &str| neurons.iter().position(|m| m == n);
        let mut a = vec![vec![0.0; neurons.len()]; neurons.len()];
        for [from, to] in &self.edges {
            if let (Some(i), Some(j)) = (at(from), at(to)) {
                a[i][j] = 1.0;
            }
        }
        a
    }
}

/// First-line words that mark an edge list's header.
const HEADER_WORDS: [&str; 7] = ["from", "source", "pre", "presynaptic", "sender", "neuron1", "node1"];

fn split_fields(line: &str) -> Vec<&str> {
    let sep = [',', '\t', ';'].into_iter().find(|s| line.contains(*s)).unwrap_or(',');
    line.split(sep).map(|c| c.trim().trim_matches('"').trim()).collect()
}

fn name(cell: &str) -> Result<String, String> {
    if cell.is_empty() {
        return Err("a neuron name is empty".into());
    }
    if cell.chars().count() > MAX_NAME_CHARS || cell.chars().any(char::is_control) {
        return Err(format!("'{}' is not a neuron name (at most {MAX_NAME_CHARS} printable characters)", cell.chars().take(MAX_NAME_CHARS).collect::<String>()));
    }
    Ok(cell.to_string())
}

fn weight(cell: &str) -> Result<f64, String> {
    if cell.is_empty() {
        return Ok(0.0);
    }
    match cell.parse::<f64>() {
        Ok(w) if w.is_finite() => Ok(w),
        _ => Err(format!("'{}' is not a number (an edge's weight)", cell.chars().take(MAX_NAME_CHARS).collect::<String>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn edge_lists_and_matrices_read_the_same_graph() {
        let list = KnownGraph::parse("list.csv", b"from,to,weight\nAVAL,AVBL,1\nAVBL,AVAL,0\nAVAR,AVAL,2.5\n\n# a comment\nAVAL,AVAL,1\n").unwrap();
        assert_eq!(list.edges, [["AVAL".to_string(), "AVBL".to_string()], ["AVAR".to_string(), "AVAL".to_string()]]);
        let matrix = KnownGraph::parse("m.tsv", b"\tAVAL\tAVAR\tAVBL\nAVAL\t1\t0\t1\nAVAR\t2.5\t\t0\nAVBL\t0\t0\t0\n").unwrap();
        assert_eq!(matrix.edges, list.edges);
        assert!(!list.is_symmetric());
        let a = list.adjacency(&names(&["AVBL", "AVAL", "RIML"]));
        assert_eq!(a, vec![vec![0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0], vec![0.0, 0.0, 0.0]]);
        let both = KnownGraph::parse("sym.csv", b"a,b\nb,a\n").unwrap();
        assert!(both.is_symmetric());
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let e = |bytes: &[u8]| KnownGraph::parse("g.csv", bytes).unwrap_err().to_string();
        assert_eq!(e(b"AVAL,AVBL\nAVAL\n"), "reference graph 'g.csv', line 2: 1 fields; an edge list has from,to or from,to,weight (a matrix starts with an empty cell)");
        assert_eq!(e(b"AVAL,AVBL,1\nAVAL,AVBL,lots\n"), "reference graph 'g.csv', line 2: 'lots' is not a number (an edge's weight)");
        assert_eq!(e(b",A,B\nA,0,1\nB,1\n"), "reference graph 'g.csv', line 3: 2 cells; the header names 2 neurons, so each row has a name and 2 values");
        assert_eq!(e(b"from,to\nA,A\n"), "reference graph 'g.csv' has no edges");
        assert_eq!(e(b"A,B,NaN\n"), "reference graph 'g.csv', line 1: 'NaN' is not a number (an edge's weight)");
        assert_eq!(e(&[0xff, 0xfe, 0x00]), "reference graph 'g.csv' is not text (UTF-8)");
        assert!(e(&vec![b'a'; MAX_REFERENCE_BYTES + 1]).contains("at most"));
        assert!(e(format!("A,{}\n", "x".repeat(100)).as_bytes()).contains("is not a neuron name"));
    }
}
