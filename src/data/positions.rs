//! Where each *C. elegans* neuron's soma sits in the body, by name: to draw a recording on the
//! worm.
//!
//! The compact table `positions.csv` is derived by `scripts/derive-positions.py` from OpenWorm's
//! c302 cell models (MIT), whose morphologies come from the WormBase VirtualWorm 3D model (Grove
//! & Sternberg, public domain). Micrometres; `y` runs from the head (negative) to the tail, `z`
//! from ventral (negative) to dorsal, `x` from right to left. It is compiled in.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::names;

const TABLE: &str = include_str!("positions.csv");

/// A soma's centre in micrometres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Soma {
    pub x: f32,
    /// Along the body: the head is negative.
    pub y: f32,
    /// Dorsal (positive) to ventral.
    pub z: f32,
}

/// Every neuron of the table by its canonical name ([`names::normalize`]).
pub fn all() -> &'static HashMap<String, Soma> {
    static TABLE_BY_NAME: OnceLock<HashMap<String, Soma>> = OnceLock::new();
    TABLE_BY_NAME.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .filter_map(|line| {
                let mut cols = line.split(',');
                let name = names::normalize(cols.next()?)?;
                let mut v = cols.map(|c| c.parse::<f32>().expect("positions.csv is generated with numeric coordinates"));
                Some((name, Soma { x: v.next()?, y: v.next()?, z: v.next()? }))
            })
            .collect()
    })
}

/// The soma of neuron `name` (any spelling [`names::normalize`] accepts), if the table has it.
pub fn soma(name: &str) -> Option<Soma> {
    all().get(&names::normalize(name)?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_neuron_has_its_place_head_to_tail() {
        // the hermaphrodite's 302 neurons (the table also names CANL/CANR, which c302 lists)
        assert!(all().len() >= 300, "{} neurons", all().len());
        let (ava, vb11, da9) = (soma("AVAL").unwrap(), soma("VB11").unwrap(), soma("DA9").unwrap());
        // AVA sits in the head's nerve ring, VB11 and DA9 far back in the ventral cord
        assert!(ava.y < -250.0 && vb11.y > 200.0 && da9.y > vb11.y, "{ava:?} {vb11:?} {da9:?}");
        assert_eq!(soma("da09"), Some(da9), "names are matched in any spelling");
        // left and right partners mirror each other across the midline
        let (l, r) = (soma("ADAL").unwrap(), soma("ADAR").unwrap());
        assert!(l.x * r.x < 0.0 && (l.y - r.y).abs() < 1.0, "{l:?} {r:?}");
        assert_eq!(soma("12"), None);
    }
}
