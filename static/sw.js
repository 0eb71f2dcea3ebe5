// The service worker: keeps the app, and the recordings it fetched whole (the Kato files), so a
// classroom that loaded the page once opens it again without a network.
//
// Network first: online, every request goes to the server as without a service worker (so an
// update is picked up on the next online load) and a changed file's copy is replaced; offline,
// the copies answer. Range requests (files read in parts, e.g. a big NWB by its URL), other
// origins and responses over MAX_KEPT_BYTES pass by untouched. The copies stay until the page's
// "Forget what this browser keeps" button (or the browser) clears them.
'use strict';
const CACHE = 'neurognn-app';
// the files that make the app, fetched when the service worker installs: the page registers
// this file with `?module=` naming the build static/boot.js loaded (the CPU one or the WebGPU
// one), and only that build is fetched
const BUILD = new URL(self.location.href).searchParams.get('module') === 'neurognn-webgpu' ? 'neurognn-webgpu' : 'neurognn-web';
const APP = ['./', './boot.js', `./${BUILD}.js`, `./${BUILD}_bg.wasm`, './main.css', `./public/worker.js?module=${BUILD}`, './public/favicon.svg', './manifest.webmanifest'];
const MAX_KEPT_BYTES = 512 << 20;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(APP)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/// Where a response is kept: a page's address without its query and fragment (`?backend=cpu`
/// opens the same app), any other file by its path and query.
function keyOf(request) {
  const url = new URL(request.url);
  if (request.mode === 'navigate') return new URL('./', self.registration.scope).href;
  url.hash = '';
  return url.href;
}

async function keep(key, response) {
  const size = Number(response.headers.get('content-length') || 0);
  if (response.status !== 200 || size > MAX_KEPT_BYTES) return;
  const cache = await caches.open(CACHE);
  const old = await cache.match(key);
  const tag = response.headers.get('etag');
  if (old && tag && old.headers.get('etag') === tag) return;
  await cache.put(key, response);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || request.headers.has('range')) return;
  const key = keyOf(request);
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      event.waitUntil(keep(key, response.clone()).catch(() => {}));
      return response;
    } catch (offline) {
      const kept = await caches.match(key);
      if (kept) return kept;
      throw offline;
    }
  })());
});
