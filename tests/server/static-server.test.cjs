// Tests of scripts/static-server.cjs, the static server behind scripts/serve and the e2e tests:
// that hostile or malformed requests are answered 4xx and never stop it, that files stay inside
// the folders they are served from (symlinks and mounts included), and its headers: the Content
// Security Policy (with the hashes of the page's inline scripts), nosniff, validators and 304,
// byte ranges (206/416), HEAD, content types, and the bounded request log and byte counts.
// Plain Node, no npm packages. Serves a temporary folder on a free loopback port.
// Prints a line per failure and "static-server: N passed, N failed"; exits non-zero on failure.
//   node tests/server/static-server.test.cjs
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const { serve, CONTENT_SECURITY_POLICY, MAX_LOGGED_REQUESTS } = require('../../scripts/static-server.cjs');

// the page's inline scripts as trunk 0.21 writes them, one with CRLF line ends (the browser
// hashes it with LF), and an external script whose body must not be hashed
const TRUNK_SCRIPT = `
import init, * as bindings from '/neurognn-web.js';
const wasm = await init({ module_or_path: '/neurognn-web_bg.wasm' });

window.wasmBindings = bindings;
dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));
`;
const CRLF_SCRIPT = '\r\n  window.started = Date.now();\r\n';
const INDEX_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" /><title>NeuroGNN — test</title>
<script type="module">${TRUNK_SCRIPT}</script>
<script>${CRLF_SCRIPT}</script>
<script src="/app.js" data-note="a > b">ignored();</script>
</head><body></body></html>
`;
const sha256 = (text) => crypto.createHash('sha256').update(text, 'utf8').digest('base64');
const EXTRA_ORIGIN = 'https://data.example.org';

/// A temporary tree: root/ (served), outside/ (never served), shared/data/kato/ (mounted through
/// the symlink mountlink, which lies outside root, like scripts/serve's ../shared/data/kato2015).
function makeFixture() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'static-server-test-'));
  const root = path.join(tmp, 'root');
  const kato = path.join(tmp, 'shared/data/kato');
  fs.mkdirSync(path.join(root, 'app'), { recursive: true });
  fs.mkdirSync(path.join(root, 'empty-dir'));
  fs.mkdirSync(path.join(tmp, 'outside'));
  fs.mkdirSync(path.join(kato, 'npz'), { recursive: true });
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) % 256));
  const big = crypto.randomBytes(3 * 1024 * 1024 + 17);
  const worm = crypto.randomBytes(4096);
  fs.writeFileSync(path.join(root, 'index.html'), INDEX_HTML);
  fs.writeFileSync(path.join(root, 'app.js'), 'export const x = 1;\n');
  fs.writeFileSync(path.join(root, 'data.bin'), data);
  fs.writeFileSync(path.join(root, 'big.bin'), big);
  fs.writeFileSync(path.join(root, 'empty.txt'), '');
  fs.writeFileSync(path.join(root, 'app/index.html'), '<p>app</p>');
  for (const f of ['favicon.ico', 'app.js.map', 'rec.nwb', 'rec.h5', 'rec.mat', 'mod.wasm', 'rec.unknown']) fs.writeFileSync(path.join(root, f), 'x');
  fs.writeFileSync(path.join(tmp, 'outside/secret.txt'), 'top secret');
  fs.symlinkSync('../outside/secret.txt', path.join(root, 'escape.txt'));
  fs.symlinkSync('../outside', path.join(root, 'escape-dir'));
  fs.symlinkSync('data.bin', path.join(root, 'alias.bin')); // inside the root: allowed
  fs.writeFileSync(path.join(kato, 'npz/worm5.npz'), worm);
  // inside the root but outside the mount it is served from: refused
  fs.symlinkSync(path.join(root, 'data.bin'), path.join(kato, 'root-data.bin'));
  fs.symlinkSync(kato, path.join(tmp, 'mountlink'));
  let fifo = false;
  try { execFileSync('mkfifo', [path.join(root, 'pipe')]); fifo = true; } catch { /* no mkfifo: skip */ }
  // precompressed files, written by the build's own script: a bundle and a stylesheet; a binary
  // file whose hand-made .br must never be sent; a script whose .br is older than it (stale)
  const pre = path.join(root, 'pre');
  fs.mkdirSync(pre);
  const bundle = Buffer.from(Array.from({ length: 4000 }, (_, i) => `export const v${i} = ${i * 3};\n`).join(''));
  fs.writeFileSync(path.join(pre, 'bundle.js'), bundle);
  fs.writeFileSync(path.join(pre, 'style.css'), 'body { margin: 0; }\n'.repeat(200));
  fs.writeFileSync(path.join(pre, 'rec.bin'), data);
  execFileSync(process.execPath, [path.join(__dirname, '../../scripts/precompress.cjs'), pre], { stdio: 'pipe' });
  fs.writeFileSync(path.join(pre, 'rec.bin.br'), 'not the file');
  fs.writeFileSync(path.join(pre, 'old.js'), 'export const fresh = true;\n');
  fs.writeFileSync(path.join(pre, 'old.js.br'), zlib.brotliCompressSync('export const stale = true;\n'));
  const past = new Date(Date.now() - 3600 * 1000);
  fs.utimesSync(path.join(pre, 'old.js.br'), past, past);
  return { tmp, root, mount: path.join(tmp, 'mountlink'), data, big, worm, fifo, bundle };
}

/// One request through Node's client (well-formed requests only); body as a Buffer.
function request(port, target, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/// Bytes written straight to a socket; resolves to what came back (latin1) when the server
/// closes, or after `waitMs`. (Not half-closed: Node's server drops a request whose client
/// half-closes before the answer, and browsers never do; well-formed requests here ask for
/// "Connection: close" instead.)
function raw(port, bytes, waitMs = 3000) {
  return new Promise((resolve) => {
    const chunks = [];
    const socket = net.connect(port, '127.0.0.1');
    let timer;
    const done = () => { clearTimeout(timer); socket.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); };
    timer = setTimeout(done, waitMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', done);
    socket.on('error', () => {}); // a reset after the answer is expected; 'close' follows
    socket.write(bytes);
  });
}

const statusOf = (response) => { const m = /^HTTP\/1\.[01] (\d{3}) /.exec(response); return m ? Number(m[1]) : null; };

/// Hostile or malformed requests: [name, bytes, expected status].
function hostileRequests(fixture) {
  const get = (target, extra = '') => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`;
  const list = [
    ['lone percent', get('/%'), 400],
    ['percent-encoded NUL', get('/%00'), 400],
    ['absolute-form with unparsable host', get('http://['), 400],
    ['bad hex escape', get('/%zz/index.html'), 400],
    ['invalid UTF-8 escape', get('/%ff%fe'), 400],
    ['overlong UTF-8 dots', get('/%c0%ae%c0%ae/etc/passwd'), 400],
    ['encoded slashes climbing out', get('/..%2f..%2fetc/passwd'), 400],
    ['double slash', get('//etc/passwd'), 400],
    ['dot-dot segments', get('/../../etc/passwd'), 400],
    ['encoded dot-dot segments', get('/%2e%2e/%2e%2e/etc/passwd'), 400],
    ['encoded backslashes', get('/app/..%5c..%5cetc%5cpasswd'), 400],
    ['raw backslash', get('/..\\..\\etc\\passwd'), 400],
    ['NUL before an extension', get('/index.html%00.png'), 400],
    ['absolute-form with bad port', get('http://127.0.0.1:99999/index.html'), 400],
    ['absolute-form of another scheme', get('ftp://127.0.0.1/index.html'), 400],
    ['absolute-form climbing out', get('http://127.0.0.1/..%2f..%2fetc/passwd'), 400],
    ['asterisk-form', get('*'), 400],
    ['target without a slash', get('index.html'), 400],
    ['space inside the target', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['raw NUL in the request line', 'GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['overlong URL (100 KB)', get('/' + 'a'.repeat(100 * 1024)), 431],
    ['URL over the handler limit (10 KB)', get('/' + 'a'.repeat(10 * 1024)), 414],
    ['TLS hello on the HTTP port', Buffer.from('16030100a5010000a103035b', 'hex'), 400],
    ['header-only garbage', '\r\n\r\n\x01\x02garbage\r\n\r\n', 400],
    ['header line without a colon', get('/', 'this is not a header\r\n'), 400],
    ['smuggling: Content-Length and chunked', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['POST with a body', 'POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', 405],
    ['DELETE', 'DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n', 405],
    ['CONNECT tunnel', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 405],
    ['malformed range', get('/data.bin', 'Range: bytes=abc\r\n'), 416],
    ['reversed range', get('/data.bin', 'Range: bytes=500-100\r\n'), 416],
    ['range past the end', get('/data.bin', 'Range: bytes=1000-\r\n'), 416],
    ['zero-length suffix range', get('/data.bin', 'Range: bytes=-0\r\n'), 416],
    ['range with huge numbers', get('/data.bin', 'Range: bytes=99999999999999999999-\r\n'), 416],
    ['symlink escaping the root', get('/escape.txt'), 403],
    ['symlinked folder escaping the root', get('/escape-dir/secret.txt'), 403],
    ['symlink escaping a mount', get('/data/kato2015/root-data.bin'), 403],
    ['missing file', get('/no/such/file.txt'), 404],
    ['folder without index.html', get('/empty-dir/'), 404],
    ['a file named as a folder', get('/data.bin/'), 404],
  ];
  if (fixture.fifo) list.push(['FIFO in the root', get('/pipe'), 404]);
  return list;
}

async function main() {
  const fixture = makeFixture();
  const { root, mount } = fixture;
  const srv = await serve(root, 0, { '/data/kato2015/': mount }, { connectSrc: [EXTRA_ORIGIN] });
  const { port } = srv;
  let passed = 0; let failed = 0;
  const test = async (name, fn) => {
    try { await fn(); passed++; } catch (e) { failed++; console.log(`FAIL ${name}: ${String(e.message).split('\n')[0]}`); }
  };
  const okGet = async () => {
    const r = await request(port, '/');
    assert.equal(r.status, 200, 'a normal GET afterwards did not answer 200');
  };

  for (const [name, bytes, expected] of hostileRequests(fixture)) {
    await test(`hostile: ${name}`, async () => {
      const status = statusOf(await raw(port, bytes));
      assert.ok(status !== null && status >= 400 && status < 500, `got ${status === null ? 'no status line' : status}, not 4xx`);
      assert.equal(status, expected, `got ${status}, expected ${expected}`);
      assert.ok(srv.server.listening, 'the server stopped listening');
      await okGet();
    });
  }

  await test('a malformed request answers with the security headers', async () => {
    const r = await raw(port, 'GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(r, /\r\nx-content-type-options: nosniff\r\n/i);
    assert.match(r, /\r\ncontent-security-policy: default-src 'self'/i);
  });
  await test('405 names the allowed methods', async () => {
    const r = await raw(port, 'PUT /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    assert.match(r, /^HTTP\/1\.1 405 /);
    assert.match(r, /\r\nallow: GET, HEAD\r\n/i);
  });

  const csp = (r) => Object.fromEntries(r.headers['content-security-policy'].split(';')
    .map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
  const withConnect = CONTENT_SECURITY_POLICY.replace("connect-src 'self'", `connect-src 'self' ${EXTRA_ORIGIN}`);

  await test('the CSP constant is exactly the app policy', async () => {
    assert.equal(CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
      + "connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'");
  });
  await test('index.html: CSP allows its inline scripts by hash, and only them', async () => {
    const r = await request(port, '/');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), INDEX_HTML);
    const d = csp(r);
    const expected = ["'self'", "'wasm-unsafe-eval'", `'sha256-${sha256(TRUNK_SCRIPT)}'`, `'sha256-${sha256(CRLF_SCRIPT.replace(/\r\n/g, '\n'))}'`];
    assert.deepEqual([...d['script-src']].sort(), [...expected].sort());
    assert.deepEqual(d['connect-src'], ["'self'", EXTRA_ORIGIN]);
    assert.deepEqual(d['object-src'], ["'none'"]);
    assert.deepEqual(d['frame-ancestors'], ["'none'"]);
    assert.deepEqual(d['worker-src'], ["'self'", 'blob:']);
    // the rest of the policy is the constant's, untouched
    const withoutHashes = r.headers['content-security-policy'].replace(/ 'sha256-[^']+'/g, '');
    assert.equal(withoutHashes, withConnect);
  });
  await test('non-HTML responses carry the base policy, nosniff and no-referrer', async () => {
    for (const target of ['/app.js', '/data.bin', '/data/kato2015/npz/worm5.npz']) {
      const r = await request(port, target);
      assert.equal(r.status, 200, target);
      assert.equal(r.headers['content-security-policy'], withConnect, target);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', target);
      assert.equal(r.headers['referrer-policy'], 'no-referrer', target);
      assert.equal(r.headers['accept-ranges'], 'bytes', target);
    }
    const missing = await request(port, '/missing.txt');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['x-content-type-options'], 'nosniff');
  });
  await test('an origin that would inject into the policy is refused', async () => {
    await assert.rejects(serve(root, 0, {}, { connectSrc: ["https://a.org; script-src *"] }), /not a CSP source/);
  });

  await test('ETag and If-None-Match answer 304', async () => {
    const r = await request(port, '/data.bin');
    const etag = r.headers.etag;
    assert.match(etag, /^(W\/)?"[^"]+"$/);
    for (const inm of [etag, `"nope", ${etag}`, `W/${etag}`, '*']) {
      const c = await request(port, '/data.bin', { headers: { 'if-none-match': inm } });
      assert.equal(c.status, 304, `If-None-Match: ${inm}`);
      assert.equal(c.body.length, 0);
      assert.equal(c.headers.etag, etag);
    }
    const other = await request(port, '/data.bin', { headers: { 'if-none-match': '"other"' } });
    assert.equal(other.status, 200);
    assert.deepEqual(other.body, fixture.data);
  });
  await test('Last-Modified and If-Modified-Since answer 304', async () => {
    const r = await request(port, '/data.bin');
    const lm = r.headers['last-modified'];
    assert.ok(!Number.isNaN(Date.parse(lm)), `Last-Modified: ${lm}`);
    assert.equal((await request(port, '/data.bin', { headers: { 'if-modified-since': lm } })).status, 304);
    const later = new Date(Date.parse(lm) + 60000).toUTCString();
    assert.equal((await request(port, '/data.bin', { headers: { 'if-modified-since': later } })).status, 304);
    const earlier = new Date(Date.parse(lm) - 60000).toUTCString();
    assert.equal((await request(port, '/data.bin', { headers: { 'if-modified-since': earlier } })).status, 200);
    assert.equal((await request(port, '/data.bin', { headers: { 'if-modified-since': 'not a date' } })).status, 200);
    // If-None-Match wins over If-Modified-Since
    const both = await request(port, '/data.bin', { headers: { 'if-none-match': '"other"', 'if-modified-since': lm } });
    assert.equal(both.status, 200);
  });

  await test('Range a-b answers 206 with those bytes', async () => {
    const r = await request(port, '/data.bin', { headers: { range: 'bytes=10-19' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], 'bytes 10-19/1000');
    assert.equal(r.headers['content-length'], '10');
    assert.deepEqual(r.body, fixture.data.subarray(10, 20));
  });
  await test('Range a- and a range past the end are clipped', async () => {
    const open = await request(port, '/data.bin', { headers: { range: 'bytes=990-' } });
    assert.equal(open.status, 206);
    assert.equal(open.headers['content-range'], 'bytes 990-999/1000');
    assert.deepEqual(open.body, fixture.data.subarray(990));
    const past = await request(port, '/data.bin', { headers: { range: 'bytes=995-5000' } });
    assert.equal(past.headers['content-range'], 'bytes 995-999/1000');
    assert.deepEqual(past.body, fixture.data.subarray(995));
  });
  await test('suffix Range -n answers the last n bytes', async () => {
    const r = await request(port, '/data.bin', { headers: { range: 'bytes=-16' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], 'bytes 984-999/1000');
    assert.deepEqual(r.body, fixture.data.subarray(984));
    const longer = await request(port, '/data.bin', { headers: { range: 'bytes=-5000' } });
    assert.equal(longer.headers['content-range'], 'bytes 0-999/1000');
    assert.deepEqual(longer.body, fixture.data);
  });
  await test('unsatisfiable Range answers 416 with the size', async () => {
    const r = await request(port, '/data.bin', { headers: { range: 'bytes=1000-1001' } });
    assert.equal(r.status, 416);
    assert.equal(r.headers['content-range'], 'bytes */1000');
    assert.equal((await request(port, '/empty.txt', { headers: { range: 'bytes=-1' } })).status, 416);
  });
  await test('Range in a big streamed file, in the HTML, and ignored where it should be', async () => {
    const big = fixture.big;
    const r = await request(port, '/big.bin', { headers: { range: `bytes=${big.length - 100000}-${big.length - 2}` } });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, big.subarray(big.length - 100000, big.length - 1));
    const html = await request(port, '/index.html', { headers: { range: 'bytes=0-14' } });
    assert.equal(html.status, 206);
    assert.equal(html.body.toString(), '<!DOCTYPE html>');
    // other units and several ranges: the whole file
    assert.equal((await request(port, '/data.bin', { headers: { range: 'items=0-1' } })).status, 200);
    const multi = await request(port, '/data.bin', { headers: { range: 'bytes=0-1,5-6' } });
    assert.equal(multi.status, 200);
    assert.deepEqual(multi.body, fixture.data);
  });
  await test('If-Range: a current validator keeps the range, a stale one sends the whole file', async () => {
    const { headers } = await request(port, '/data.bin', { method: 'HEAD' });
    assert.equal((await request(port, '/data.bin', { headers: { range: 'bytes=0-9', 'if-range': headers.etag } })).status, 206);
    assert.equal((await request(port, '/data.bin', { headers: { range: 'bytes=0-9', 'if-range': headers['last-modified'] } })).status, 206);
    assert.equal((await request(port, '/data.bin', { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } })).status, 200);
  });
  await test('HEAD answers the headers only', async () => {
    const r = await request(port, '/big.bin', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(fixture.big.length));
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.ok(r.headers.etag && r.headers['last-modified']);
    assert.equal(r.body.length, 0);
    const html = await request(port, '/', { method: 'HEAD' });
    assert.match(html.headers['content-security-policy'], /'sha256-/);
    assert.equal(html.body.length, 0);
    // Range applies to GET only
    assert.equal((await request(port, '/data.bin', { method: 'HEAD', headers: { range: 'bytes=0-1' } })).status, 200);
  });

  await test('a whole big file streams intact', async () => {
    const r = await request(port, '/big.bin');
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(fixture.big), 'bytes differ');
  });
  await test('mounts, folder indexes and symlinks inside the root are served', async () => {
    const worm = await request(port, '/data/kato2015/npz/worm5.npz');
    assert.equal(worm.status, 200);
    assert.equal(worm.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(worm.body, fixture.worm);
    assert.equal((await request(port, '/app/')).body.toString(), '<p>app</p>');
    assert.equal((await request(port, '/app')).body.toString(), '<p>app</p>');
    assert.deepEqual((await request(port, '/alias.bin')).body, fixture.data);
    assert.equal((await request(port, '/index.html?v=1#top')).status, 200);
    assert.equal((await request(port, 'http://127.0.0.1/data.bin')).status, 200); // absolute-form
    assert.ok(srv.requests.includes('/data/kato2015/npz/worm5.npz'), 'the mount path is not in the log');
  });
  await test('content types', async () => {
    const types = {
      '/index.html': 'text/html; charset=utf-8', '/app.js': 'text/javascript', '/mod.wasm': 'application/wasm',
      '/favicon.ico': 'image/x-icon', '/app.js.map': 'application/json', '/rec.nwb': 'application/octet-stream',
      '/rec.h5': 'application/octet-stream', '/rec.mat': 'application/octet-stream', '/rec.unknown': 'application/octet-stream',
    };
    for (const [target, type] of Object.entries(types)) assert.equal((await request(port, target)).headers['content-type'], type, target);
  });
  await test('bytes sent are counted per path', async () => {
    const before = srv.bytesSent;
    const perPath = srv.bytesByPath.get('/big.bin') || 0;
    await request(port, '/big.bin', { headers: { range: 'bytes=0-99' } });
    await request(port, '/big.bin', { method: 'HEAD' });
    assert.equal(srv.bytesByPath.get('/big.bin'), perPath + 100);
    await request(port, '/data.bin');
    assert.equal(srv.bytesSent, before + 100 + 1000);
  });

  await test('precompressed files go to clients that accept their coding, brotli first', async () => {
    const { bundle } = fixture;
    const br = await request(port, '/pre/bundle.js', { headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['content-type'], 'text/javascript');
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.equal(Number(br.headers['content-length']), br.body.length);
    assert.ok(br.body.length < bundle.length / 4, `brotli sent ${br.body.length} of ${bundle.length} bytes`);
    assert.deepEqual(zlib.brotliDecompressSync(br.body), bundle);
    assert.match(br.headers.etag, /-br"$/);
    const gz = await request(port, '/pre/bundle.js', { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(zlib.gunzipSync(gz.body), bundle);
    assert.notEqual(gz.headers.etag, br.headers.etag);
    const css = await request(port, '/pre/style.css', { headers: { 'accept-encoding': 'br' } });
    assert.equal(css.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(css.body).toString(), 'body { margin: 0; }\n'.repeat(200));
    for (const refused of [undefined, 'identity', 'br;q=0, gzip;q=0', 'zstd', 'br;q=nonsense']) {
      const r = await request(port, '/pre/bundle.js', { headers: refused === undefined ? {} : { 'accept-encoding': refused } });
      assert.equal(r.headers['content-encoding'], undefined, `Accept-Encoding: ${refused}`);
      assert.equal(r.headers.vary, 'Accept-Encoding');
      assert.deepEqual(r.body, bundle, `Accept-Encoding: ${refused}`);
    }
    assert.equal((await request(port, '/pre/bundle.js', { headers: { 'accept-encoding': '*' } })).headers['content-encoding'], 'br');
  });
  await test('precompressed: validators, HEAD, ranges, stale and foreign files', async () => {
    const accept = { 'accept-encoding': 'br' };
    const br = await request(port, '/pre/bundle.js', { headers: accept });
    const again = await request(port, '/pre/bundle.js', { headers: { ...accept, 'if-none-match': br.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers['content-encoding'], 'br');
    // the identity validator does not match the compressed form, and the other way round
    const plain = await request(port, '/pre/bundle.js');
    assert.equal((await request(port, '/pre/bundle.js', { headers: { ...accept, 'if-none-match': plain.headers.etag } })).status, 200);
    assert.equal((await request(port, '/pre/bundle.js', { headers: { 'if-none-match': br.headers.etag } })).status, 200);
    const head = await request(port, '/pre/bundle.js', { method: 'HEAD', headers: accept });
    assert.equal(head.headers['content-length'], String(br.body.length));
    assert.equal(head.body.length, 0);
    // a range reads the file itself, never the compressed bytes
    const range = await request(port, '/pre/bundle.js', { headers: { ...accept, range: 'bytes=0-5' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-encoding'], undefined);
    assert.deepEqual(range.body, fixture.bundle.subarray(0, 6));
    // a .br older than its file (left by an earlier build) is not sent
    const old = await request(port, '/pre/old.js', { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(old.headers['content-encoding'], undefined);
    assert.equal(old.body.toString(), 'export const fresh = true;\n');
    // only the types the build compresses: a recording's .br beside it is never sent for it
    const bin = await request(port, '/pre/rec.bin', { headers: accept });
    assert.equal(bin.headers['content-encoding'], undefined);
    assert.equal(bin.headers.vary, undefined);
    assert.deepEqual(bin.body, fixture.data);
    // the bytes on the wire are counted
    const before = srv.bytesByPath.get('/pre/bundle.js');
    await request(port, '/pre/bundle.js', { headers: accept });
    assert.equal(srv.bytesByPath.get('/pre/bundle.js'), before + br.body.length);
  });

  await test(`the request log keeps the newest ${MAX_LOGGED_REQUESTS} paths`, async () => {
    // pipelined on one connection: quick, and every one of them reaches the handler
    const n = MAX_LOGGED_REQUESTS + 50;
    let text = '';
    for (let i = 0; i < n; i++) text += `GET /flood/${i} HTTP/1.1\r\nHost: x\r\n${i === n - 1 ? 'Connection: close\r\n' : ''}\r\n`;
    const answers = await raw(port, text, 60000);
    assert.equal((answers.match(/^HTTP\/1\.1 404 /gm) || []).length, n);
    assert.equal(srv.requests.length, MAX_LOGGED_REQUESTS);
    assert.equal(srv.requests[srv.requests.length - 1], `/flood/${n - 1}`);
    assert.equal(srv.requests[0], `/flood/${n - MAX_LOGGED_REQUESTS}`);
    await okGet();
  });
  await test('smaller bounds on the log and the byte counts hold', async () => {
    const small = await serve(root, 0, {}, { maxLoggedRequests: 5, maxTrackedPaths: 3 });
    try {
      const files = ['/app.js', '/data.bin', '/favicon.ico', '/rec.nwb', '/rec.h5', '/rec.mat', '/mod.wasm'];
      for (const f of files) await request(small.port, f);
      assert.deepEqual(small.requests, files.slice(-5));
      assert.deepEqual([...small.bytesByPath.keys()], files.slice(-3));
    } finally { await small.close(); }
  });

  await test('the server is still up at the end', async () => {
    assert.ok(srv.server.listening);
    await okGet();
  });

  await srv.close();
  fs.rmSync(fixture.tmp, { recursive: true, force: true });
  console.log(`static-server: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { console.error('static-server: fatal', e); process.exit(1); });
