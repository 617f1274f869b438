import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const WEB = path.join(ROOT, 'web');
const INDEX = path.join(WEB, 'dist', 'index.html');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds the server bundle `npm start` runs unless its stamp says it is current (`bin/build.js --server
 * --if-changed`: a hash of the server's sources and package files). The process tests run it: what users
 * run, and it starts in ~0.7 s where the sources through tsx took ~1.9 s and 2.4 s of CPU, at each of the
 * suite's ~60 starts. CI has built it before the tests.
 */
export function ensureServerBuild(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'bin/build.js'), '--server', '--if-changed'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

/** Builds web/dist unless a build newer than every UI source file is already there. */
export function ensureWebBuild(): void {
  const sources = Math.max(
    newestSourceMtime(path.join(WEB, 'src')),
    fs.statSync(path.join(WEB, 'index.html')).mtimeMs,
    fs.statSync(path.join(WEB, 'vite.config.ts')).mtimeMs,
  );
  if (fs.existsSync(INDEX) && fs.statSync(INDEX).mtimeMs > sources) return;
  console.log('[test] building the web UI (web/dist is missing or older than web/src)');
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', WEB, '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
      // vitest sets NODE_ENV=test, which would make Vite bundle React's development build (700 KB more):
      // the browser tests must load what users get
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
}
