#!/usr/bin/env node
// Builds the server (tsc → dist/) and the web UI (vite → web/dist/), then writes dist/.build-stamp: a hash
// of every input. With --if-changed (what `npm start` runs) nothing is rebuilt while the stamp matches, so
// restarting a deployed checkout takes about a second; a fresh clone or changed sources build as before.
// --check only says (exit 0 current, 1 stale); --stamp-only writes the stamp; --root DIR works on DIR;
// --server does all of that for the server alone (its inputs, dist/server/.build-stamp, no web UI): the
// tests' global setup runs `--server --if-changed` before the process tests start the bundle.
//
// The server is then bundled: esbuild joins Rapport's own ~240 compiled modules, Kysely, zod and
// fastify-type-provider-zod (the one other package importing zod, so there is one copy) into
// dist/server/rapport.js, which bin/rapport.js runs; every other package stays in node_modules, loaded as it
// is. Loading one file instead of hundreds through the ESM loader took start-up from ~1.0 s to ~0.77 s on
// the 2-core machine (docs/performance.md). The bundle sits two
// levels under the root, as every compiled module does, so their paths relative to the module
// (package.json, assets/, web/dist) resolve the same.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const rootArg = process.argv.indexOf('--root');
const ROOT = rootArg > 0 ? path.resolve(process.argv[rootArg + 1]) : path.resolve(import.meta.dirname, '..');
const SERVER_ONLY = process.argv.includes('--server');
const SERVER_INPUTS = {
  dirs: ['src'],
  files: ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'],
};
const ALL_INPUTS = {
  dirs: [...SERVER_INPUTS.dirs, 'web/src', 'web/public'],
  files: [...SERVER_INPUTS.files, 'web/index.html', 'web/vite.config.ts', 'web/tsconfig.json'],
};
const SERVER_STAMP = path.join(ROOT, 'dist', 'server', '.build-stamp');
const STAMP = SERVER_ONLY ? SERVER_STAMP : path.join(ROOT, 'dist', '.build-stamp');

function files(dir) {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !/\.test(-helpers)?\.tsx?$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

function inputsHash({ dirs, files: named }) {
  const hash = createHash('sha256');
  const all = [...dirs.flatMap(files), ...named.filter((f) => existsSync(path.join(ROOT, f)))];
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

const serverHash = inputsHash(SERVER_INPUTS);
const hash = SERVER_ONLY ? serverHash : inputsHash(ALL_INPUTS);
const outputs = SERVER_ONLY ? ['dist/server/rapport.js'] : ['dist/server/rapport.js', 'web/dist/index.html'];
const built = outputs.every((f) => existsSync(path.join(ROOT, f)));
const current = existsSync(STAMP) && built && readFileSync(STAMP, 'utf8').trim() === hash;
if (process.argv.includes('--check')) process.exit(current ? 0 : 1);
if (process.argv.includes('--stamp-only')) {
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${hash}\n`);
  process.exit(0);
}
if (process.argv.includes('--if-changed') && current) process.exit(0);
console.log(SERVER_ONLY ? 'Building the Rapport server…' : 'Building Rapport (server and web UI)…');
run([path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
const esbuild = await import('esbuild');
const INLINED = ['kysely', 'zod', 'fastify-type-provider-zod'];
await esbuild.build({
  entryPoints: [path.join(ROOT, 'dist/cli/main.js')],
  outfile: path.join(ROOT, 'dist/server/rapport.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // packages stay external (native modules, CommonJS, their own files), except those made of hundreds of
  // small ESM modules: Kysely, and zod with the one package that imports it besides Rapport (one copy of zod)
  plugins: [
    {
      name: 'external-packages-but-esm-heavy-ones',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          INLINED.some((p) => args.path === p || args.path.startsWith(`${p}/`))
            ? undefined
            : { path: args.path, external: true },
        );
      },
    },
  ],
  sourcemap: 'linked',
  logLevel: 'warning',
});
// the server just built is current whichever build this is
writeFileSync(SERVER_STAMP, `${serverHash}\n`);
if (SERVER_ONLY) process.exit(0);
run([path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn']);
writeFileSync(STAMP, `${hash}\n`);
