// A small static file server for the built app (dist/), used by scripts/serve and the
// end-to-end tests. Binds to loopback only. Extra mounts map URL prefixes to folders, e.g. to
// serve recordings at data/kato2015/ beside the page.
//   node scripts/static-server.cjs ROOT [PORT] [PREFIX=DIR ...]
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.json': 'application/json', '.csv': 'text/csv', '.txt': 'text/plain',
};

function serve(root, port = 0, mounts = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    requests.push(url.pathname);
    let base = root;
    let rel = decodeURIComponent(url.pathname);
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (rel.startsWith(prefix)) { base = dir; rel = rel.slice(prefix.length); break; }
    }
    const file = path.resolve(base, '.' + path.posix.normalize('/' + rel));
    if (!file.startsWith(path.resolve(base))) { res.writeHead(403).end(); return; }
    let target = file;
    if (fs.existsSync(target) && fs.statSync(target).isDirectory()) target = path.join(target, 'index.html');
    fs.readFile(target, (err, body) => {
      if (err) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(target)] || 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, port: server.address().port, requests })));
}

module.exports = { serve };

if (require.main === module) {
  const [root = 'dist', port = '8080', ...rest] = process.argv.slice(2);
  const mounts = Object.fromEntries(rest.map((m) => m.split('=')));
  serve(root, Number(port), mounts).then(({ port }) => {
    console.log(`NeuroGNN is being served at http://127.0.0.1:${port}/  (Ctrl-C stops it)`);
  });
}
