// Trunk post-build hook: writes the page's Content Security Policy into the built index.html
// as a <meta> tag, so the page carries it on any static host, not only behind
// scripts/static-server.cjs (which also sends it as a header). The policy is the server's one
// (scripts/static-server.cjs, CONTENT_SECURITY_POLICY) with the hashes of the inline scripts
// trunk wrote (the module loader), less what a meta tag cannot carry (frame-ancestors), and
// with https: added to connect-src: the lab may read recordings from a data URL the user
// chooses (after a click), so the meta tag cannot name its origin in advance.
//   run by trunk (Trunk.toml [[hooks]]) with TRUNK_STAGING_DIR set; or: node scripts/csp-meta.cjs DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { contentSecurityPolicy, inlineScriptHashes } = require('./static-server.cjs');

const dir = process.env.TRUNK_STAGING_DIR || process.argv[2];
if (!dir) throw new Error('give the built folder (TRUNK_STAGING_DIR or an argument)');
const file = path.join(dir, 'index.html');
let html = fs.readFileSync(file, 'utf8').replace(/\s*<meta http-equiv="Content-Security-Policy"[^>]*>/i, '');
const policy = contentSecurityPolicy({ connectSrc: ['https:'], scriptHashes: inlineScriptHashes(html) })
  .split('; ')
  .filter((directive) => !directive.startsWith('frame-ancestors'))
  .join('; ');
if (!/<head>/i.test(html)) throw new Error(`${file} has no <head>`);
html = html.replace(/<head>/i, `<head>\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`);
fs.writeFileSync(file, html);
console.log(`csp-meta: ${file} carries its Content Security Policy (${inlineScriptHashes(html).length} inline script(s) hashed)`);
