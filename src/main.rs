//! The browser entry: panic hook, logger, mount the app. No logic lives here.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    leptos::mount::mount_to_body(neurognn::ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("neurognn-web is the browser build: run `scripts/serve`, or use the `neurognn` CLI");
    std::process::exit(2);
}
