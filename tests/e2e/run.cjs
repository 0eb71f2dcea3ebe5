// End-to-end tests of the built app (dist/) in Debian's Chromium, driven by playwright-core.
// Serves dist/ on loopback, opens the page with software WebGPU enabled, and checks what a
// person would see. Screenshots go to target/e2e/. Prints "e2e: N passed, N failed".
//   node tests/e2e/run.cjs [filter]
'use strict';
const path = require('path');
const fs = require('fs');
const root = path.resolve(__dirname, '../..');
const { chromium } = require(path.join(root, 'scripts/node_modules/playwright-core'));
const { serve } = require(path.join(root, 'scripts/static-server.cjs'));

const SHOTS = path.join(root, 'target/e2e');
/// Bounds of the waits for training, each about four times what it took in a full e2e run on
/// the 2-core development machine (headless Chromium, 2026-12-08; the figure beside each) and
/// at least a minute: a wait that runs out fails then and prints what the page showed. Each run
/// ends with the waits that came closest to their bounds.
const LIMITS = {
  demo: 60e3, // the demo on the CPU, from the page's load: 4.5–5.4 s
  demoRace: 60e3, // the demo with both backends timed first (software WebGPU): 8–14 s
  demoWebgpu: 160e3, // the demo's MLP and 20 GCN steps on software WebGPU: 40.6 s
  lab: 60e3, // a lab experiment of one MLP, 40 steps: 1.7–12.6 s
  labGpu: 60e3, // the same on software WebGPU: 13.9 s
  preset: 120e3, // the synthetic-demo preset, 9 runs: 27.6 s (53.4 s the slowest ever, 2026-11-30)
  kato: 120e3, // the Kato behaviour preset: under 21 s
  workerFails: 60e3, // two refused starts of a worker: under 2 s
  stuckStart: 120e3, // a worker stuck starting, replaced after 30 s, then the demo: 39.2 s
};
/// The most one test may take, whatever it waits for.
const TEST_LIMIT_MS = 5 * 60 * 1000;
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'];

function check(cond, message) { if (!cond) throw new Error(message); }
const text = (page, sel) => page.locator(sel).textContent();

/** The renderer main thread's tasks in a Chrome trace: how many, the most CPU time one used
 * (ms), the longest in wall time with its CPU time, and what other threads of the renderer did
 * during it (CPU ms by their longest event's name). */
function mainThreadTasks(trace) {
  const names = new Map(trace.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
  const key = (e) => `${e.pid}:${e.tid}`;
  const tasks = trace.filter((e) => e.ph === 'X' && e.name === 'RunTask' && names.get(key(e)) === 'CrRendererMain' && e.tdur !== undefined);
  const cpu = tasks.reduce((m, t) => Math.max(m, t.tdur / 1000), 0);
  const longest = tasks.reduce((m, t) => (!m || t.dur > m.dur ? t : m), null);
  let beside = '';
  if (longest) {
    const [from, to] = [longest.ts, longest.ts + longest.dur];
    const by = new Map();
    for (const e of trace) {
      if (e.ph !== 'X' || e.pid !== longest.pid || key(e) === key(longest) || e.tdur === undefined || !e.dur) continue;
      if (!/^(RunTask|wasm\.ExecuteCompilationUnits|ThreadPool_RunTask)$/.test(e.name)) continue;
      const overlap = Math.min(to, e.ts + e.dur) - Math.max(from, e.ts);
      if (overlap <= 0) continue;
      const what = e.name === 'wasm.ExecuteCompilationUnits' ? 'V8 compiling wasm' : names.get(key(e)) || 'another thread';
      by.set(what, (by.get(what) || 0) + (e.tdur * overlap) / e.dur / 1000);
    }
    beside = [...by].filter(([, ms]) => ms >= 1).sort((a, b) => b[1] - a[1]).map(([w, ms]) => `${w} used ${ms.toFixed(0)} ms of CPU`).join(', ');
  }
  return { all: tasks.length, cpu, wall: longest ? longest.dur / 1000 : 0, wallCpu: longest ? longest.tdur / 1000 : 0, beside };
}

/// Opens `query` on the served app, failing the test on page errors or foreign requests. Every
/// wait on the page is bounded, and one that runs out says what the page showed then
/// ([`describe`]): its status lines, notices, workers and last console messages.
async function open(ctx, query) {
  const page = await ctx.browser.newPage();
  page.errors = [];
  page.said = [];
  ctx.pages.add(page);
  page.on('close', () => ctx.pages.delete(page));
  page.on('pageerror', (e) => { page.errors.push(String(e)); page.said.push(`[uncaught] ${e}`); });
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(m.text());
    page.said.push(`[${m.type()}] ${m.text()}`);
    if (page.said.length > 200) page.said.shift();
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin !== ctx.origin && u.protocol !== 'data:' && u.protocol !== 'blob:') ctx.foreign.push(r.url());
  });
  for (const name of ['waitForFunction', 'waitForSelector']) {
    const wait = page[name].bind(page);
    page[name] = async (...args) => {
      const t0 = Date.now();
      const bound = args.map((a) => a && a.timeout).find(Number.isFinite) || 30000;
      // where the wait was asked for: the line in the test (and in a helper such as waitFinished)
      // named frames of this file (not the runner's loop)
      const frames = new Error().stack.split('\n').filter((l) => /\(.*run\.cjs:/.test(l) && !/\bpass \(/.test(l));
      const at = `line ${frames.slice(1, 3).map((l) => l.replace(/.*run\.cjs:(\d+).*/, '$1')).reverse().join(' via ')}`;
      try {
        const done = await wait(...args);
        ctx.waits.push({ at, ms: Date.now() - t0, bound });
        return done;
      } catch (e) {
        if (page.isClosed()) throw e;
        throw new Error(`${e.message.split('\n')[0]} (gave up after ${((Date.now() - t0) / 1000).toFixed(1)} s)\n${await describe(page)}`);
      }
    };
  }
  await page.goto(`${ctx.origin}/${query}`);
  return page;
}

/// What `page` shows now, for a failure's message: its address, the status lines and notices
/// of the demo, the lab, the lesson and the import view, its workers, its errors and its last
/// console messages.
async function describe(page) {
  const shown = await page.evaluate(() => {
    const out = [];
    for (const sel of ['#status', '#progress', '#backend', '#lab-status', '#lab-backend', '#lab-notice', '#lesson-status', '#animal-count', '#import-messages li']) {
      const texts = [...document.querySelectorAll(sel)].map((e) => e.textContent.trim()).filter(Boolean);
      if (texts.length) out.push(`${sel}: ${texts.join(' | ').slice(0, 400)}`);
    }
    const alert = document.querySelector('[role=alert]');
    if (alert) out.push(`alert: ${alert.textContent.trim().slice(0, 400)}`);
    return out;
  }).catch((e) => [`(the page could not be read: ${String(e).split('\n')[0]})`]);
  const lines = [`page ${page.url()}`, ...shown, `workers running: ${page.workers().length}`];
  if (page.errors.length) lines.push(`page errors: ${page.errors.slice(-5).join(' | ')}`);
  lines.push(`last console messages (${page.said.length}):`, ...page.said.slice(-15).map((l) => `  ${l.slice(0, 300)}`));
  return lines.map((l) => `    ${l}`).join('\n');
}

/// The demo's table: per network (MLP, GCN, persistence) its first and final loss, validation
/// MSE and R², as numbers (NaN where empty).
const demoRows = (page) => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#demo-runs tbody tr')].map((tr) => {
  const cell = (c) => parseFloat(tr.querySelector(`td.${c}`)?.textContent ?? '');
  return [tr.dataset.model, { first: cell('first'), final: cell('final'), mse: cell('mse'), r2: cell('r2') }];
})));

/// Both networks of a finished demo learnt (their loss fell) and were scored on validation frames
/// beside persistence; returns the table's line for the log.
async function checkDemo(page) {
  const rows = await demoRows(page);
  check(JSON.stringify(Object.keys(rows)) === JSON.stringify(['MLP', 'GCN', 'persistence']), `the demo's table has rows ${Object.keys(rows)}`);
  for (const m of ['MLP', 'GCN']) {
    const r = rows[m];
    check(r.final < r.first, `${m}: final loss ${r.final} is not below the first ${r.first}`);
    check(r.mse > 0 && r.mse < 1 && r.r2 > 0 && r.r2 <= 1, `${m}: validation MSE ${r.mse}, R² ${r.r2}`);
  }
  check(rows.persistence.mse > 0, `persistence MSE ${rows.persistence.mse}`);
  const summary = await text(page, '#demo .summary');
  check(/the GCN is given the connectome .*: \d+ edges among these neurons/.test(summary), `summary "${summary}"`);
  return ['MLP', 'GCN', 'persistence'].map((m) => `${m} ${rows[m].mse}`).join(', ');
}

/// Waits for the demo to end (done, stopped or failed), at most `bound` ms.
async function waitFinished(page, bound = LIMITS.demo) {
  await page.waitForFunction(() => {
    const s = document.querySelector('#status');
    return s && /^(done|stopped|failed)/.test(s.textContent);
  }, null, { timeout: bound, polling: 250 });
}

/// Non-white pixels in the loss chart: a drawn chart has axes, labels and a curve.
const inkedPixels = (page) => page.evaluate(() => {
  const c = document.querySelector('#loss-chart');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) n++;
  return n;
});

const KATO = path.resolve(root, '../shared/data/kato2015');

/// Drops files on the drop zone as a person would: a DataTransfer carrying File objects.
async function dropFiles(page, files) {
  await page.evaluate(() => {
    const i = document.createElement('input');
    Object.assign(i, { type: 'file', multiple: true, id: 'e2e-staging' });
    i.style.display = 'none';
    document.body.appendChild(i);
  });
  await page.setInputFiles('#e2e-staging', files);
  await page.evaluate(() => {
    const staging = document.querySelector('#e2e-staging');
    const dt = new DataTransfer();
    for (const f of staging.files) dt.items.add(f);
    const zone = document.querySelector('#drop-zone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    staging.remove();
  });
}

/// Keeps only the MLP of the page's preset, sets its steps and runs it to the end.
async function labRuns(page, steps, bound = LIMITS.lab) {
  await page.waitForSelector('#steps');
  for (const m of ['linear', 'GRU', 'GCN', 'GAT', 'NRI']) {
    const box = page.locator(`input[name=model][value="${m}"]`);
    if (await box.count() && await box.isChecked()) await box.uncheck();
  }
  await page.fill('#steps', steps);
  await page.locator('#steps').press('Tab');
  await page.click('#run');
  await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: bound, polling: 250 });
}

/// axe-core's serious and critical violations on what the page shows now, as "rule: target …"
/// lines (axe checks visible content; hidden sections are checked when shown).
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    // evaluated through the DevTools protocol: the page's CSP rightly refuses injected scripts
    const source = fs.readFileSync(require.resolve('axe-core/axe.min.js', { paths: [path.join(root, 'scripts')] }), 'utf8');
    await page.evaluate(source);
  }
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`);
}

/// Runs axe on each section in turn (clicking its tab) and fails on any serious or critical
/// violation; returns how many elements were checked clean per section for the log.
async function axeSections(page, sections) {
  const found = [];
  for (const name of sections) {
    await page.click(`#nav-${name}`);
    for (const v of await axeViolations(page)) found.push(`${name}: ${v}`);
  }
  check(found.length === 0, `axe-core found ${found.length} serious or critical violation(s):\n    ${found.join('\n    ')}`);
}

