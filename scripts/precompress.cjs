// Trunk post-build hook: writes NAME.br (brotli, quality 11) and NAME.gz (gzip, level 9) beside
// every file of the built app that scripts/static-server.cjs serves compressed (COMPRESSIBLE:
// the wasm, the JS, the CSS…), as production static hosts expect them. The server sends one to
// a client that accepts its coding, and never one older than its file.
//   run by trunk (Trunk.toml [[hooks]]) with TRUNK_STAGING_DIR set; or: node scripts/precompress.cjs DIR
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { COMPRESSIBLE } = require('./static-server.cjs');

const dir = process.env.TRUNK_STAGING_DIR || process.argv[2];
if (!dir) throw new Error('give the built folder (TRUNK_STAGING_DIR or an argument)');

/// Every regular file under `folder` with a compressible extension.
function compressible(folder) {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(folder, e.name);
    if (e.isDirectory()) return compressible(full);
    return e.isFile() && COMPRESSIBLE.has(path.extname(e.name).toLowerCase()) ? [full] : [];
  });
}

const started = Date.now();
let raw = 0; let br = 0;
for (const file of compressible(dir)) {
  const bytes = fs.readFileSync(file);
  const brotli = zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_LGWIN]: zlib.constants.BROTLI_MAX_WINDOW_BITS,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  fs.writeFileSync(`${file}.br`, brotli);
  fs.writeFileSync(`${file}.gz`, zlib.gzipSync(bytes, { level: 9 }));
  raw += bytes.length; br += brotli.length;
  console.log(`precompress: ${path.relative(dir, file)} ${(bytes.length / 1e6).toFixed(2)} MB → ${(brotli.length / 1e6).toFixed(2)} MB brotli`);
}
console.log(`precompress: ${(raw / 1e6).toFixed(2)} MB → ${(br / 1e6).toFixed(2)} MB brotli in ${((Date.now() - started) / 1000).toFixed(1)} s`);
