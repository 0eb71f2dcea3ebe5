//! The page's WebGPU build (`--features gpu`): the same entry as the CPU build's.

include!("main.rs");
