// The training worker: loads the app's module a second time, inside a module Web Worker. Its
// main() finds no window here and serves training requests instead of mounting the page
// (src/ui/worker.rs). Trunk builds the module without a hash in its name (Trunk.toml).
import init from '../neurognn-web.js';
init();
