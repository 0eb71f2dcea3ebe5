//! The browser entry: panic hook, logger, mount the app. No logic lives here.

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
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    if neurognn::worker::in_worker() {
        // public/worker.js loaded this module to train off the main thread
        neurognn::worker::serve();
    } else {
        leptos::mount::mount_to_body(neurognn::ui::App);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("neurognn-web is the browser build: run `scripts/serve`, or use the `neurognn` CLI");
    std::process::exit(2);
}