/// Moves a range input (a time slider) as a person dragging it would: its value, then `input`.
const seek = (page, sel, value) => page.evaluate(([sel, value]) => {
  const input = document.querySelector(sel);
  input.value = String(value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}, [sel, value]);

/// Non-white pixels of a canvas.
const canvasInk = (page, sel) => page.evaluate((sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) n++;
  return n;
}, sel);

/// Resident memory (MB) of every process this run started (the browser, its renderers, GPU and
/// utility processes), from /proc.
/** Drops target/fixtures/NAME (a ~3 GB NWB) after warming the reader worker, and checks the
 * recording, where its parts came from, the time (< 5 s) and the browser's memory growth. */
async function dropBig(ctx, name, expectStats, maxGrowthMb, goalMb = maxGrowthMb, maxSeconds = 5, after = null) {
  const big = path.join(root, 'target/fixtures', name);
  check(fs.existsSync(big), `target/fixtures/${name} is missing: \`cargo test --test layouts\` writes it`);
  const page = await open(ctx, '?backend=cpu#view=data');
  await waitFinished(page);
  // the reader worker (its own module instance) starts at the first drop: start it with a
  // small file, so that what is measured is what the big file costs
  await dropFiles(page, [path.join(root, 'target/fixtures/osb_kato.nwb')]);
  await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '1', null, { timeout: 60000 });
  await page.waitForTimeout(1000);
  const before = browserRssMb();
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, browserRssMb()); }, 100);
  const t0 = Date.now();
  await dropFiles(page, [big]);
  await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '2', null, { timeout: 60000 });
  const seconds = (Date.now() - t0) / 1000;
  // charts draw after the count changes: keep sampling while they do
  await page.waitForTimeout(1500);
  clearInterval(sampler);
  peak = Math.max(peak, browserRssMb());
  const stats = await text(page, '.animal:last-child .stats');
  check(stats.startsWith(expectStats), `recording: "${stats}"`);
  const from = await text(page, '.animal:last-child .source');
  check(from.includes('RoiResponseSeries/data') && from.includes('neuron_name'), `the page does not say where the parts came from: "${from}"`);
  const readLine = await text(page, '#import-messages li');
  const gb = fs.statSync(big).size / 1e9;
  check(seconds < maxSeconds, `the ${gb.toFixed(1)} GB file took ${seconds.toFixed(1)} s`);
  check(peak - before < maxGrowthMb, `the browser's memory grew by ${(peak - before).toFixed(0)} MB, over ${maxGrowthMb} MB`);
  check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
  console.log(`  ${name} (${gb.toFixed(2)} GB) loaded in the page in ${seconds.toFixed(2)} s ("${readLine}"); the browser's resident memory grew by ${(peak - before).toFixed(1)} MB (${before.toFixed(0)} MB before; goal ${goalMb} MB: ${peak - before < goalMb ? 'met' : 'NOT met'}; goal 5 s: ${seconds < 5 ? 'met' : 'NOT met'})`);
  if (after) await after(page);
  check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
  await page.close();
}

function browserRssMb() {
  const children = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(pid);
    } catch { /* the process ended */ }
  }
  let kb = 0;
  const todo = [...(children.get(process.pid) || [])];
  while (todo.length) {
    const pid = todo.pop();
    try {
      const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
      if (m) kb += Number(m[1]);
    } catch { /* the process ended */ }
    todo.push(...(children.get(Number(pid)) || []));
  }
  return kb / 1024;
}

/// The demo's backend race (the demo test below): both figures, the faster picked, the software
/// adapter named, and a choice made in the lab remembered by the next visit.
async function rememberedChoice(ctx) {
  // with no GPU adapter (a software one counts as none), the page loads its CPU build and says
  // why, without timing the software adapter
  const gpuBytes = () => ctx.bytesByPath.get('/neurognn-webgpu_bg.wasm') || 0;
  const gpuBefore = gpuBytes();
  const plain = await open(ctx, '');
  const t0 = Date.now();
  await waitFinished(plain);
  const seconds = (Date.now() - t0) / 1000;
  check(await text(plain, '#status') === 'done', `status "${await text(plain, '#status')}"`);
  const cpuOnly = await text(plain, '#backend');
  check(cpuOnly.startsWith('CPU') && cpuOnly.includes('a software fallback adapter') && cpuOnly.includes('CPU build'), `with a software adapter only: "${cpuOnly}"`);
  check(await plain.evaluate(() => globalThis.neurognnBoot?.module) === 'neurognn-web', 'the page did not load its CPU build');
  check(gpuBytes() === gpuBefore, 'the WebGPU build was downloaded for a page without a GPU');
  check(!(await plain.evaluate(() => performance.getEntriesByType('resource').some((e) => e.name.includes('neurognn-webgpu')))), 'the page fetched its WebGPU build');
  check(plain.errors.length === 0, `page errors: ${plain.errors.join(' | ')}`);
  // told to take the software adapter for a GPU (as a hardware one is taken), the page loads
  // its WebGPU build and times both backends
  await plain.evaluate(() => localStorage.setItem('neurognn.time-software-adapter', '1'));
  await plain.close();
  const page = await open(ctx, '');
  await waitFinished(page, LIMITS.demoRace);
  check(await text(page, '#status') === 'done', `status "${await text(page, '#status')}"`);
  check(await page.evaluate(() => globalThis.neurognnBoot?.module) === 'neurognn-webgpu', 'the page did not load its WebGPU build');
  const backend = await text(page, '#backend');
  // a software adapter's timing is cut short after 3 s (its kernels take 12-15 s to compile
  // here): its figure is then that bound
  const figures = backend.match(/CPU ([\d.]+) ms\/step, WebGPU (?:([\d.]+) ms\/step|over (\d+) s for its first steps \(compiling its kernels\)) .*: using (the CPU|WebGPU)/);
  check(figures, `the backend label gives no figures: "${backend}"`);
  check(figures[2] || backend.includes('a software fallback adapter'), `a hardware adapter's timing was cut short: "${backend}"`);
  const [cpu, gpu] = [parseFloat(figures[1]), figures[2] ? parseFloat(figures[2]) : 1000 * parseFloat(figures[3])];
  check(figures[4] === (cpu < gpu ? 'the CPU' : 'WebGPU'), `picked ${figures[4]} with CPU ${cpu} and WebGPU ${gpu} ms/step`);
  check(backend.startsWith(cpu < gpu ? 'CPU' : 'WebGPU'), `label "${backend}"`);
  // Chromium's software WebGPU (SwiftShader) is named as what it is
  check(/fallback|SwiftShader/i.test(backend), `the software adapter is not named: "${backend}"`);
  // a choice made in the lab (the Experiment section) is remembered by the next visit
  await page.click('#nav-experiment');
  await page.selectOption('#backend-choice', 'cpu');
  check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
  await page.close();
  // the next visit (the e2e pages share one browser profile, as a person's tabs do; a reload
  // would not restart the demo: the lab has put its experiment in the URL)
  const again = await open(ctx, '');
  await again.waitForSelector('#backend-choice', { state: 'attached' });
  check(await again.inputValue('#backend-choice') === 'cpu', 'the backend choice was not remembered');
  await waitFinished(again);
  check((await text(again, '#backend')).includes('chosen by the user'), `after the choice: "${await text(again, '#backend')}"`);
  check(again.errors.length === 0, `page errors: ${again.errors.join(' | ')}`);
  await again.close();
  console.log(`  demo in ${seconds.toFixed(1)} s (goal 15 s: ${seconds <= 15 ? 'met' : 'NOT met'}); ${cpuOnly}`);
  console.log(`  with the software adapter timed: ${backend}`);
}

/// The lab's WebGPU test: the page loads its CPU build (no GPU adapter here, a software one),
/// then WebGPU is chosen in the lab: the first worker starts again on the WebGPU build.
async function labOnWebgpu(ctx) {
  const page = await open(ctx, '#preset=synthetic-demo');
  await page.waitForSelector('#steps');
  check(await page.evaluate(() => globalThis.neurognnBoot?.module) === 'neurognn-web', 'the page did not load its CPU build');
  await page.selectOption('#backend-choice', 'webgpu');
  for (const m of ['GCN', 'NRI']) await page.uncheck(`input[name=model][value="${m}"]`);
  await page.fill('#steps', '40');
  await page.locator('#steps').press('Tab');
  await page.click('#run');
  await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.labGpu, polling: 500 });
  const status = await text(page, '#lab-status');
  const backend = await text(page, '#lab-backend');
  check(status === 'done', `lab status is "${status}"`);
  check(backend.startsWith('WebGPU'), `the worker's backend is "${backend}"`);
  const mse = await page.locator('table.results-table td[data-metric="mse"]').allTextContents();
  check(mse.length === 1 && parseFloat(mse[0]) > 0, `MSE cells: ${mse}`);
  check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
  console.log(`  ${backend}; MLP leave-one-animal-out MSE ${mse[0]}; ${await text(page, '#overall')}`);
  await page.close();
}

