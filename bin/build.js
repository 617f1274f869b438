#!/usr/bin/env node
// Builds the server (tsc → dist/) and the web UI (vite → web/dist/), then writes dist/.build-stamp: a hash
// of every input. With --if-changed (what `npm start` runs) nothing is rebuilt while the stamp matches, so
// restarting a deployed checkout takes about a second; a fresh clone or changed sources build as before.
// --check only says (exit 0 current, 1 stale); --stamp-only writes the stamp; --root DIR works on DIR.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const rootArg = process.argv.indexOf('--root');
const ROOT = rootArg > 0 ? path.resolve(process.argv[rootArg + 1]) : path.resolve(import.meta.dirname, '..');
const STAMP = path.join(ROOT, 'dist', '.build-stamp');
const INPUT_DIRS = ['src', 'web/src', 'web/public'];
const INPUT_FILES = [
  'web/index.html',
  'web/vite.config.ts',
  'web/tsconfig.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
];

function files(dir) {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !/\.test(-helpers)?\.tsx?$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

function inputsHash() {
  const hash = createHash('sha256');
  const all = [...INPUT_DIRS.flatMap(files), ...INPUT_FILES.filter((f) => existsSync(path.join(ROOT, f)))];
  for (const f of all.sort())
    hash
      .update(`${f}\0`)
      .update(readFileSync(path.join(ROOT, f)))
      .update('\0');
  return hash.digest('hex');
}

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const hash = inputsHash();
const built = existsSync(STAMP) && existsSync(path.join(ROOT, 'web/dist/index.html'));
const current = built && readFileSync(STAMP, 'utf8').trim() === hash;
if (process.argv.includes('--check')) process.exit(current ? 0 : 1);
if (process.argv.includes('--stamp-only')) {
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${hash}\n`);
  process.exit(0);
}
if (process.argv.includes('--if-changed') && current) process.exit(0);
console.log('Building Rapport (server and web UI)…');
run([path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
run([path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn']);
writeFileSync(STAMP, `${hash}\n`);
