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
const TRAIN_TIMEOUT_MS = 15 * 60 * 1000;
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'];

function check(cond, message) { if (!cond) throw new Error(message); }
const text = (page, sel) => page.locator(sel).textContent();
const number = async (page, sel) => parseFloat(await text(page, sel));

/// Opens `query` on the served app, failing the test on page errors or foreign requests.
async function open(ctx, query) {
  const page = await ctx.browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin !== ctx.origin && u.protocol !== 'data:' && u.protocol !== 'blob:') ctx.foreign.push(r.url());
  });
  await page.goto(`${ctx.origin}/${query}`);
  return page;
}

async function waitFinished(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('#status');
    return s && /^(done|stopped|failed)/.test(s.textContent);
  }, null, { timeout: TRAIN_TIMEOUT_MS, polling: 500 });
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

/// Non-white pixels of a canvas.
const canvasInk = (page, sel) => page.evaluate((sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) n++;
  return n;
}, sel);

const tests = {
  async 'dropping WT_NoStim.mat shows 5 animals, 22 shared neurons and the 8 states'(ctx) {
    const page = await open(ctx, '?backend=cpu');
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
    console.log(`  WT_NoStim.mat (${(fs.statSync(path.join(KATO, 'mat/WT_NoStim.mat')).size / 1e6).toFixed(1)} MB) read in the page in ${ms} ms; ${merged}`);
    await page.close();
  },

  async 'side files name and label a recording dropped with them'(ctx) {
    const page = await open(ctx, '?backend=cpu');
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

  async 'demo trains on WebGPU and reports a falling loss'(ctx) {
    const page = await open(ctx, '');
    const t0 = Date.now();
    await waitFinished(page);
    const status = await text(page, '#status');
    const backend = await text(page, '#backend');
    check(status === 'done', `status is "${status}"`);
    check(backend.startsWith('WebGPU'), `backend label is "${backend}"`);
    const first = await number(page, '#first-loss');
    const last = await number(page, '#final-loss');
    check(last < first, `final loss ${last} is not below the first ${first}`);
    const metric = await text(page, '#metric');
    check(/validation MSE [0-9.]+ \(persistence baseline [0-9.]+\)/.test(metric), `metric reads "${metric}"`);
    const ink = await inkedPixels(page);
    check(ink > 2000, `the loss chart looks empty (${ink} inked pixels)`);
    await page.screenshot({ path: path.join(SHOTS, 'demo-webgpu.png'), fullPage: true });
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  ${backend}; loss ${first} -> ${last}; ${metric}; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await page.close();
  },

  async 'the CPU fallback trains the same demo'(ctx) {
    const page = await open(ctx, '?backend=cpu');
    await waitFinished(page);
    const backend = await text(page, '#backend');
    check(backend.startsWith('CPU'), `backend label is "${backend}"`);
    check(await text(page, '#status') === 'done', 'CPU demo did not finish');
    const first = await number(page, '#first-loss');
    const last = await number(page, '#final-loss');
    check(last < first, `final loss ${last} is not below the first ${first}`);
    await page.screenshot({ path: path.join(SHOTS, 'demo-cpu.png'), fullPage: true });
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  ${backend}; loss ${first} -> ${last}`);
    await page.close();
  },

  async 'Stop halts a run and keeps its result'(ctx) {
    const page = await open(ctx, '');
    await page.waitForFunction(() => /^step ([2-9]\d|\d{3,})/.test(document.querySelector('#progress')?.textContent || ''),
      null, { timeout: TRAIN_TIMEOUT_MS, polling: 100 });
    await page.click('#stop');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'stopped', null, { timeout: 60000 });
    const progress = await text(page, '#progress');
    const step = parseInt(progress.match(/step (\d+)/)[1], 10);
    check(step < 300, `stopped run reached step ${step}`);
    check(Number.isFinite(await number(page, '#final-loss')), 'stopped run shows no loss');
    check(!(await page.locator('#start').isDisabled()), 'Train again is not available after Stop');
    check(page.errors.length === 0, `page errors: ${page.errors.join(' | ')}`);
    console.log(`  stopped at step ${step}`);
    await page.close();
  },
};

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dist = path.join(root, 'dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/index.html is missing: run `trunk build --release` first');
  const { server, port } = await serve(dist, 0);
  const userData = fs.mkdtempSync('/tmp/neurognn-e2e-');
  const browser = await chromium.launchPersistentContext(userData, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
  const ctx = { browser, origin: `http://127.0.0.1:${port}`, foreign: [] };
  const filter = process.argv[2] || '';
  let passed = 0; let failed = 0;
  for (const [name, test] of Object.entries(tests)) {
    if (!name.includes(filter)) continue;
    const t0 = Date.now();
    try {
      await test(ctx);
      passed++;
      console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
    }
  }
  if (ctx.foreign.length) { failed++; console.log(`FAIL the page requested other origins: ${ctx.foreign.join(', ')}`); }
  await browser.close();
  server.close();
  fs.rmSync(userData, { recursive: true, force: true });
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error('e2e: fatal', e); process.exit(1); });
