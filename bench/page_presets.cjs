// Times a preset in the built page (headless Chromium, the CPU backend) with one worker and with
// a pool, from the click on Run to the last result, and prints the figures. Run by hand, not in
// CI (the `paper` preset takes tens of minutes); nothing else should run on the machine meanwhile.
//   node bench/page_presets.cjs [PRESET] [WORKERS...] [--dist=DIR]
//   e.g. node bench/page_presets.cjs paper 2 1
// Needs dist/ (trunk build --release) and the Kato recordings in ../shared/data/kato2015.
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const root = path.resolve(__dirname, '..');
const { chromium } = require(path.join(root, 'scripts/node_modules/playwright-core'));
const { serve } = require(path.join(root, 'scripts/static-server.cjs'));

const args = process.argv.slice(2);
const distArg = args.find((a) => a.startsWith('--dist='));
const dist = path.resolve(distArg ? distArg.slice('--dist='.length) : path.join(root, 'dist'));
const rest = args.filter((a) => !a.startsWith('--'));
const preset = rest[0] || 'paper';
const pools = rest.slice(1).map(Number).filter((n) => n > 0);
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--disable-dev-shm-usage'];

async function time(ctx, workers) {
  const page = await ctx.browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${ctx.origin}/?backend=cpu&workers=${workers}#preset=${preset}`);
  await page.waitForSelector('#run');
  const t0 = Date.now();
  await page.click('#run');
  let last = 0;
  for (;;) {
    const [status, finished, all] = await page.evaluate(() => [
      document.querySelector('#lab-status')?.textContent || '',
      document.querySelectorAll('#queue li[data-state="finished"]').length,
      document.querySelectorAll('#queue li').length,
    ]);
    if (/^(done|stopped|failed)/.test(status)) {
      const seconds = (Date.now() - t0) / 1000;
      const backend = await page.locator('#lab-backend').textContent();
      await page.close();
      if (status !== 'done' || errors.length) throw new Error(`${workers} worker(s): status "${status}", errors: ${errors.join(' | ')}`);
      return { seconds, runs: finished, backend };
    }
    if (Date.now() - last > 60000) {
      last = Date.now();
      console.log(`  ${workers} worker(s): ${finished}/${all} runs after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

(async () => {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run trunk build --release first`);
  const kato = path.resolve(root, '../shared/data/kato2015');
  const { server, port } = await serve(dist, 0, { '/data/kato2015/': kato });
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'neurognn-bench-'));
  const browser = await chromium.launchPersistentContext(userData, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
  const ctx = { browser, origin: `http://127.0.0.1:${port}` };
  const results = [];
  try {
    for (const workers of pools.length ? pools : [1, 2]) {
      const r = await time(ctx, workers);
      results.push([workers, r]);
      console.log(`${preset}, ${workers} worker(s): ${r.runs} runs in ${r.seconds.toFixed(1)} s; ${r.backend}`);
    }
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(userData, { recursive: true, force: true });
  }
  const one = results.find(([w]) => w === 1);
  for (const [w, r] of results) {
    if (one && w !== 1) console.log(`${preset}: ${w} workers are ${(one[1].seconds / r.seconds).toFixed(2)}x faster than one (${os.cpus().length} cores)`);
  }
})().catch((e) => { console.error('bench: ', e.message); process.exit(1); });