const tests = {
  async 'the page\'s wasm comes compressed over the wire (brotli, precompressed by the build)'(ctx) {
    const gpuBytes = () => ctx.bytesByPath.get('/neurognn-webgpu_bg.wasm') || 0;
    const gpuBefore = gpuBytes();
    const page = await open(ctx, '?backend=cpu');
    const wasm = '/neurognn-web_bg.wasm';
    const size = fs.statSync(path.join(root, 'dist', wasm)).size;
    // the page and its workers load the wasm first: wait until nothing more of it is sent
    let before = -1;
    while (before !== (ctx.bytesByPath.get(wasm) || 0)) { before = ctx.bytesByPath.get(wasm) || 0; await page.waitForTimeout(1500); }
    // what this browser asks for and gets (it chooses Accept-Encoding itself), fetched anew
    const [coding, decoded] = await page.evaluate(async (url) => {
      const r = await fetch(url, { cache: 'no-store' });
      return [r.headers.get('content-encoding'), (await r.arrayBuffer()).byteLength];
    }, wasm);
    const wire = (ctx.bytesByPath.get(wasm) || 0) - before;
    check(coding === 'br', `the wasm came with Content-Encoding ${coding}`);
    check(decoded === size, `the wasm decoded to ${decoded} bytes, the file has ${size}`);
    check(wire === fs.statSync(path.join(root, 'dist', wasm + '.br')).size, `${wire} bytes went over the wire`);
    // issue 15's bar: 2.0 MB (the CPU build, which a machine without a GPU adapter loads)
    check(wire <= 2e6, `the wasm is ${(wire / 1e6).toFixed(2)} MB over the wire`);
    check(gpuBytes() === gpuBefore, 'the WebGPU build was downloaded too');
    const gpuBuild = (f) => fs.statSync(path.join(root, 'dist', `neurognn-webgpu_bg.wasm${f}`)).size / 1e6;
    console.log(`  the page's CPU build: ${(size / 1e6).toFixed(2)} MB, ${(wire / 1e6).toFixed(2)} MB over the wire (brotli; goal 2.0 MB: ${wire <= 2e6 ? 'met' : 'NOT met'}); ` +
      `its WebGPU build (machines with a GPU adapter): ${gpuBuild('').toFixed(2)} MB, ${gpuBuild('.br').toFixed(2)} MB brotli`);
    await page.close();
  },

  async 'published layouts (DANDI 000776, WormID, OSB Kato and Scholz, Flavell HDF5) import with names and behaviour'(ctx) {
    const dir = path.join(root, 'target/fixtures');
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')).fixtures;
    const page = await open(ctx, '?backend=cpu#view=data');
    await waitFinished(page);
    await dropFiles(page, expected.map((f) => path.join(dir, f.file)));
    await page.waitForFunction((n) => document.querySelector('#animal-count')?.textContent === String(n), expected.length, { timeout: 60000 });
    const cards = await page.locator('.animal').evaluateAll((els) => els.map((e) => ({
      name: e.querySelector('h4').textContent, stats: e.querySelector('.stats').textContent, from: e.querySelector('.source').textContent })));
    // the rule of src/data/names.rs: one alphanumeric name (a trailing '?' dropped), not a number
    const identified = (n) => n !== null && /^[A-Za-z0-9]+$/.test(n.trim().replace(/\?+$/, '').trim()) && !/^[0-9.]+$/.test(n.trim());
    for (const f of expected) {
      // a plain HDF5 file with several 2-D arrays names its recording after the array too
      const stem = f.file.replace(/\.[^.]+$/, '');
      const card = cards.find((c) => c.name === stem || c.name.startsWith(`${stem} `));
      check(card, `no animal for ${f.file} among ${cards.map((c) => c.name)}`);
      const named = f.names.filter(identified).length;
      check(card.stats.startsWith(`${f.frames} frames · ${f.neurons} neurons (${named} identified)`), `${f.file}: "${card.stats}"`);
      const b = f.behaviour;
      const states = b && b.kind === 'event-mask' ? '2 states' : b && b.kind === 'codes' ? `${Object.values(b.frames_per_state).filter((n) => n > 0).length} states` : 'no labels';
      check(card.stats.endsWith(states), `${f.file}: "${card.stats}" should end with "${states}"`);
      check(card.from.includes(f.activity_path.split('{')[0].replace(/^\//, '').replace(/\/data$/, '')), `${f.file}: source "${card.from}"`);
    }
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.screenshot({ path: path.join(SHOTS, 'import-published-layouts.png'), fullPage: true });
    console.log(`  ${expected.length} published layouts imported in the page: ${cards.map((c) => `${c.name} (${c.stats.split(' · ').slice(0, 2).join(', ')})`).join('; ')}`);
    await page.close();
  },

  async 'a 3 GB NWB opened by its URL is read by ranges: under 5 % of it leaves the server'(ctx) {
    const big = path.join(root, 'target/fixtures/big.nwb');
    check(fs.existsSync(big), 'target/fixtures/big.nwb is missing: `cargo test --test layouts` writes it');
    const page = await open(ctx, '?backend=cpu#view=data');
    await waitFinished(page);
    const before = ctx.bytesByPath.get('/fixtures/big.nwb') || 0;
    const t0 = Date.now();
    await page.fill('#url-input', `${ctx.origin}/fixtures/big.nwb`);
    await page.click('#open-url');
    await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '1', null, { timeout: 60000 });
    const seconds = (Date.now() - t0) / 1000;
    const sent = (ctx.bytesByPath.get('/fixtures/big.nwb') || 0) - before;
    const size = fs.statSync(big).size;
    const stats = await text(page, '.animal .stats');
    check(stats.startsWith('3000 frames · 100 neurons'), `recording: "${stats}"`);
    check(sent > 0 && sent < 0.05 * size, `the server sent ${sent} of ${size} bytes`);
    const readLine = await text(page, '#import-messages li');
    check(readLine.includes('MB of it read'), `the page does not say how much was read: "${readLine}"`);
    // a URL that cannot be read is refused by name, and what was loaded stays
    await page.fill('#url-input', `${ctx.origin}/fixtures/no-such-file.nwb`);
    await page.click('#open-url');
    await page.waitForFunction(() => document.querySelector('#import-messages li.error'), null, { timeout: 30000 });
    const error = await text(page, '#import-messages li.error');
    check(error.includes('no-such-file.nwb') && error.includes('404'), `error reads "${error}"`);
    check(await text(page, '#animal-count') === '1', 'a bad URL changed what was loaded');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  big.nwb (${(size / 1e9).toFixed(2)} GB) opened by URL in ${seconds.toFixed(2)} s; the server sent ${(sent / 1e6).toFixed(2)} MB (${(100 * sent / size).toFixed(3)} %): "${readLine}"`);
    await page.close();
  },

  async 'a 3 GB NWB dropped in the page loads its traces by reading a few MB of it'(ctx) {
    // the traces are 1.2 MB and a file read whole would be 3,220 MB; the growth measured is the
    // whole browser's (the new animal's card and charts included): 50 MB on 2026-11-29
    // (4 × the traces would be 4.8 MB, under the fixed cost of a new animal's card and charts:
    // the next test measures the bar on a file with 40 MB of traces)
    await dropBig(ctx, 'big.nwb', '3000 frames · 100 neurons', 160, 4 * 1.2);
  },

  async 'a 3 GB NWB with 40 MB of traces loads in the page within 4 × its traces of memory, and its arrays can be picked'(ctx) {
    // 1,000 neurons × 10,000 frames: 40 MB as f32. Issue 14's bar: under 5 s, and everything the
    // drop costs the browser (page and workers) under 4 × the traces (160 MB). 111–144 MB and
    // 1.1–1.3 s on 2026-11-29 (902–939 MB and 4.5 s while listings carried every array's values).
    await dropBig(ctx, 'big-traces.nwb', '10000 frames · 1000 neurons', 4 * 40, 4 * 40, 5, async (page) => {
      // the page lists the 40 MB traces by their shape only: picking arrays has the reader
      // read the file again (only the picked datasets), with the names from the segmentation
      await page.locator('#files details summary').last().click();
      const form = page.locator('#files details').last().locator('.choice');
      const data = '/processing/ophys/Fluorescence/RoiResponseSeries/data';
      const listed = await page.locator('#files details').last().locator('tr').evaluateAll(
        (rows, data) => rows.filter((r) => r.querySelector('code')?.textContent === data).map((r) => r.cells[1].textContent), data);
      check(listed.length === 1 && listed[0] === 'float 10000×1000', `the traces are listed as ${JSON.stringify(listed)}`);
      await form.locator('select').nth(0).selectOption(data);
      await form.locator('select').nth(1).selectOption('columns');
      await form.locator('select').nth(2).selectOption('/processing/ophys/ImageSegmentation/PlaneSegmentation/neuron_name');
      await form.locator('select').nth(3).selectOption('');
      const t0 = Date.now();
      await form.locator('button').click();
      await page.waitForFunction(() => /now one recording/.test(document.querySelector('#import-messages li')?.textContent || ''), null, { timeout: 60000 });
      const stats = await text(page, '.animal:last-child .stats');
      const from = await text(page, '.animal:last-child .source');
      check(stats.startsWith('10000 frames · 1000 neurons (148 identified)') && stats.includes('no labels'), `picked recording: "${stats}" from "${from}"; ${await page.locator('#import-messages li').allInnerTexts()}`);
      check(await text(page, '#animal-count') === '2', 'the pick added a recording instead of replacing the file\'s');
      await page.locator('#files details').last().scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(SHOTS, 'import-big-traces-picked.png'), fullPage: true });
      console.log(`  picking arrays in big-traces.nwb: rebuilt by the reader in ${((Date.now() - t0) / 1000).toFixed(2)} s ("${await text(page, '#import-messages li')}")`);
    });
  },

  async 'dropping WT_NoStim.mat shows 5 animals, 22 shared neurons and the 8 states'(ctx) {
    const page = await open(ctx, '?backend=cpu#view=data');
    await waitFinished(page);
    await dropFiles(page, [path.join(KATO, 'mat/WT_NoStim.mat')]);
    await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '5', null, { timeout: 120000 });
    const readLine = await text(page, '#import-messages li');
    const ms = parseFloat(readLine.match(/in (\d+) ms/)[1]);
    check(await text(page, '#shared-count') === '22', `shared neurons: ${await text(page, '#shared-count')}`);
    const states = await page.locator('#states li').evaluateAll((li) => li.map((e) => e.dataset.state));
    check(JSON.stringify([...states].sort()) === JSON.stringify(['DT', 'FWD', 'NOSTATE', 'REV1', 'REV2', 'REVSUS', 'SLOW', 'VT']),
      `states: ${states}`);
    check((await text(page, '#label-scheme')).includes('Kato'), 'the Kato scheme is not recognised');
    const merged = await text(page, '#merged-counts');
    check(/^FWD \d+ · REV \d+ · REVSUS \d+ · TURN \d+$/.test(merged), `4-class merge reads "${merged}"`);
    check(await page.locator('canvas.raster').count() === 5, 'expected 5 rasters');
    for (let i = 0; i < 5; i++) check(await canvasInk(page, `#raster-${i}`) > 20000, `raster ${i} looks empty`);
    check(await canvasInk(page, '#coverage') > 2000, 'the coverage matrix looks empty');
    // the first worm on the body, and its activity around the onsets of reversals: AVA, the
    // command interneuron of backward locomotion, rises as a reversal starts (Kato et al. 2015)
    await page.waitForFunction(() => /: \d+ neurons drawn where their cell bodies sit/.test(document.querySelector('#animal-worm-caption')?.textContent || ''), null, { timeout: 20000 });
    const placed = parseInt((await text(page, '#animal-worm-caption')).match(/: (\d+) neurons drawn/)[1], 10);
    check(placed >= 22, `only ${placed} of the worm's identified neurons were placed on the body`);
    await page.waitForFunction(() => /onsets of REV1/.test(document.querySelector('#animal-events-caption')?.textContent || ''), null, { timeout: 20000 });
    const events = await text(page, '#animal-events-caption');
    const ava = events.match(/AVAL ([+-]\d+\.\d\d) → ([+-]\d+\.\d\d)/);
    check(ava && parseFloat(ava[2]) > parseFloat(ava[1]), `AVA around reversal onsets: "${events}"`);
    check(await canvasInk(page, '#animal-events-canvas') > 5000, 'the event-aligned chart looks empty');
    await page.locator('#animal-events-canvas').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'import-wt-nostim-events.png') });
    await page.screenshot({ path: path.join(SHOTS, 'import-wt-nostim.png'), fullPage: true });

    // a broken file is reported by name and what was loaded stays
    const bytes = fs.readFileSync(path.join(KATO, 'npz/worm1.npz'));
    await page.setInputFiles('#file-input', { name: 'broken.npz', mimeType: 'application/octet-stream', buffer: bytes.subarray(0, 5000) });
    await page.waitForFunction(() => document.querySelector('#import-messages li.error'), null, { timeout: 30000 });
    const error = await text(page, '#import-messages li.error');
    check(error.startsWith('broken.npz:'), `error reads "${error}"`);
    check(await text(page, '#animal-count') === '5', 'a broken file changed what was loaded');

    // correcting the guess: take worm 3's arrays only
    await page.click('#files details summary');
    const form = page.locator('#files details .choice');
    await form.locator('select').nth(0).selectOption('WT_NoStim.deltaFOverF_bc{3}');
    await form.locator('select').nth(2).selectOption('WT_NoStim.NeuronNames{3}');
    await form.locator('select').nth(3).selectOption('WT_NoStim.States{3}');
    await form.locator('button').click();
    await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '1', null, { timeout: 30000 });
    const stats = await text(page, '.animal .stats');
    check(stats.startsWith('3059 frames · 131 neurons (32 identified)'), `corrected recording: "${stats}"`);
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  WT_NoStim.mat (${(fs.statSync(path.join(KATO, 'mat/WT_NoStim.mat')).size / 1e6).toFixed(1)} MB) read in the page in ${ms} ms; ${merged}; ${placed} neurons on the body; ${events}`);
    await page.close();
  },

  async 'side files name and label a recording dropped with them'(ctx) {
    const page = await open(ctx, '?backend=cpu#view=data');
    await waitFinished(page);
    const files = ['npz/worm1.npz', 'original/worm_0_neurons.csv', 'original/worm_0_y.csv', 'original/worm_0_states.csv'];
    await dropFiles(page, files.map((f) => path.join(KATO, f)));
    await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '1', null, { timeout: 60000 });
    const notes = await page.locator('#import-messages li').allTextContents();
    check(notes.length === 4 && !(await page.locator('#import-messages li.error').count()), `messages: ${notes.join(' | ')}`);
    check((await text(page, '.animal .stats')).startsWith('3137 frames · 109 neurons (38 identified)'), 'worm 1 stats');
    await page.screenshot({ path: path.join(SHOTS, 'import-side-files.png'), fullPage: true });
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
  },

  async 'a recording kept in the browser is there after a reload, until “Forget what this browser keeps”'(ctx) {
    const page = await open(ctx, '?backend=cpu#view=data');
    await page.waitForSelector('#drop-zone');
    await dropFiles(page, [path.join(KATO, 'npz/worm1.npz')]);
    await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '1', null, { timeout: 60000 });
    const stats = await text(page, '.animal .stats');
    await page.check('.animal .keep-animal');
    await page.waitForTimeout(1500);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '1', null, { timeout: 30000 });
    check(await text(page, '.animal .stats') === stats, `after the reload: "${await text(page, '.animal .stats')}" (was "${stats}")`);
    check(await page.locator('.animal .keep-animal').isChecked(), 'the kept recording is not marked as kept');
    const said = (await page.locator('#import-messages li').allTextContents()).join(' | ');
    check(said.includes('1 recording(s) kept in this browser were loaded again'), `messages: ${said}`);
    await page.click('#forget');
    await page.waitForFunction(() => /the kept recordings/.test(document.querySelector('#forget-said')?.textContent || ''), null, { timeout: 10000 });
    await page.reload();
    await page.waitForSelector('#animal-count', { state: 'attached' });
    await page.waitForTimeout(2000);
    check(await text(page, '#animal-count') === '0', `after Forget and a reload: ${await text(page, '#animal-count')} animal(s)`);
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
    console.log(`  worm1.npz kept in the browser and loaded again after a reload ("${stats}"); Forget emptied it`);
  },

  async 'demo trains on WebGPU and reports a falling loss'(ctx) {
    // the MLP's 300 steps whole; the GCN's first 20 on WebGPU, then Stop (on the software
    // adapter here a GCN step takes about a second; the CPU test below trains it whole)
    const page = await open(ctx, '?backend=webgpu');
    const t0 = Date.now();
    await page.waitForFunction(() => /^GCN step ([2-9]\d|\d{3,})/.test(document.querySelector('#progress')?.textContent || ''), null, { timeout: LIMITS.demoWebgpu, polling: 200 });
    await page.click('#stop');
    await waitFinished(page);
    const status = await text(page, '#status');
    const backend = await text(page, '#backend');
    check(status === 'stopped', `status is "${status}"`);
    check(backend.startsWith('WebGPU'), `backend label is "${backend}"`);
    const rows = await demoRows(page);
    check(rows.MLP.final < rows.MLP.first && rows.MLP.mse > 0 && rows.MLP.mse < 1, `MLP on WebGPU: ${JSON.stringify(rows.MLP)}`);
    check(Number.isFinite(rows.GCN?.first) && Number.isFinite(rows.GCN?.final) && rows.GCN.mse > 0, `GCN on WebGPU: ${JSON.stringify(rows.GCN)}`);
    const ink = await inkedPixels(page);
    check(ink > 2000, `the loss chart looks empty (${ink} inked pixels)`);
    await page.screenshot({ path: path.join(SHOTS, 'demo-webgpu.png'), fullPage: true });
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  ${backend}; MLP loss ${rows.MLP.first} -> ${rows.MLP.final}, validation MSE ${rows.MLP.mse}; GCN stopped after its first steps, loss ${rows.GCN.first} -> ${rows.GCN.final}; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await page.close();
  },

  async 'the demo times both backends, trains on the faster, says so with both figures, and the choice is remembered'(ctx) {
    try {
      await rememberedChoice(ctx);
    } finally {
      // forget the choice for the tests after this one, whatever happened
      const page = await open(ctx, '?backend=cpu#preset=synthetic-demo');
      await page.evaluate(() => { localStorage.removeItem('neurognn.backend'); localStorage.removeItem('neurognn.time-software-adapter'); });
      await page.close();
    }
  },

  async 'the CPU fallback trains the same demo'(ctx) {
    const page = await open(ctx, '?backend=cpu');
    await waitFinished(page);
    const backend = await text(page, '#backend');
    check(backend.startsWith('CPU'), `backend label is "${backend}"`);
    check(await text(page, '#status') === 'done', 'CPU demo did not finish');
    const metric = await checkDemo(page);
    await page.screenshot({ path: path.join(SHOTS, 'demo-cpu.png'), fullPage: true });
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  ${backend}; validation MSE ${metric}`);
    await page.close();
  },

  async 'a worker whose build cannot be loaded: the demo says what failed, and Train again trains it'(ctx) {
    // the page loads its build; every worker's copy of it is then refused, as a download that
    // failed would be (the page would otherwise wait for the worker's Ready for ever)
    let served = 0;
    const refuse = (route) => (served++ === 0 ? route.continue() : route.fulfill({ status: 503, body: 'refused by the e2e test' }));
    await ctx.browser.route('**/neurognn-web.js', refuse);
    let page;
    try {
      page = await open(ctx, '?backend=cpu');
      await page.waitForFunction(() => /^failed: /.test(document.querySelector('#status')?.textContent || ''), null, { timeout: LIMITS.workerFails });
    } finally {
      await ctx.browser.unroute('**/neurognn-web.js', refuse);
    }
    const said = await text(page, '#status');
    check(said.includes('its build could not be loaded') && said.includes('neurognn-web'), `status "${said}"`);
    check(await page.locator('#start').isEnabled() && (await text(page, '#start')) === 'Train again', 'no offer to train again');
    await page.click('#start');
    await waitFinished(page, LIMITS.demo);
    check(await text(page, '#status') === 'done', `after Train again: "${await text(page, '#status')}"`);
    await checkDemo(page);
    const unexpected = page.errors.filter((e) => !/failed to start|neurognn-web\.js|503|dynamically imported module/.test(e));
    check(unexpected.length === 0, `page errors: ${unexpected.join(' | ')}`);
    console.log(`  ${served - 1} worker start(s) refused; the demo said "${said.slice(0, 160)}…" and trained on Train again`);
    await page.close();
  },

  async 'a worker whose script never arrives is started again after 30 s, and the demo trains in the new one'(ctx) {
    // the demo worker's first request for its script is held unanswered (a fetch that hangs
    // fires no event); the page must start another worker and hand it the demo
    let asked = 0;
    const held = [];
    const hold = (route) => (asked++ === 0 ? held.push(route) : route.continue());
    await ctx.browser.route('**/public/worker.js*', hold);
    let page;
    const t0 = Date.now();
    try {
      page = await open(ctx, '?backend=cpu');
      await waitFinished(page, LIMITS.stuckStart);
    } finally {
      await ctx.browser.unroute('**/public/worker.js*', hold);
      for (const route of held) await route.abort().catch(() => {});
    }
    const seconds = (Date.now() - t0) / 1000;
    check(await text(page, '#status') === 'done', `status "${await text(page, '#status')}"`);
    await checkDemo(page);
    const restarted = page.said.find((l) => l.includes('did not say it was ready within'));
    check(asked >= 2 && restarted, `the stuck worker was not started again (${asked} request(s) for its script; console: ${page.said.slice(-5).join(' | ')})`);
    check(seconds >= 30, `the demo finished in ${seconds.toFixed(1)} s, before the stuck worker could have been replaced`);
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  the worker's script held unanswered; "${restarted.replace(/^\[\w+\] /, '')}"; the demo finished ${seconds.toFixed(1)} s after the page was asked for`);
    await page.close();
  },

  async 'the app: one sentence and a living worm on the first screen, sections by tabs and in the URL, Experiment beside Results on a wide screen'(ctx) {
    const t0 = Date.now();
    const page = await open(ctx, '?backend=cpu');
    // alive: the worm drawn and its playback moving
    await page.waitForFunction(() => /\d+\.\d s/.test(document.querySelector('#meet-worm-time')?.textContent || ''), null, { timeout: 15000 });
    const shown = await text(page, '#meet-worm-time');
    await page.waitForFunction((t) => document.querySelector('#meet-worm-time').textContent !== t, shown, { timeout: 5000 });
    const alive = (Date.now() - t0) / 1000;
    const ink = await canvasInk(page, '#meet-worm-canvas');
    check(ink > 4000, `the worm view looks empty (${ink} inked pixels)`);
    const caption = await text(page, '#meet-worm-caption');
    check(/^synthetic animal 1: 32 neurons drawn where their cell bodies sit, joined by their \d+ connections in the connectome .* At \d+\.\d s.* the most active \(z-scored\) are [A-Z0-9]+ [+−-]\d\.\d/.test(caption), `worm caption: "${caption}"`);
    const tagline = await text(page, '.tagline');
    check(tagline.trim().endsWith('.') && tagline.trim().split('. ').length === 1, `the first screen's sentence: "${tagline}"`);
    check(alive <= 5, `nothing moved on the first screen within 5 s (${alive.toFixed(1)} s)`);
    const visible = (sel) => page.locator(sel).isVisible();
    const current = () => page.locator('.sections [aria-current="page"]').textContent();
    check(await current() === 'Learn' && await visible('#meet') && await visible('#demo') && !(await visible('#lab')) && !(await visible('#drop-zone')), 'the first screen is not the Learn section alone');
    await page.screenshot({ path: path.join(SHOTS, 'section-learn.png'), fullPage: true });
    // each tab shows its section alone (Experiment and Results together on this 1280 px screen),
    // names it in the URL, and a reload of that URL opens it again
    const sections = { data: ['#drop-zone', '#experiment-data'], experiment: ['#lab', '#results-panel'], results: ['#results-panel', '#lab'] };
    for (const [name, shows] of Object.entries(sections)) {
      await page.click(`#nav-${name}`);
      check((await page.evaluate(() => location.hash)).startsWith(`#view=${name}&`), `the URL after the ${name} tab: ${await page.evaluate(() => location.hash.slice(0, 40))}`);
      for (const sel of shows) check(await visible(sel), `${sel} is not shown in the ${name} section`);
      check(!(await visible('#meet')), `the Learn section is still shown in ${name}`);
      await page.screenshot({ path: path.join(SHOTS, `section-${name}.png`), fullPage: true });
    }
    const [lab, results] = [await page.locator('#lab').boundingBox(), await page.locator('#results-panel').boundingBox()];
    check(results.x > lab.x + lab.width - 1 && Math.abs(results.y - lab.y) < 5, `Results do not stand beside the experiment: ${JSON.stringify([lab, results])}`);
    // a narrow screen shows one section at a time
    await page.setViewportSize({ width: 900, height: 800 });
    check(await visible('#results-panel') && !(await visible('#lab')), 'on a narrow screen Results and Experiment both show');
    await page.reload();
    await page.waitForSelector('#results-panel', { state: 'visible' });
    check(await current() === 'Results', `a reload opened ${await current()}`);
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
    // a link to an experiment opens the Experiment section
    const link = await open(ctx, '?backend=cpu#preset=synthetic-demo');
    await link.waitForSelector('#lab', { state: 'visible' });
    check(await link.locator('.sections [aria-current="page"]').textContent() === 'Experiment', 'a link to an experiment does not open the Experiment section');
    await link.close();
    console.log(`  the worm moved on the first screen ${alive.toFixed(1)} s after the page was asked for; ${caption.split('. ')[0]}`);
  },

  async 'accessibility: axe-core finds no serious or critical violation in any section; every control is reachable by keyboard'(ctx) {
    const page = await open(ctx, '?backend=cpu');
    await waitFinished(page);
    await axeSections(page, ['learn', 'data', 'experiment', 'results']);
    // in large type too (the teacher's setting)
    await page.click('#large-type');
    await axeSections(page, ['learn', 'experiment']);
    await page.click('#large-type');
    // the keyboard alone reaches the tabs and moves between sections
    await page.click('#nav-learn');
    await page.locator('#nav-learn').focus();
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement?.id) === 'nav-data', `Tab from Learn went to ${await page.evaluate(() => document.activeElement?.id)}`);
    await page.keyboard.press('Enter');
    check(await page.locator('#drop-zone').isVisible(), 'Enter on the Data tab did not open Data');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
    console.log('  axe-core: 0 serious or critical violations in Learn, Data, Experiment and Results (and in large type)');
  },

  async 'offline: a page loaded once opens again without a network, trains the demo, and keeps the Kato files it fetched'(ctx) {
    const page = await open(ctx, '?backend=cpu');
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
    await page.waitForFunction(async () => (await (await caches.open('neurognn-app')).keys()).length >= 7, null, { timeout: 60000, polling: 500 });
    // a Kato file fetched whole while online (as the Kato presets fetch them)
    const kato = 'data/kato2015/npz/worm1.npz';
    const online = await page.evaluate(async (u) => (await (await fetch(u)).arrayBuffer()).byteLength, kato);
    await waitFinished(page);
    await ctx.browser.setOffline(true);
    try {
      const t0 = Date.now();
      await page.reload();
      // the reloaded URL holds the lab's experiment, so the demo waits for its button
      await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'not started', null, { timeout: 30000 });
      await page.click('#start');
      await waitFinished(page);
      check(await text(page, '#status') === 'done', `offline, the demo reads "${await text(page, '#status')}"`);
      const metric = await checkDemo(page);
      const again = await page.evaluate(async (u) => (await (await fetch(u)).arrayBuffer()).byteLength, kato);
      check(again === online && online > 100000, `the Kato file offline: ${again} bytes (online ${online})`);
      await page.screenshot({ path: path.join(SHOTS, 'offline-demo.png'), fullPage: true });
      check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
      // proof of being offline: a file never fetched cannot be had (the browser logs the failure)
      const never = await page.evaluate(async () => { try { await fetch('data/kato2015/npz/worm2.npz'); return 'fetched'; } catch { return 'failed'; } });
      check(never === 'failed', 'a file never fetched was fetched: the browser is not offline');
      console.log(`  offline: reloaded and trained the demo in ${((Date.now() - t0) / 1000).toFixed(1)} s (validation MSE ${metric}); ${kato} (${online} bytes) read from the kept copy`);
    } finally {
      await ctx.browser.setOffline(false);
      await page.close();
    }
  },

  async 'a reload in the middle of an experiment keeps its finished runs; the rest run on a click'(ctx) {
    const page = await open(ctx, '?backend=cpu&workers=1#preset=synthetic-demo');
    await page.waitForSelector('#steps');
    await page.fill('#steps', '60');
    await page.locator('#steps').press('Tab');
    await page.click('#run');
    const finished = () => page.evaluate(() => document.querySelectorAll('.queue li[data-state="finished"]').length);
    await page.waitForFunction(() => document.querySelectorAll('.queue li[data-state="finished"]').length >= 2, null, { timeout: LIMITS.preset, polling: 200 });
    // the lab keeps its experiment within a moment (0.2 s) of each finished run
    await page.waitForTimeout(1500);
    const before = await finished();
    await page.waitForTimeout(1000);
    const beforeReload = await finished();
    await page.reload();
    await page.waitForFunction(() => /^kept by this browser: \d+ of 9 runs finished|^done: the 9 runs/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: 20000 });
    const status = await text(page, '#lab-status');
    const kept = parseInt(status.match(/(\d+) of 9|the (\d+) runs/).slice(1).find(Boolean), 10);
    check(kept >= before && kept >= 2, `after the reload: "${status}" (${before} had finished a second before, ${beforeReload} at the reload)`);
    check(await page.locator('.queue li[data-state="finished"]').count() === kept, 'the queue does not show the kept runs as finished');
    check(await page.locator('table.results-table[data-task="next-step"] tbody tr').count() > 0, 'the kept runs show no results');
    await page.screenshot({ path: path.join(SHOTS, 'reload-kept-runs.png'), fullPage: true });
    if (kept < 9) {
      await page.click('#run-unfinished');
      await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.preset, polling: 500 });
    }
    check(await text(page, '#lab-status') === 'done' || status.startsWith('done'), `after running the rest: "${await text(page, '#lab-status')}"`);
    check(await finished() === 9, `${await finished()} of 9 runs finished`);
    // the button forgets it: a reload then shows nothing kept
    await page.click('#forget');
    await page.waitForFunction(() => /^forgotten: the kept experiment/.test(document.querySelector('#forget-said')?.textContent || ''), null, { timeout: 10000 });
    await page.reload();
    await page.waitForSelector('#lab-status');
    await page.waitForTimeout(1500);
    check(await text(page, '#lab-status') === 'ready', `after Forget and a reload: "${await text(page, '#lab-status')}"`);
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
    console.log(`  reloaded with ${beforeReload} run(s) finished: ${kept} kept (${status}); the other ${9 - kept} ran on a click; Forget emptied it`);
  },

  async 'the guided lesson, walked by keyboard only: each step its action and live view, each training step within a minute on the CPU'(ctx) {
    const page = await open(ctx, '?backend=cpu#lesson&step=1');
    await page.waitForSelector('#lesson-title');
    check(!(await page.locator('#demo').isVisible()), 'the demo shows beside the lesson');
    const times = [];
    const found = [];
    const cell = async (model) => parseFloat(await page.locator(`#lesson-scores tr[data-model="${model}"] td`).textContent());
    for (let s = 1; s <= 6; s++) {
      const title = await text(page, '#lesson-title');
      check(title.startsWith(`Step ${s} of 6: `), `step ${s} reads "${title}"`);
      check((await page.evaluate(() => location.hash)).includes(`lesson&step=${s}`), `the URL does not hold step ${s}`);
      await page.waitForFunction(() => document.activeElement?.id === 'lesson-action', null, { timeout: 5000 });
      await page.keyboard.press('Enter');
      if (s === 1) {
        await page.waitForFunction(() => document.querySelector('#lesson-status')?.textContent === 'playing', null, { timeout: 5000 });
        const at = await text(page, '#lesson-worm-time');
        await page.waitForFunction((t) => document.querySelector('#lesson-worm-time').textContent !== t, at, { timeout: 5000 });
        check(await canvasInk(page, '#lesson-worm-canvas') > 4000, 'step 1: the worm looks empty');
      } else if (s < 6) {
        await page.waitForFunction(() => /^(done|stopped|failed)\S* .*in [\d.]+ s/.test(document.querySelector('#lesson-status')?.textContent || ''), null, { timeout: 180000, polling: 500 });
        const status = await text(page, '#lesson-status');
        const secs = parseFloat(status.match(/in ([\d.]+) s/)[1]);
        check(status.startsWith('done'), `step ${s}: "${status}"`);
        times.push(`step ${s} ${secs.toFixed(1)} s`);
        check(secs <= 60, `step ${s} took ${secs} s (budget 60 s)`);
        await page.waitForTimeout(400);
        if (s === 2) check(await cell('MLP') < await cell('persistence'), `step 2: MLP ${await cell('MLP')} vs persistence ${await cell('persistence')}`);
        if (s === 3) check([await cell('MLP'), await cell('GCN'), await cell('persistence')].every((v) => v > 0 && v < 1), 'step 3: the scores are missing');
        if (s === 4) {
          check([await cell('MLP'), await cell('GCN')].every((v) => v > 0.34 && v <= 1), `step 4: balanced accuracies ${await cell('MLP')}, ${await cell('GCN')} (chance 0.333)`);
          check(await canvasInk(page, '#lesson-confusion') > 3000, 'step 4: the confusion matrix looks empty');
          const events = await text(page, '#lesson-events-caption');
          check(/onsets of REV.*AVAL [+−-]\d\.\d\d → [+−-]\d\.\d\d/.test(events), `step 4: "${events}"`);
        }
        if (s === 5) {
          const auroc = await text(page, '#lesson-auroc');
          const v = parseFloat((auroc.match(/AUROC against the true wiring ([\d.]+)/) || [])[1]);
          check(v > 0.6, `step 5: "${auroc}"`);
          check(await canvasInk(page, '#lesson-inferred') > 3000, 'step 5: the inferred graph looks empty');
        }
      }
      await page.screenshot({ path: path.join(SHOTS, `lesson-step-${s}.png`), fullPage: true });
      if (s < 6) for (const v of await axeViolations(page)) found.push(`step ${s}: ${v}`);
      if (s < 6) await page.keyboard.press('ArrowRight');
    }
    // step 6's action opened Data, where recordings are dropped
    await page.waitForSelector('#drop-zone', { state: 'visible', timeout: 5000 });
    check(found.length === 0, `axe-core in the lesson:\n    ${found.join('\n    ')}`);
    // a glossary word leads to its entry
    await page.click('#nav-learn');
    await page.click('#lesson-step-3');
    await page.locator('a.term').first().focus();
    await page.keyboard.press('Enter');
    check(await page.evaluate(() => document.activeElement?.id?.startsWith('glossary-')), 'a glossary word does not lead to its entry');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
    console.log(`  lesson by keyboard, CPU in the page: ${times.join(', ')} (budget 60 s each)`);
  },

  async 'Stop halts a run and keeps its result'(ctx) {
    // on the software adapter: its steps are slow enough that the run is still going when
    // the click lands (on the CPU the demo's 300 steps end within a second of step 20)
    const page = await open(ctx, '?backend=webgpu');
    await page.waitForFunction(() => /^MLP step ([2-9]\d|\d{3,})/.test(document.querySelector('#progress')?.textContent || ''),
      null, { timeout: LIMITS.demoWebgpu, polling: 100 });
    await page.click('#stop');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'stopped', null, { timeout: 60000 });
    const progress = await text(page, '#progress');
    const step = parseInt(progress.match(/MLP step (\d+)/)[1], 10);
    check(step < 300, `stopped run reached step ${step}`);
    // the stopped run (the MLP, the first) is kept in the table; the GCN was not started
    const rows = await demoRows(page);
    check(Number.isFinite(rows.MLP?.final) && !rows.GCN, `after Stop the table reads ${JSON.stringify(rows)}`);
    check(!(await page.locator('#start').isDisabled()), 'Train again is not available after Stop');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  stopped at step ${step}`);
    await page.close();
  },

  async 'lab: a link runs the synthetic experiment in the worker, the page stays responsive'(ctx) {
    // build the experiment in the page, take its link, open the link
    // one worker: with a pool on this 2-core machine both cores train and the page's chart
    // draws take 130-220 ms (README, Speed); the 100 ms bar below is one worker's
    const builder = await open(ctx, '?backend=cpu&workers=1#preset=synthetic-demo');
    await builder.waitForSelector('#steps');
    await builder.fill('#steps', '120');
    await builder.locator('#steps').press('Tab');
    const link = await builder.inputValue('#share-link');
    check(link.includes('#spec=') && link.endsWith('&run'), `share link reads ${link.slice(0, 80)}`);
    check(decodeURIComponent(link).includes('"steps":120') && !decodeURIComponent(link).includes('"steps":400'), 'the link does not carry the edited steps');
    await builder.close();

    const page = await ctx.browser.newPage();
    await page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration }); })
        .observe({ type: 'longtask', buffered: true });
    });
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
    // the page logs chart draws and worker messages that held the main thread too long
    const slow = [];
    page.on('console', (m) => { if (m.type() === 'warning' && / took \d+ ms/.test(m.text())) slow.push(m.text()); });
    page.on('request', (r) => { const u = new URL(r.url()); if (u.origin !== ctx.origin && !/^(data|blob):$/.test(u.protocol)) ctx.foreign.push(r.url()); });
    const t0 = Date.now();
    await page.goto(link);
    await page.waitForFunction(() => document.querySelector('#lab-status')?.textContent === 'running', null, { timeout: 120000, polling: 100 });
    const trainingFrom = await page.evaluate(() => performance.now());
    // the link opened the lab: the demo above it waits for its button and says so
    const demo = [await text(page, '#status'), await text(page, '#backend'), await text(page, '#start')];
    check(demo[0] === 'not started' && !demo[1].includes('detecting') && demo[2] === 'Train', `the demo panel reads ${JSON.stringify(demo)}`);
    // a CPU profile of the main thread says how much of the training time it was busy at all
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
    await cdp.send('Profiler.start');
    // and Chrome's trace says how much CPU each main-thread task used: on 2 cores, with one
    // training, V8's background compilation of the wasm module (TurboFan tier-up, in the first
    // minute of a fresh profile) takes the other core, and a task that computes for 10 ms can
    // take 130 ms of wall time (measured 2026-11-30: 8-36 ms of CPU in the tasks over 100 ms)
    const trace = [];
    cdp.on('Tracing.dataCollected', (e) => trace.push(...e.value));
    await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.wasm', transferMode: 'ReportEvents' });
    // the page answers while the worker trains: Pause holds the queue, Resume continues
    await page.waitForFunction(() => document.querySelectorAll('#queue li[data-state="finished"]').length >= 1, null, { timeout: LIMITS.preset, polling: 200 });
    // the bar chart's canvas is kept and redrawn as runs arrive, not made anew for each
    await page.waitForSelector('#bars-0');
    await page.evaluate(() => { document.querySelector('#bars-0').dataset.first = 'yes'; });
    const clickAt = Date.now();
    await page.click('#pause');
    await page.waitForFunction(() => document.querySelector('#lab-status')?.textContent === 'paused', null, { timeout: 5000, polling: 20 });
    const pauseMs = Date.now() - clickAt;
    // the step in flight (or a run's evaluation) finishes first; then nothing moves
    await page.waitForTimeout(1000);
    const before = await page.locator('#queue').textContent();
    await page.mouse.wheel(0, 800);
    await page.waitForTimeout(1500);
    const during = await page.locator('#queue').textContent();
    check(before === during, 'training went on while paused');
    await page.click('#resume');
    await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.preset, polling: 500 });
    const trainingTo = await page.evaluate(() => performance.now());
    const { profile } = await cdp.send('Profiler.stop');
    const traced = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    await traced;
    const tasks = mainThreadTasks(trace);
    const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
    let busyUs = 0, allUs = 0;
    profile.samples.forEach((id, i) => { allUs += profile.timeDeltas[i]; if (!idleIds.has(id)) busyUs += profile.timeDeltas[i]; });
    const status = await text(page, '#lab-status');
    check(status === 'done', `lab status is "${status}"`);
    const backend = await text(page, '#lab-backend');
    const rows = await page.locator('table.results-table[data-task="next-step"] tbody tr').count();
    check(rows === 3, `expected 3 model rows (MLP, GCN, NRI), got ${rows}`);
    const mse = await page.locator('table.results-table tbody tr td[data-metric="mse"]').allTextContents();
    check(mse.every((t) => /^\d\.\d{4} ± \d\.\d{4}$/.test(t)), `MSE cells: ${mse}`);
    check(await page.locator('#queue li[data-state="finished"]').count() === 9, 'not every run finished');
    check(await page.evaluate(() => document.querySelector('#bars-0')?.dataset.first) === 'yes', 'the bar chart was drawn on a new canvas as runs arrived');
    for (const id of ['#data-raster', '#data-traces', '#data-coverage', '#bars-0', '#predictions', '#rollout', '#graph-inferred', '#graph-reference', '#graph-network', '#lab-loss']) {
      check(await canvasInk(page, id) > 3000, `${id} looks empty`);
    }
    const scores = await text(page, '#graph-scores');
    // each inferred graph's AUROC beside its node-shuffled null as an interval, and its AUPRC
    const interval = (name) => new RegExp(`AUROC vs ${name} [01]\\.\\d{3} ± [01]\\.\\d{3} \\(node-shuffled null [01]\\.\\d{3}, 95 % in \\[[01]\\.\\d{3}, [01]\\.\\d{3}\\]; degree-preserving null [01]\\.\\d{3}, 95 % in \\[[01]\\.\\d{3}, [01]\\.\\d{3}\\]\\); AUPRC [01]\\.\\d{3} \\(null [01]\\.\\d{3}\\)`);
    check(interval('the true wiring').test(scores) && interval('the connectome').test(scores), `graph scores: ${scores}`);
    // every graph network is compared with the MLP (the one structure-agnostic model here) on
    // the same 3 folds, and with persistence
    const vs = await page.locator('table.results-table[data-task="next-step"] tr[data-model="GCN"] td[data-vs="vs best non-graph"]').textContent();
    check(/^MLP: [+−]\d\.\d{4} \[[+−]\d\.\d{4}, [+−]\d\.\d{4}\], (p = 0\.\d+|p < 0\.001) \(n 3\)$/.test(vs), `GCN vs MLP: "${vs}"`);
    const vsPersistence = await page.locator('table.results-table[data-task="next-step"] td[data-vs="vs persistence"]').allTextContents();
    check(vsPersistence.length === 3 && vsPersistence.every((t) => /^[+−]\d\.\d{4} \[/.test(t)), `vs persistence: ${vsPersistence}`);
    // downloads: results JSON with summary and runs
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
    const json = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    check(json.summary.length > 0 && json.runs.length === 9 && json.spec.train.steps === 120, 'downloaded JSON is incomplete');
    const gcnRow = json.summary.find((r) => r.model === 'GCN' && r.metric === 'mse');
    check(gcnRow.vs[0].baseline === 'MLP' && gcnRow.vs[0].n === 3 && vs.includes(`(n ${gcnRow.vs[0].n})`), `the JSON's comparison: ${JSON.stringify(gcnRow.vs)}`);
    const [summaryCsv] = await Promise.all([page.waitForEvent('download'), page.click('#download-summary')]);
    const csvText = fs.readFileSync(await summaryCsv.path(), 'utf8');
    check(csvText.startsWith('task,protocol,model,metric,mean,sd,n,best_non_graph,diff_vs_best_non_graph') && csvText.includes(',GCN,mse,'), `summary CSV: ${csvText.slice(0, 200)}`);
    console.log(`  GCN vs MLP (mse): ${vs}`);
    const long = await page.evaluate(([a, b]) => window.__longTasks.filter((t) => t.start >= a && t.start <= b), [trainingFrom, trainingTo]);
    const longest = long.reduce((m, t) => Math.max(m, t.ms), 0);
    check(tasks.all > 100, `the trace holds ${tasks.all} main-thread tasks`);
    await page.locator('#results').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'lab-synthetic-results.png'), fullPage: true });
    await page.locator('#graph-network').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'lab-graphs.png') });
    // the Data section: the experiment's first animal on the worm, its raster under one cursor
    await page.click('#nav-data');
    check((await page.evaluate(() => location.hash)).startsWith('#view=data&spec='), 'the URL does not name the Data section');
    await page.waitForFunction(() => /synthetic animal 1: \d+ neurons drawn where their cell bodies sit/.test(document.querySelector('#data-worm-caption')?.textContent || ''), null, { timeout: 10000 });
    const wormInk = await canvasInk(page, '#data-worm-canvas');
    check(wormInk > 4000, `the worm view of the experiment looks empty (${wormInk} inked pixels)`);
    await seek(page, '#data-worm-slider', 40);
    await page.waitForFunction(() => /At \d+\.\d s/.test(document.querySelector('#data-worm-caption').textContent) && document.querySelector('#data-worm-time').textContent !== '', null, { timeout: 5000 });
    const seekTo = await text(page, '#data-worm-time');
    await page.click('#data-worm-play');
    await page.waitForFunction((t) => document.querySelector('#data-worm-time').textContent !== t, seekTo, { timeout: 5000 });
    await page.click('#data-worm-play');
    await page.screenshot({ path: path.join(SHOTS, 'section-data-experiment.png'), fullPage: true });
    // with an experiment's results, graphs and data on screen
    await axeSections(page, ['data', 'results']);
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  ${backend}; 9 runs in ${((Date.now() - t0) / 1000).toFixed(1)} s; Pause answered in ${pauseMs} ms; ` +
      `main-thread tasks over 50 ms while training: ${long.length}, longest ${longest.toFixed(0)} ms; ` +
      `main thread busy ${(100 * busyUs / allUs).toFixed(1)}% of ${(allUs / 1e6).toFixed(0)} s (CPU profile); ${scores.split('\n')[0]}`);
    if (slow.length) console.log(`  slow on the main thread (${slow.length}): ${slow.slice(0, 8).join('; ')}`);
    console.log(`  main-thread tasks (trace): ${tasks.all}; the most CPU one task used ${tasks.cpu.toFixed(0)} ms; ` +
      `the longest took ${tasks.wall.toFixed(0)} ms of wall time with ${tasks.wallCpu.toFixed(0)} ms of CPU` +
      (tasks.beside ? `, while ${tasks.beside}` : ''));
    ctx.longestTask = Math.max(ctx.longestTask || 0, longest);
    // the issue's bar: no main-thread task over 100 ms while the worker trains, in what the page
    // computes (CPU time); wall time beyond it is the machine's other threads (printed above)
    check(tasks.cpu < 100, `a main-thread task used ${tasks.cpu.toFixed(0)} ms of CPU while training`);
    check(longest < 500, `a main-thread task took ${longest.toFixed(0)} ms of wall time while training`);
    await page.close();
  },

  async 'lab: the synthetic-demo preset keeps its promise of a minute, on the backend the page picks'(ctx) {
    const query = process.env.E2E_DEMO_QUERY || '';
    const page = await open(ctx, `${query}#preset=synthetic-demo`);
    await page.waitForSelector('#run');
    const t0 = Date.now();
    await page.click('#run');
    await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.preset, polling: 100 });
    const seconds = (Date.now() - t0) / 1000;
    const status = await text(page, '#lab-status');
    const backend = await text(page, '#lab-backend');
    check(status === 'done', `lab status is "${status}"`);
    check(await page.locator('#queue li[data-state="finished"]').count() === 9, 'not every run finished');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  synthetic-demo (9 runs) from click to last result: ${seconds.toFixed(1)} s (goal 60 s: ${seconds <= 60 ? "met" : "NOT met"}); ${backend}`);
    const rows = await page.locator('#queue li').evaluateAll((li) => li.map((e) => `${e.querySelector('.label').textContent}: ${e.querySelector('.detail').textContent.split(' · ').pop()}`));
    console.log(`  runs: ${rows.join('; ')}`);
    // the goal is 60 s (README: not met on this 2-core machine yet); a regression past 3 minutes fails
    check(seconds < 180, `synthetic-demo took ${seconds.toFixed(0)} s`);
    await page.close();
  },

  async 'lab: the worker trains on WebGPU when the browser has it (WebGPU chosen on a page that loaded its CPU build)'(ctx) {
    try {
      await labOnWebgpu(ctx);
    } finally {
      // forget the choice made in the lab for the tests after this one
      const page = await open(ctx, '?backend=cpu');
      await page.evaluate(() => localStorage.removeItem('neurognn.backend'));
      await page.close();
    }
  },

  async 'lab: the Kato behaviour preset compares MLP and GCN on unseen worms'(ctx) {
    const builder = await open(ctx, '?backend=cpu#preset=kato-behaviour-4');
    await builder.waitForSelector('#steps');
    for (const m of ['linear', 'GRU', 'GAT', 'NRI']) await builder.uncheck(`input[name=model][value="${m}"]`);
    // the preset trains every fold from 3 seeds; one is enough here
    check(await builder.inputValue('#seeds') === '0, 1, 2', `the preset's seeds: ${await builder.inputValue('#seeds')}`);
    await builder.fill('#seeds', '0');
    await builder.locator('#seeds').press('Tab');
    await builder.fill('#steps', '150');
    await builder.locator('#steps').press('Tab');
    const link = await builder.inputValue('#share-link');
    await builder.close();
    const page = await open(ctx, link.slice(ctx.origin.length + 1));
    await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.kato, polling: 500 });
    const status = await text(page, '#lab-status');
    check(status === 'done', `lab status is "${status}"`);
    const table = page.locator('table.results-table[data-task="behaviour-4"]');
    const models = await table.locator('tbody tr').evaluateAll((tr) => tr.map((r) => `${r.dataset.model}/${r.dataset.protocol}`));
    check(JSON.stringify(models) === JSON.stringify(['MLP/leave-one-animal-out', 'GCN/leave-one-animal-out']), `rows: ${models}`);
    const acc = await table.locator('td[data-metric="balanced_accuracy"]').allTextContents();
    const means = acc.map((t) => parseFloat(t));
    check(means.every((v) => v > 0.5 && v <= 1), `balanced accuracy ${acc} (chance is 0.25)`);
    check(await table.locator('td.n').last().textContent() === '5', 'not 5 folds');
    check(await canvasInk(page, '#confusion') > 3000, 'the confusion matrix looks empty');
    check(ctx.served.some((p) => p === '/data/kato2015/npz/worm5.npz'), 'the worker did not read the Kato files from the data URL');
    await page.locator('#results').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'lab-kato-behaviour.png'), fullPage: true });

    // keep run 0's trained model (MLP, tested on the first worm), load it again and apply it to
    // that worm's file dropped on the page: it must score what the experiment scored
    const first = page.locator('#queue li').first();
    const fold = (await first.locator('.label').textContent()).split(' · ')[3];
    const runAcc = parseFloat((await first.locator('.detail').textContent()).match(/balanced accuracy (\d\.\d+)/)[1]);
    const [saved] = await Promise.all([page.waitForEvent('download'), first.locator('button.model-download').click()]);
    check(saved.suggestedFilename().endsWith('.ngmodel'), `model file name ${saved.suggestedFilename()}`);
    const modelPath = path.join(SHOTS, saved.suggestedFilename());
    await saved.saveAs(modelPath);
    await dropFiles(page, [path.join(KATO, `npz/${fold.replace(/\s+/g, '')}.npz`)]);
    await page.setInputFiles('#model-file', modelPath);
    await page.waitForFunction(() => { const b = document.querySelector('#apply-model'); return b && !b.disabled; }, null, { timeout: 30000, polling: 100 });
    await page.click('#apply-model');
    await page.waitForSelector('#applied, #applied-error', { timeout: 120000 });
    check(await page.locator('#applied-error').count() === 0, `applying failed: ${await page.locator('#applied-error').textContent().catch(() => '')}`);
    const appliedAcc = parseFloat(await page.locator('#applied td.scores').first().getAttribute('data-balanced-accuracy'));
    check(Math.abs(appliedAcc - runAcc) < 0.0006, `the saved model scored ${appliedAcc} on ${fold}, the run ${runAcc}`);
    check(await canvasInk(page, '#applied-states') > 3000, 'the predicted-states view looks empty');
    await page.locator('#applied').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'lab-apply-model.png') });
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  ${await text(page, '#lab-backend')}; balanced accuracy MLP ${acc[0]}, GCN ${acc[1]}; ` +
      `run 0's model (${(fs.statSync(modelPath).size / 1024).toFixed(0)} KB) applied to ${fold}: ${appliedAcc} (run: ${runAcc})`);
    await page.close();
  },

  async 'hostile files: a bomb and a cycle are refused by name, the page answers and keeps what it had'(ctx) {
    const fixtures = path.join(root, 'target/hostile');
    const files = ['bomb-declared.npz', 'bomb.mat', 'self-linked.h5', 'reference-cycle.mat'].map((f) => path.join(fixtures, f));
    check(files.every((f) => fs.existsSync(f)), 'target/hostile/ is missing: `cargo test --test hostile` writes it');
    const page = await open(ctx, '?backend=cpu#view=data');
    await waitFinished(page);
    const response = await page.goto(`${ctx.origin}/?backend=cpu&visit=2#view=data`);
    const csp = response.headers()['content-security-policy'] || '';
    check(csp.includes("'wasm-unsafe-eval'") && csp.includes("object-src 'none'"), `CSP header: "${csp}"`);
    check(await page.locator('meta[http-equiv="Content-Security-Policy"]').count() === 1, 'the page carries no CSP meta tag');
    await waitFinished(page);
    await dropFiles(page, [path.join(KATO, 'npz/worm1.npz')]);
    await page.waitForFunction(() => document.querySelector('#animal-count')?.textContent === '1', null, { timeout: 60000 });
    const t0 = Date.now();
    await dropFiles(page, files);
    await page.waitForFunction((n) => document.querySelectorAll('#import-messages li.error').length >= n, files.length, { timeout: 60000, polling: 100 });
    const seconds = (Date.now() - t0) / 1000;
    const errors = await page.locator('#import-messages li.error').allTextContents();
    for (const f of ['bomb-declared.npz', 'bomb.mat', 'self-linked.h5', 'reference-cycle.mat']) {
      check(errors.some((e) => e.startsWith(`${f}:`)), `no message names ${f}: ${errors.join(' | ')}`);
    }
    check(errors.some((e) => e.includes('cycle')), `no message mentions the cycle: ${errors.join(' | ')}`);
    check(await text(page, '#animal-count') === '1', 'the hostile files changed what was loaded');
    // the page still answers: a click takes effect at once
    const clicked = Date.now();
    await page.click('#large-type');
    check(await page.evaluate(() => document.documentElement.classList.contains('large-type')), 'the page did not answer a click');
    const answer = Date.now() - clicked;
    await page.screenshot({ path: path.join(SHOTS, 'import-hostile.png'), fullPage: true });
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  4 hostile files refused in ${seconds.toFixed(1)} s; the page answered a click in ${answer} ms`);
    await page.close();
  },

  async 'lab: a run that diverges is marked failed and the others finish'(ctx) {
    const page = await open(ctx, '?backend=cpu&fault=nan#preset=synthetic-demo');
    await labRuns(page, '40');
    const rows = await page.locator('#queue li .detail').allTextContents();
    check(rows.length === 3 && rows[1].includes('failed: training diverged'), `queue: ${rows.join(' | ')}`);
    check(rows[0].includes('MSE') && rows[2].includes('MSE'), `the other runs: ${rows.join(' | ')}`);
    check(await text(page, '#lab-status') === 'done', `status "${await text(page, '#lab-status')}"`);
    check((await text(page, '#failed-runs')).includes('1 run failed and is left out'), 'the results do not say which run failed');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
  },

  async 'lab: a pool of workers gives the same numbers as one worker, each run on one of them'(ctx) {
    const results = {};
    for (const workers of [1, 2]) {
      const page = await open(ctx, `?backend=cpu&workers=${workers}#preset=synthetic-demo`);
      await page.waitForSelector('#steps');
      await page.uncheck('input[name=model][value="NRI"]');
      await page.fill('#steps', '60');
      await page.locator('#steps').press('Tab');
      const t0 = Date.now();
      await page.click('#run');
      await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.preset, polling: 200 });
      const seconds = (Date.now() - t0) / 1000;
      check(await text(page, '#lab-status') === 'done', `${workers} worker(s): status "${await text(page, '#lab-status')}"`);
      const tags = await page.locator('#queue li .worker').allTextContents();
      const backend = await text(page, '#lab-backend');
      if (workers === 2) {
        check(new Set(tags).size === 2, `the queue does not say which worker ran each run: ${tags}`);
        check(backend.includes('2 workers'), `backend "${backend}"`);
      } else {
        check(tags.length === 0, `one worker, yet the queue names workers: ${tags}`);
      }
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
      results[workers] = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
      if (workers === 2) await page.screenshot({ path: path.join(SHOTS, 'lab-pool.png'), fullPage: true });
      check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
      console.log(`  ${workers} worker(s): 6 runs in ${seconds.toFixed(1)} s; ${backend}`);
      await page.close();
    }
    const key = (r) => `${r.index} ${r.model} ${r.fold}`;
    const one = results[1].runs.map((r) => [key(r), JSON.stringify(r.metrics)]);
    const two = results[2].runs.map((r) => [key(r), JSON.stringify(r.metrics)]);
    check(one.length === 6 && JSON.stringify(one) === JSON.stringify(two), `the runs differ:\n${JSON.stringify(one)}\n${JSON.stringify(two)}`);
    check(JSON.stringify(results[1].summary) === JSON.stringify(results[2].summary), 'the summaries differ');
  },

  async 'lab: a worker that dies is replaced; the other finishes its runs, which are kept, and the rest run on a click'(ctx) {
    // two workers: run 1 (the second worker's first) dies at its start; runs 0 and 2 finish
    const page = await open(ctx, '?backend=cpu&workers=2&fault=worker-dies#preset=synthetic-demo');
    await labRuns(page, '40');
    const status = await text(page, '#lab-status');
    check(status.startsWith('failed: the worker stopped') && status.includes('2 finished run(s) are kept'), `status "${status}"`);
    const before = await page.locator('#queue li .detail').allTextContents();
    check(before[0].includes('MSE') && before[2].includes('MSE') && !before[1].includes('MSE'), `runs 0 and 2 were not kept: ${before.join(' | ')}`);
    await page.screenshot({ path: path.join(SHOTS, 'lab-worker-died.png'), fullPage: true });
    check((await text(page, '#run-unfinished')).includes('Run the 1 unfinished run(s)'), 'no offer to run the unfinished run');
    await page.click('#run-unfinished');
    await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.lab, polling: 500 });
    check(await text(page, '#lab-status') === 'done', `status after the rerun "${await text(page, '#lab-status')}"`);
    const after = await page.locator('#queue li .detail').allTextContents();
    check(after.length === 3 && after.every((r) => r.includes('MSE')) && after[0] === before[0] && after[2] === before[2], `queue: ${after.join(' | ')}`);
    const n = await page.locator('table.results-table td.n').last().textContent();
    check(n === '3', `the summary is over ${n} runs`);
    const unexpected = page.errors.filter((e) => !/injected by a test|worker error|unreachable|RuntimeError/.test(e));
    check(unexpected.length === 0, `page errors: ${unexpected.join(' | ')}`);
    await page.close();
  },

  async 'lab: a lost GPU moves the experiment to the CPU, saying so, and keeps finished runs'(ctx) {
    const page = await open(ctx, '?backend=webgpu&fault=gpu-lost#preset=synthetic-demo');
    await labRuns(page, '40');
    check(await text(page, '#lab-status') === 'done', `status "${await text(page, '#lab-status')}"`);
    const backend = await text(page, '#lab-backend');
    check(backend.startsWith('CPU') && backend.includes('the GPU failed'), `backend "${backend}"`);
    const rows = await page.locator('#queue li .detail').allTextContents();
    check(rows.length === 3 && rows.every((r) => r.includes('MSE')), `queue: ${rows.join(' | ')}`);
    // the lost GPU is not used again: the next run goes to the CPU at once, saying why
    await page.click('#run');
    await page.waitForFunction(() => /^(done|stopped|failed)/.test(document.querySelector('#lab-status')?.textContent || ''), null, { timeout: LIMITS.lab, polling: 500 });
    const again = await text(page, '#lab-backend');
    check(again.includes('the GPU was lost earlier'), `backend of the next run "${again}"`);
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  ${backend}`);
    await page.close();
  },

  async 'lab: a bad link or spec is reported and nothing runs'(ctx) {
    const page = await open(ctx, '#spec=%7B%22models%22%3A42%7D&run');
    await page.waitForSelector('#lab-notice');
    check((await text(page, '#lab-notice')).includes('cannot be run'), `notice reads "${await text(page, '#lab-notice')}"`);
    check(await text(page, '#lab-status') === 'ready', 'a broken link started a run');
    // a link whose spec breaks a bound is refused, naming the field, and starts nothing
    const bounded = await open(ctx, `#spec=${encodeURIComponent('{"rollout_horizon":4000000000}')}&run`);
    await bounded.waitForSelector('#lab-notice');
    const notice = await text(bounded, '#lab-notice');
    check(notice.includes('rollout_horizon is 4000000000; it must be from 0 to 1000'), `notice reads "${notice}"`);
    check(await text(bounded, '#lab-status') === 'ready', 'a link out of bounds started a run');
    check(bounded.errors.length === 0, `page errors: ${bounded.errors.join(' | ')}`);
    await bounded.close();
    // a link whose data URL is another site fetches nothing until a click, even with &run
    const foreign = await open(ctx, '#preset=kato-behaviour-4&data=https%3A%2F%2Fdata.example.invalid%2Fkato%2F&run');
    await foreign.waitForSelector('#lab-notice');
    const asks = await text(foreign, '#lab-notice');
    check(asks.includes('https://data.example.invalid/kato/') && asks.includes('nothing has been fetched'), `notice reads "${asks}"`);
    await foreign.waitForTimeout(1500);
    check(await text(foreign, '#lab-status') === 'ready', 'a link to another site started a run');
    check(!ctx.foreign.some((u) => u.includes('example.invalid')), 'the page fetched from the other site without a click');
    await foreign.close();
    // a reference graph file: a bad one is named with its line and changes nothing; a good one
    // goes into the spec (and so into its link)
    await page.setInputFiles('#reference-file', { name: 'wiring.csv', mimeType: 'text/csv', buffer: Buffer.from('from,to\nAVAL,AVBL\nAVAR\n') });
    await page.waitForFunction(() => /wiring\.csv/.test(document.querySelector('#lab-notice')?.textContent || ''), null, { timeout: 10000 });
    const refused = await text(page, '#lab-notice');
    check(refused === "reference graph 'wiring.csv', line 3: 1 fields; an edge list has from,to or from,to,weight (a matrix starts with an empty cell)", `notice reads "${refused}"`);
    check(await text(page, '#reference-chosen') === '', 'a bad reference graph was kept');
    await page.setInputFiles('#reference-file', { name: 'atlas.tsv', mimeType: 'text/tab-separated-values', buffer: Buffer.from('\tAVAL\tAVBL\nAVAL\t0\t1\nAVBL\t1\t0\n') });
    await page.waitForFunction(() => (document.querySelector('#reference-chosen')?.textContent || '') !== '', null, { timeout: 10000 });
    check(await text(page, '#reference-chosen') === 'atlas.tsv: 2 edges, undirected', `reference reads "${await text(page, '#reference-chosen')}"`);
    check(decodeURIComponent(await page.inputValue('#share-link')).includes('"reference":{"name":"atlas.tsv","edges":[["AVAL","AVBL"],["AVBL","AVAL"]]}'), 'the link does not carry the reference graph');
    await page.click('#reference-clear');
    check(!decodeURIComponent(await page.inputValue('#share-link')).includes('"reference"'), 'Remove left the reference graph in the spec');
    await page.click('.builder details summary');
    await page.fill('#spec-json', '{"train": {"steps": "many"}}');
    await page.click('#apply-spec');
    check((await text(page, '#lab-notice')).startsWith('the spec is not valid'), 'a bad spec was accepted');
    await page.selectOption('#data-source', 'files');
    await page.click('#run');
    check((await text(page, '#lab-status')).includes('drop them'), `status reads "${await text(page, '#lab-status')}"`);
    await page.click('#large-type');
    check(await page.evaluate(() => document.documentElement.classList.contains('large-type')), 'large type did not switch on');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    await page.close();
  },
};

