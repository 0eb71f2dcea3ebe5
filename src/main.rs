// The browser entry of both builds of the page (src/main_webgpu.rs includes this file): run the
// static constructors, then `neurognn::ui::start`. No logic lives here.

// wasm-ld links a binary as a "command" and, unless the program runs the static constructors
// itself, wraps every export in a call to all of them. cubecl registers hundreds through
// `inventory`, so each call from JavaScript into the module (every JS value it receives)
// cost about 70 µs (measured: a raster's 52,000 canvas cells took 10 s). Naming
// `__wasm_call_ctors` here makes the linker leave exports alone; `main` runs it once.
#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    fn __wasm_call_ctors();
}

#[cfg(target_arch = "wasm32")]
fn main() {
    // SAFETY: called once, first, before anything reads what the constructors register.
    unsafe { __wasm_call_ctors() };
    neurognn::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("neurognn-web is the browser build: run `scripts/serve`, or use the `neurognn` CLI");
    std::process::exit(2);
}
