//! The browser entry: panic hook, logger, mount the app. No logic lives here.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    if neurognn::ui::worker::in_worker() {
        // public/worker.js loaded this module to train off the main thread
        neurognn::ui::worker::serve();
    } else {
        leptos::mount::mount_to_body(neurognn::ui::App);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("neurognn-web is the browser build: run `scripts/serve`, or use the `neurognn` CLI");
    std::process::exit(2);
}