/// Runs the tests whose names match `filters` in one browser with a profile of its own (the
/// pages of one pass share it, as a person's tabs do); returns [passed, failed].
async function pass(ctx, filters) {
  const userData = fs.mkdtempSync('/tmp/neurognn-e2e-');
  ctx.browser = await chromium.launchPersistentContext(userData, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
  let passed = 0; let failed = 0;
  for (const [name, test] of Object.entries(tests)) {
    if (!filters.some((f) => name.includes(f))) continue;
    const t0 = Date.now();
    let overrun;
    try {
      // every wait inside a test is bounded; this bounds the test as a whole as well
      const limit = new Promise((_, reject) => { overrun = setTimeout(() => reject(new Error(`the test ran past its limit of ${TEST_LIMIT_MS / 60000} min`)), TEST_LIMIT_MS); });
      await Promise.race([test(ctx), limit]);
      passed++;
      console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name} (after ${((Date.now() - t0) / 1000).toFixed(1)} s): ${e.message}`);
      // what every page the test left open shows, then those pages closed: a failed test
      // leaves nothing running beside the next
      for (const page of [...ctx.pages]) {
        if (!e.message.includes(page.url())) console.log(await describe(page));
        await page.screenshot({ path: path.join(SHOTS, `failed-${Object.keys(tests).indexOf(name)}.png`), fullPage: true }).catch(() => {});
      }
    } finally {
      clearTimeout(overrun);
      for (const page of [...ctx.pages]) await page.close().catch(() => {});
    }
  }
  await ctx.browser.close();
  fs.rmSync(userData, { recursive: true, force: true });
  return [passed, failed];
}

// node tests/e2e/run.cjs [filter] [passes]: `filter` is one name fragment or several separated
// by '|'; `passes` (default 1) runs them that many times over, each pass in a new browser with
// a new profile (to reproduce a flaky test).
(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dist = path.join(root, 'dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/index.html is missing: run `trunk build --release` first');
  const { server, port, requests, bytesByPath } = await serve(dist, 0, { '/data/kato2015/': KATO, '/fixtures/': path.join(root, 'target/fixtures') });
  const ctx = { origin: `http://127.0.0.1:${port}`, foreign: [], served: requests, bytesByPath, pages: new Set(), waits: [] };
  const filters = (process.argv[2] || '').split('|');
  const passes = Math.max(1, Number(process.argv[3] || 1));
  let passed = 0; let failed = 0;
  for (let n = 1; n <= passes; n++) {
    if (passes > 1) console.log(`-- pass ${n} of ${passes} (a new browser profile)`);
    const [p, f] = await pass(ctx, filters);
    passed += p;
    failed += f;
  }
  if (ctx.foreign.length) { failed++; console.log(`FAIL the page requested other origins: ${ctx.foreign.join(', ')}`); }
  else console.log(`ok   no request left the page's origin (${requests.length} requests served)`);
  // the waits that came closest to their bounds: where a bound must grow before it fails
  const closest = ctx.waits.filter((w) => w.bound >= 60000).sort((a, b) => b.ms / b.bound - a.ms / a.bound).slice(0, 6);
  console.log(`longest waits for their bounds: ${closest.map((w) => `${w.at} ${(w.ms / 1000).toFixed(1)} of ${w.bound / 1000} s`).join('; ')}`);
  if (ctx.longestTask !== undefined) console.log(`longest main-thread task while training: ${ctx.longestTask.toFixed(0)} ms`);
  server.close();
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error('e2e: fatal', e); process.exit(1); });
