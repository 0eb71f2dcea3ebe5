//! The one limit on what reading files may decode, checked before anything is allocated.
//!
//! Files come from strangers: a few hundred bytes can declare billions of values, inflate to
//! gigabytes, or link a group to itself. Every reader charges a [`Budget`] *before* it allocates
//! or follows anything — declared shapes before arrays are read, inflated bytes while a stream
//! is inflated (the stream stops at the budget), each object a graph walk visits — and a
//! refusal says which limit, how much the file asked for, and how to proceed.
//!
//! One budget covers one file ([`FILE`]); the files dropped together share [`DROP`]. Owns no
//! format knowledge and allocates nothing itself.

use std::cell::Cell;

/// How much one file, or one drop of files, may decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Numbers decoded (each held as one f64 while a file is read: 8 bytes).
    pub values: u64,
    /// Bytes of text (names, state names, string arrays).
    pub text_bytes: u64,
    /// Groups, datasets, archive members, references and array elements visited.
    pub objects: u64,
    /// Bytes inflated from compressed streams (NPZ members, MATLAB v5 variables).
    pub inflated_bytes: u64,
}

/// One file: 2^25 values (256 MiB as f64; e.g. 1,000 neurons × 33,000 frames), 64 MiB of text,
/// 20,000 objects (real NWB and MATLAB files hold tens to a few thousand), 512 MiB inflated.
pub const FILE: Limits = Limits { values: 1 << 25, text_bytes: 64 << 20, objects: 20_000, inflated_bytes: 512 << 20 };
/// Every file dropped (or named) together: twice one file.
pub const DROP: Limits = Limits { values: 1 << 26, text_bytes: 128 << 20, objects: 40_000, inflated_bytes: 1 << 30 };
/// Most behavioural states a recording may name (labels are stored as `u16` indices).
pub const MAX_STATES: usize = u16::MAX as usize;

/// What is left of a file's (or drop's) [`Limits`]. Readers share it by reference; the cells
/// let every reader charge it without threading `&mut` through recursive walks.
#[derive(Debug)]
pub struct Budget {
    /// The nominal limits (for messages).
    limits: Limits,
    /// What this budget started with (less than `limits` when a drop had less left).
    start: Limits,
    values: Cell<u64>,
    text_bytes: Cell<u64>,
    objects: Cell<u64>,
    inflated_bytes: Cell<u64>,
}

