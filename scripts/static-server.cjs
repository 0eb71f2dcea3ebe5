// A small static file server for the built app (dist/), used by scripts/serve and the
// end-to-end tests (tests/e2e/run.cjs). Binds to loopback only. Extra mounts map URL prefixes
// to folders, e.g. to serve recordings at /data/kato2015/ beside the page.
//   node scripts/static-server.cjs ROOT [PORT] [PREFIX=DIR ...] [--connect-src=ORIGIN ...]
//
// This file owns everything between the socket and the file system: parsing and refusing
// request targets, confining paths to the served folders, response headers (the Content
// Security Policy included), validators and conditional requests (ETag, Last-Modified, 304),
// byte ranges (206/416), precompressed files (NAME.br / NAME.gz, Content-Encoding), and the
// bounded request log and byte counts (bytes on the wire) the tests read.
//
// It must survive hostile input: a request it cannot make sense of is answered 4xx and the
// server keeps going. Nothing a client sends may throw out of the request handler; even a bug
// in it answers 500 instead of killing the process. Its tests: tests/server/static-server.test.cjs.
//
// The Content Security Policy is CONTENT_SECURITY_POLICY below, with extra connect-src origins
// from serve()'s options. trunk 0.21 loads the wasm from an inline <script type="module"> in
// dist/index.html, which `script-src 'self'` would block; so for every .html file the server
// hashes each inline <script> body and allows exactly those bodies ('sha256-…' sources) for
// that response. No 'unsafe-inline' for scripts, and no nonces (the HTML is served as built).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { pipeline } = require('stream');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.csv': 'text/csv', '.txt': 'text/plain',
  '.ico': 'image/x-icon', '.map': 'application/json',
  // recordings: opaque bytes the page parses itself (named so the choice is visible)
  '.nwb': 'application/octet-stream', '.h5': 'application/octet-stream',
  '.mat': 'application/octet-stream', '.npz': 'application/octet-stream',
};
const DEFAULT_TYPE = 'application/octet-stream';

/// Files the build precompresses (scripts/precompress.cjs writes NAME.br and NAME.gz beside
/// them), served compressed to clients that accept it, as production static hosts do.
const COMPRESSIBLE = new Set(['.wasm', '.js', '.mjs', '.css', '.svg', '.json', '.map']);
/// Content codings in order of preference, with the suffix of their precompressed file.
const ENCODINGS = [['br', '.br'], ['gzip', '.gz']];

/// What the app needs and nothing more: its own scripts and wasm ('wasm-unsafe-eval' lets
/// WebAssembly compile; it does not allow JS eval), its module worker, fetches of its own files,
/// charts as data:/blob: images, inline style attributes set by the UI; no plugins, no <base>
/// tricks, no framing. serve() adds connect-src origins and per-page script hashes to this.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

const MAX_LOGGED_REQUESTS = 10000; // `requests` keeps the newest this many pathnames
const MAX_TRACKED_PATHS = 1000; // `bytesByPath` keeps the most recently served this many paths
const MAX_URL_LENGTH = 8192; // Node refuses request heads over 16 KiB anyway (431)
const MAX_LOGGED_PATH_LENGTH = 1024; // so a log of 10,000 entries stays a few MB at most
const MAX_HASHED_HTML_BYTES = 4 << 20; // HTML is read whole to hash its scripts; bigger is not ours

/// A refusal with its status, thrown anywhere below and answered by the handler.
class HttpError extends Error {
  constructor(status, message, headers = {}) { super(message); this.status = status; this.headers = headers; }
}

/// The policy for one response: the base, extra connect-src sources, and script hashes.
function contentSecurityPolicy({ connectSrc = [], scriptHashes = [] } = {}) {
  let policy = CONTENT_SECURITY_POLICY;
  if (connectSrc.length) policy = policy.replace("connect-src 'self'", `connect-src 'self' ${connectSrc.join(' ')}`);
  if (scriptHashes.length) {
    const hashes = scriptHashes.map((h) => `'sha256-${h}'`).join(' ');
    policy = policy.replace("script-src 'self' 'wasm-unsafe-eval'", `script-src 'self' 'wasm-unsafe-eval' ${hashes}`);
  }
  return policy;
}

