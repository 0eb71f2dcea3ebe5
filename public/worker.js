// The training worker: loads one of the app's two builds (static/boot.js) a second time, inside
// a module Web Worker: the one named by `?module=` (the page says which a run needs). Its main()
// finds no window here and serves training requests instead of mounting the page
// (src/worker/mod.rs). Trunk names the builds' files without a hash (Trunk.toml).
const wanted = new URL(import.meta.url).searchParams.get('module');
const module = wanted === 'neurognn-webgpu' ? 'neurognn-webgpu' : 'neurognn-web';
const app = await import(`../${module}.js`);
app.default();