/// A refusal: which limit, what asked for it, how much (boxed: errors stay small).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OverBudget(Box<Refusal>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} needs {asked}{more} {unit}, over the limit of {limit} {unit} per {scope}{left}; {hint}")]
struct Refusal {
    what: String,
    asked: u64,
    limit: u64,
    unit: &'static str,
    /// "+" when the stream was stopped at the limit (it asked for at least `asked`).
    more: &'static str,
    scope: &'static str,
    left: String,
    hint: &'static str,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            start: limits,
            values: Cell::new(limits.values),
            text_bytes: Cell::new(limits.text_bytes),
            objects: Cell::new(limits.objects),
            inflated_bytes: Cell::new(limits.inflated_bytes),
        }
    }

    /// One file's budget, no larger than what `drop` has left.
    pub fn for_file(drop: &Budget) -> Self {
        let start = Limits {
            values: FILE.values.min(drop.values.get()),
            text_bytes: FILE.text_bytes.min(drop.text_bytes.get()),
            objects: FILE.objects.min(drop.objects.get()),
            inflated_bytes: FILE.inflated_bytes.min(drop.inflated_bytes.get()),
        };
        // when the files before this one used most of the drop's budget, that is the limit to name
        let limits = if start == FILE { FILE } else { DROP };
        Self {
            limits,
            start,
            values: Cell::new(start.values),
            text_bytes: Cell::new(start.text_bytes),
            objects: Cell::new(start.objects),
            inflated_bytes: Cell::new(start.inflated_bytes),
        }
    }

    /// Takes from `self` (a drop) what `file` used.
    pub fn spend(&self, file: &Budget) {
        let take = |cell: &Cell<u64>, used: u64| cell.set(cell.get().saturating_sub(used));
        take(&self.values, file.start.values - file.values.get());
        take(&self.text_bytes, file.start.text_bytes - file.text_bytes.get());
        take(&self.objects, file.start.objects - file.objects.get());
        take(&self.inflated_bytes, file.start.inflated_bytes - file.inflated_bytes.get());
    }

    /// Values still allowed.
    pub fn values_left(&self) -> u64 {
        self.values.get()
    }

    /// Text bytes still allowed.
    pub fn text_left(&self) -> u64 {
        self.text_bytes.get()
    }

    /// Charges `count` decoded numbers for `what` (e.g. "array 'traces' (3000×100)").
    pub fn values(&self, count: u64, what: impl What) -> Result<(), OverBudget> {
        self.charge(&self.values, self.limits.values, count, what, "values", "pick fewer arrays (the page's listing, or `arrays` in the spec) or a smaller excerpt of the recording")
    }

    /// Charges `bytes` of text.
    pub fn text(&self, bytes: u64, what: impl What) -> Result<(), OverBudget> {
        self.charge(&self.text_bytes, self.limits.text_bytes, bytes, what, "bytes of text", "names and labels are short: this text is probably not part of a recording")
    }

    /// Charges one visited object (group, dataset, member, reference).
    pub fn object(&self, what: impl What) -> Result<(), OverBudget> {
        self.objects(1, what)
    }

    /// Charges `count` objects at once (the elements a cell or struct array declares, before
    /// any is read).
    pub fn objects(&self, count: u64, what: impl What) -> Result<(), OverBudget> {
        let left = self.objects.get();
        if count > left {
            let asked = (self.limits.objects - left).saturating_add(count);
            return Err(self.refusal(what.what(), asked, self.limits.objects, "objects", "the file links more objects than any recording holds (links or references may form a cycle)"));
        }
        self.objects.set(left - count);
        Ok(())
    }

    /// Bytes still allowed to be inflated.
    pub fn inflated_left(&self) -> u64 {
        self.inflated_bytes.get()
    }

    /// Charges `bytes` inflated from a compressed stream.
    pub fn inflated(&self, bytes: u64, what: impl What) -> Result<(), OverBudget> {
        self.charge(&self.inflated_bytes, self.limits.inflated_bytes, bytes, what, "inflated bytes", "the data inflates to more than the file may decode (a decompression bomb?)")
    }

    /// The refusal of a stream that inflated past `room` bytes, all the budget could hold.
    pub fn inflating(&self, room: u64, what: impl What) -> OverBudget {
        self.refusal(format!("{} (inflating)", what.what()), room + 1, room, "bytes", "the data inflates to more than the file may decode (a decompression bomb?)")
    }

    fn charge(&self, cell: &Cell<u64>, limit: u64, asked: u64, what: impl What, unit: &'static str, hint: &'static str) -> Result<(), OverBudget> {
        let left = cell.get();
        if asked > left {
            return Err(self.refusal(what.what(), asked, limit, unit, hint).with_left(left, limit));
        }
        cell.set(left - asked);
        Ok(())
    }

    fn refusal(&self, what: String, asked: u64, limit: u64, unit: &'static str, hint: &'static str) -> OverBudget {
        let scope = if self.limits == DROP { "drop of files (with the files read before it)" } else { "file" };
        let more = if unit == "bytes" || unit == "objects" { "+" } else { "" };
        OverBudget(Box::new(Refusal { what, asked, limit, unit, more, scope, left: String::new(), hint }))
    }
}

impl OverBudget {
    fn with_left(mut self, left: u64, limit: u64) -> Self {
        if left < limit {
            self.0.left = format!(" ({left} left after the rest of the file)");
        }
        self
    }
}

/// What asks for a charge, named only when it is refused (a closure formats lazily).
pub trait What {
    fn what(self) -> String;
}

impl What for &str {
    fn what(self) -> String {
        self.to_string()
    }
}

impl What for String {
    fn what(self) -> String {
        self
    }
}

impl<F: FnOnce() -> String> What for F {
    fn what(self) -> String {
        self()
    }
}

/// The product of `dims`, or `None` when it overflows u64 (a lying header).
pub fn product(dims: impl IntoIterator<Item = u64>) -> Option<u64> {
    dims.into_iter().try_fold(1u64, u64::checked_mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_until_the_limit_and_says_what_asked() {
        let b = Budget::new(Limits { values: 10, text_bytes: 5, objects: 2, inflated_bytes: 0 });
        assert!(b.values(6, "a").is_ok());
        let err = b.values(5, "array 'x'").unwrap_err().to_string();
        assert!(err.contains("array 'x' needs 5 values") && err.contains("4 left"), "{err}");
        assert!(b.text(5, "names").is_ok() && b.text(1, "more").is_err());
        assert!(b.object("g").is_ok() && b.object("g").is_ok());
        assert!(b.object(|| "/loop".to_string()).unwrap_err().to_string().contains("cycle"));
        assert_eq!(product([1 << 40, 1 << 30]), None);
        assert_eq!(product([3, 4]), Some(12));
    }

    #[test]
    fn a_drop_shares_what_its_files_used() {
        let drop = Budget::new(DROP);
        let first = Budget::for_file(&drop);
        first.values(FILE.values, "one file").unwrap();
        drop.spend(&first);
        assert_eq!(drop.values_left(), DROP.values - FILE.values);
        let second = Budget::for_file(&drop);
        second.values(FILE.values, "another").unwrap();
        drop.spend(&second);
        let third = Budget::for_file(&drop);
        let err = third.values(1, "a third").unwrap_err().to_string();
        assert!(err.contains("needs 1 values") && err.contains("per drop of files"), "{err}");
    }
}