/// A connect-src source from the caller must be one token: a header or policy injection
/// (spaces, ';', ',', quotes, control characters) is refused at start-up, not served.
function checkSource(source) {
  if (typeof source !== 'string' || !/^[A-Za-z0-9+.\-:/*[\]]+$/.test(source)) {
    throw new Error(`not a CSP source expression: ${JSON.stringify(source)}`);
  }
  return source;
}

/// base64 SHA-256 of every inline <script> body in `html`, as CSP hash sources want them: the
/// body's text exactly as the browser sees it, i.e. after the HTML parser has turned CRLF and
/// CR into LF. Scripts with a src attribute are skipped (their body never runs). This is a
/// regular-expression scan, good for the HTML trunk writes, not a full HTML parser: a script
/// that the scan misses is simply blocked by the policy, never wrongly allowed.
function inlineScriptHashes(html) {
  const hashes = new Set();
  const script = /<script\b((?:[^>"']|"[^"]*"|'[^']*')*)>([\s\S]*?)<\/script[\s/>]/gi;
  for (const [, attributes, body] of html.matchAll(script)) {
    if (/(^|\s)src\s*=/i.test(attributes)) continue;
    const text = body.replace(/\r\n?/g, '\n');
    hashes.add(crypto.createHash('sha256').update(text, 'utf8').digest('base64'));
  }
  return [...hashes];
}

/// The request target as { pathname, segments }: pathname as sent (percent-encoded, for the
/// log), segments decoded. Accepts origin-form ("/a/b?q") and absolute-form ("http://h/a/b");
/// refuses anything else, bad percent-encoding or UTF-8, NUL, encoded slashes or backslashes,
/// "." and ".." segments and empty segments ("//"), rather than guessing what was meant.
function parseTarget(target) {
  if (target.length > MAX_URL_LENGTH) throw new HttpError(414, 'URI too long');
  let pathname;
  if (target.startsWith('/')) {
    pathname = target.split(/[?#]/, 1)[0];
  } else if (/^https?:\/\//i.test(target)) {
    let url;
    try { url = new URL(target); } catch { throw new HttpError(400, 'bad absolute-form target'); }
    pathname = url.pathname;
  } else {
    throw new HttpError(400, 'bad request target');
  }
  // the characters RFC 3986 allows in a path; browsers percent-encode everything else
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(pathname)) throw new HttpError(400, 'bad character in path');
  const raw = pathname.split('/').slice(1);
  const segments = raw.map((s, i) => {
    let d;
    try { d = decodeURIComponent(s); } catch { throw new HttpError(400, 'bad percent-encoding'); }
    if (d === '.' || d === '..' || /[\0/\\]/.test(d)) throw new HttpError(400, 'bad path segment');
    if (d === '' && i !== raw.length - 1) throw new HttpError(400, 'empty path segment');
    return d;
  });
  return { pathname, segments };
}

/// True when `file` is `dir` or lies under it (both real, absolute paths).
function isInside(dir, file) {
  return file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

/// The real path of an existing file under `base`, or an HttpError. Symlinks are allowed only
/// where they end inside the real path of `base` (which may itself be a symlink or lie outside
/// the root: mounts do). A directory stands for its index.html (then `index` is true); a path
/// ending in "/" (wantDir) names a directory, so "/file.txt/" is not found.
async function resolveFile(base, segments, wantDir) {
  const fail = (e) => {
    if (e instanceof HttpError) throw e;
    if (e.code === 'EACCES' || e.code === 'EPERM') throw new HttpError(403, 'forbidden');
    throw new HttpError(404, 'not found'); // ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, …
  };
  try {
    const realBase = await fs.promises.realpath(base);
    const realTarget = await fs.promises.realpath(path.join(realBase, ...segments));
    let real = realTarget;
    if (!isInside(realBase, real)) throw new HttpError(403, 'outside the served folder');
    let stat = await fs.promises.stat(real);
    if (wantDir && !stat.isDirectory()) throw new HttpError(404, 'not found');
    if (stat.isDirectory()) {
      real = await fs.promises.realpath(path.join(real, 'index.html'));
      if (!isInside(realBase, real)) throw new HttpError(403, 'outside the served folder');
      stat = await fs.promises.stat(real);
    }
    // only regular files: a FIFO or device would hang or stream forever
    if (!stat.isFile()) throw new HttpError(404, 'not found');
    return { file: real, stat, index: real !== realTarget };
  } catch (e) { return fail(e); }
}

/// Whether an Accept-Encoding header accepts `coding` (its own entry, else `*`; q=0 refuses).
function accepts(header, coding) {
  if (typeof header !== 'string') return false;
  let star = false;
  for (const part of header.split(',')) {
    const [token, ...params] = part.split(';').map((p) => p.trim());
    const q = params.find((p) => /^q=/i.test(p));
    const ok = q === undefined || Number(q.slice(2)) > 0; // a malformed q is NaN: refused
    if (token.toLowerCase() === coding) return ok;
    if (token === '*') star = ok;
  }
  return star;
}

/// The precompressed file to send instead of `named` (a COMPRESSIBLE file asked for whole), as
/// { coding, file, stat }, or null: the first coding the client accepts whose NAME.br / NAME.gz
/// exists beside it, inside the same folder rules, and is not older than the file itself (a stale
/// one, left by an earlier build, is never sent).
async function precompressed(req, base, named, stat) {
  for (const [coding, suffix] of ENCODINGS) {
    if (!accepts(req.headers['accept-encoding'], coding)) continue;
    const sibling = [...named.slice(0, -1), named[named.length - 1] + suffix];
    const found = await resolveFile(base, sibling, false).catch(() => null);
    if (found && found.stat.mtimeMs >= stat.mtimeMs) return { coding, file: found.file, stat: found.stat };
  }
  return null;
}

/// ETag from size and mtime, as nginx does. Strong, so If-Range (which compares strongly) can
/// resume a range read; a rewrite within the same millisecond at the same size would go unseen.
function etagOf(stat) {
  return `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
}

/// RFC 7232 §6: If-None-Match wins over If-Modified-Since; either answers "not modified".
function notModified(req, etag, stat) {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    const bare = (t) => t.trim().replace(/^W\//, '');
    return inm.split(',').some((t) => t.trim() === '*' || bare(t) === etag);
  }
  const ims = req.headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(stat.mtimeMs / 1000) * 1000 <= since;
  }
  return false;
}

/// The byte range to send, as { start, end } (inclusive), null for the whole file, or an
/// HttpError 416. One range of bytes (a-b, a-, -n); other units and multiple ranges are
/// ignored (RFC 7233 lets a server send the whole file); a malformed or unsatisfiable bytes
/// range is refused. If-Range with a validator that no longer matches means "whole file".
function rangeOf(req, etag, lastModified, size) {
  const header = req.headers.range;
  if (header === undefined || req.method !== 'GET') return null;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange.trim() !== etag && ifRange.trim() !== lastModified) return null;
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return null;
  if (m[1].includes(',')) return null;
  const unsatisfiable = () => new HttpError(416, 'range not satisfiable', { 'content-range': `bytes */${size}` });
  const r = /^(\d{0,15})\s*-\s*(\d{0,15})$/.exec(m[1].trim());
  if (!r || (r[1] === '' && r[2] === '')) throw unsatisfiable();
  let start; let end;
  if (r[1] === '') { // suffix: the last n bytes
    const n = Number(r[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    start = Math.max(0, size - n); end = size - 1;
  } else {
    start = Number(r[1]);
    end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
    if (r[2] !== '' && Number(r[2]) < start) throw unsatisfiable();
    if (start >= size) throw unsatisfiable();
  }
  return { start, end };
}

/// Starts the server; resolves to { server, port, requests, bytesSent, bytesByPath, close }.
/// `requests`: pathnames as requested (newest last, at most maxLoggedRequests);
/// `bytesSent`: body bytes sent in all; `bytesByPath`: Map pathname → body bytes sent, for the
/// most recently served maxTrackedPaths paths; `close()`: stops listening and drops sockets.
/// options: { connectSrc: extra connect-src origins, maxLoggedRequests, maxTrackedPaths }.
async function serve(root, port = 0, mounts = {}, options = {}) {
  const connectSrc = (options.connectSrc || []).map(checkSource);
  const maxLogged = options.maxLoggedRequests ?? MAX_LOGGED_REQUESTS;
  const maxTracked = options.maxTrackedPaths ?? MAX_TRACKED_PATHS;
  // longest prefix first, so a mount inside another mount wins; prefixes are "/…/"
  const mountList = Object.entries(mounts)
    .map(([prefix, dir]) => [('/' + prefix.replace(/^\/+|\/+$/g, '') + '/').replace(/^\/\/$/, '/'), dir])
    .sort((a, b) => b[0].length - a[0].length);
  const requests = [];
  const bytesByPath = new Map();
  const stats = { bytesSent: 0 };

  const log = (pathname) => {
    if (requests.length >= maxLogged) requests.splice(0, requests.length - maxLogged + 1);
    requests.push(pathname.slice(0, MAX_LOGGED_PATH_LENGTH));
  };
  const count = (pathname, n) => {
    stats.bytesSent += n;
    const key = pathname.slice(0, MAX_LOGGED_PATH_LENGTH);
    const before = bytesByPath.get(key) || 0;
    bytesByPath.delete(key); // re-inserted last: the Map's order is least recently served first
    bytesByPath.set(key, before + n);
    while (bytesByPath.size > maxTracked) bytesByPath.delete(bytesByPath.keys().next().value);
  };

  const securityHeaders = (scriptHashes) => ({
    'content-security-policy': contentSecurityPolicy({ connectSrc, scriptHashes }),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });

  function refuse(res, status, message, headers = {}) {
    const body = `${status} ${message}\n`;
    const h = { ...securityHeaders(), 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers };
    // after a malformed request the rest of the stream cannot be trusted: close the connection
    if (status === 400 || status === 405 || status === 414) h.connection = 'close';
    res.writeHead(status, h);
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  async function handle(req, res) {
    const { pathname, segments } = parseTarget(req.url);
    log(pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed', { allow: 'GET, HEAD' });

    let base = root; let rel = segments;
    const decoded = '/' + segments.join('/');
    for (const [prefix, dir] of mountList) {
      if (decoded.startsWith(prefix)) { base = dir; rel = decoded.slice(prefix.length).split('/'); break; }
    }
    const named = rel.filter((s) => s !== '');
    const { file, stat, index } = await resolveFile(base, named, decoded.endsWith('/'));

    // the type follows the name asked for (a symlink's target may be named otherwise)
    const name = index || named.length === 0 ? file : named[named.length - 1];
    const type = TYPES[path.extname(name).toLowerCase()] || DEFAULT_TYPE;
    let body = null; // the whole file, read only for HTML (to hash its scripts)
    let scriptHashes = [];
    if (type.startsWith('text/html') && stat.size <= MAX_HASHED_HTML_BYTES) {
      body = await fs.promises.readFile(file);
      scriptHashes = inlineScriptHashes(body.toString('utf8'));
    }
    // a compressible file asked for whole goes out precompressed when the client accepts it; a
    // range always reads the file itself (ranges count its bytes, not the compressed ones)
    const compressible = !body && !index && named.length > 0 && COMPRESSIBLE.has(path.extname(name).toLowerCase());
    const encoded = compressible && req.headers.range === undefined ? await precompressed(req, base, named, stat) : null;
    const sent = encoded ? encoded.stat : stat;
    const size = body ? body.length : sent.size;
    // the compressed form is another representation: its own validator
    const etag = encoded ? etagOf(sent).replace(/"$/, `-${encoded.coding}"`) : etagOf(stat);
    const lastModified = new Date(stat.mtimeMs).toUTCString();
    const headers = {
      ...securityHeaders(scriptHashes),
      'cache-control': 'no-cache', etag, 'last-modified': lastModified, 'accept-ranges': 'bytes',
    };
    if (compressible) headers.vary = 'Accept-Encoding';
    if (encoded) headers['content-encoding'] = encoded.coding;
    if (notModified(req, etag, stat)) { res.writeHead(304, headers).end(); return; }

    const range = rangeOf(req, etag, lastModified, size);
    const start = range ? range.start : 0;
    const end = range ? range.end : size - 1;
    headers['content-type'] = type;
    headers['content-length'] = end - start + 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) { res.end(); return; }
    if (body) {
      const part = body.subarray(start, end + 1);
      count(pathname, part.length);
      res.end(part);
      return;
    }
    // streamed, never read whole: recordings can be gigabytes
    const stream = fs.createReadStream(encoded ? encoded.file : file, { start, end });
    stream.on('data', (chunk) => count(pathname, chunk.length));
    pipeline(stream, res, () => {}); // a client gone mid-file is no error of ours
  }

  const server = http.createServer((req, res) => {
    const answer = (e) => {
      if (res.headersSent) { res.destroy(); return; }
      if (e instanceof HttpError) refuse(res, e.status, e.message, e.headers);
      else { console.error('static-server: internal error:', e); refuse(res, 500, 'internal error'); }
    };
    // handle() is async: whatever it throws, synchronously or not, arrives here as a rejection
    handle(req, res).catch((e) => { try { answer(e); } catch { res.destroy(); } });
  });
  // requests Node's parser refuses (bad request line or header, smuggling, heads over 16 KiB)
  // never reach the handler: answer them here and drop the connection
  server.on('clientError', (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
    const status = { HPE_HEADER_OVERFLOW: 431, HPE_URI_TOO_LONG: 414, ERR_HTTP_REQUEST_TIMEOUT: 408 }[err.code] || 400;
    const reason = http.STATUS_CODES[status];
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
    // a client that never reads its answer must not keep the socket
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  // CONNECT (a proxy tunnel) bypasses the request handler; without this Node just hangs up
  server.on('connect', (req, socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nallow: GET, HEAD\r\nconnection: close\r\ncontent-length: 0\r\n\r\n', () => socket.destroy());
  });

  const close = () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        server, port: server.address().port, requests, bytesByPath, close,
        get bytesSent() { return stats.bytesSent; },
      });
    });
  });
}

module.exports = { serve, CONTENT_SECURITY_POLICY, MAX_LOGGED_REQUESTS, MAX_TRACKED_PATHS, COMPRESSIBLE, ENCODINGS, accepts, contentSecurityPolicy, inlineScriptHashes };

if (require.main === module) {
  const args = process.argv.slice(2);
  const connectSrc = args.filter((a) => a.startsWith('--connect-src=')).map((a) => a.slice('--connect-src='.length));
  const [root = 'dist', port = '8080', ...rest] = args.filter((a) => !a.startsWith('--'));
  // PREFIX=DIR, split at the first '=' so a folder name may hold one
  const bad = rest.find((m) => !m.includes('='));
  if (bad !== undefined) { console.error(`static-server: a mount is PREFIX=DIR, not ${bad}`); process.exit(2); }
  const mounts = Object.fromEntries(rest.map((m) => [m.slice(0, m.indexOf('=')), m.slice(m.indexOf('=') + 1)]));
  serve(root, Number(port), mounts, { connectSrc }).then(({ port }) => {
    console.log(`NeuroGNN is being served at http://127.0.0.1:${port}/  (Ctrl-C stops it)`);
  }, (e) => { console.error(`static-server: ${e.message}`); process.exit(1); });
}
