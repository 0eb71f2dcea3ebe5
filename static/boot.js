// Loads one of the page's two builds of the same app (Cargo.toml, index.html): neurognn-web,
// burn's CPU backend only, or neurognn-webgpu, with its WebGPU backend as well (the WebGPU
// kernel compiler and kernels are half of that module). A machine without a GPU adapter, or
// with a software one (SwiftShader, WARP, llvmpipe: far slower than the CPU for these networks),
// downloads the CPU build only. What is chosen is left in `globalThis.neurognnBoot` for the app,
// whose workers load the WebGPU build when a run needs it (src/worker/mod.rs, build_for).
//
// localStorage `neurognn.time-software-adapter` = "1" treats a software adapter as a GPU (the
// WebGPU build is loaded and timed against the CPU): the end-to-end suite has no other adapter.
const BACKEND_KEY = 'neurognn.backend';
const SOFTWARE_KEY = 'neurognn.time-software-adapter';

function stored(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

/// "none", "software" or "hardware": what `navigator.gpu` offers (at most 2 s to answer).
async function adapterKind() {
  if (!navigator.gpu) return 'none';
  try {
    const adapter = await Promise.race([
      navigator.gpu.requestAdapter(),
      new Promise((resolve) => setTimeout(() => resolve(null), 2000)),
    ]);
    if (!adapter) return 'none';
    return (adapter.info && adapter.info.isFallbackAdapter) || adapter.isFallbackAdapter ? 'software' : 'hardware';
  } catch {
    return 'none';
  }
}

/// "auto", "webgpu" or "cpu" from `text`, else null: what BackendChoice::parse accepts.
function backend(text) {
  const name = (text || '').toLowerCase();
  return ['auto', 'webgpu', 'cpu'].includes(name) ? name : null;
}

// the backend as the app reads it (src/ui/mod.rs, UrlSettings): the URL's, else the remembered
// one, else auto
const choice = backend(new URLSearchParams(location.search).get('backend')) || backend(stored(BACKEND_KEY)) || 'auto';
const adapter = await adapterKind();
// whether Auto uses the WebGPU build: a GPU to time against the CPU
const gpu = adapter === 'hardware' || (adapter === 'software' && stored(SOFTWARE_KEY) === '1');
const wantsWebgpu = choice === 'webgpu' ? adapter !== 'none' : choice === 'auto' && gpu;
const module = wantsWebgpu ? 'neurognn-webgpu' : 'neurognn-web';
globalThis.neurognnBoot = { module, adapter, gpu };
try {
  const app = await import(new URL(`./${module}.js`, import.meta.url).href);
  await app.default({ module_or_path: new URL(`./${module}_bg.wasm`, import.meta.url) });
} catch (e) {
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.textContent = `The app could not be loaded (${module}): ${e && e.message ? e.message : e}. Reload the page to try again.`;
  document.body.append(p);
  throw e;
}
