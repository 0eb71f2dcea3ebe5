// The training worker: loads one of the app's two builds (static/boot.js) a second time, inside
// a module Web Worker: the one named by `?module=` (the page says which a run needs). Its main()
// finds no window here and serves training requests instead of mounting the page
// (src/worker/mod.rs). Trunk names the builds' files without a hash (Trunk.toml).
//
// A build that cannot be loaded (a fetch that failed, a module the browser refuses, a start
// that threw) is said to the page as `{ failedToStart }`, so the page tells a worker that never
// started (nothing reached it: another is started with what waited) from one that died in the
// middle of a job (src/worker/client.rs). A fetch that never answers says nothing at all: the
// page gives a worker 30 s to say it is ready.
const wanted = new URL(import.meta.url).searchParams.get('module');
const module = wanted === 'neurognn-webgpu' ? 'neurognn-webgpu' : 'neurognn-web';
try {
  const app = await import(`../${module}.js`);
  await app.default();
} catch (e) {
  postMessage({ failedToStart: `${module}: ${e && e.message ? e.message : e}` });
}
