import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const BUILD = path.resolve(import.meta.dirname, '../bin/build.js');
// a checkout of its own: rebuilding the real one would pull web/dist from under the browser tests
const root = mkdtempSync(path.join(tmpdir(), 'rapport-stamp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}
const run = (...flags: string[]) =>
  spawnSync(process.execPath, [BUILD, ...flags, '--root', root], { encoding: 'utf8' });

it('npm start rebuilds only when a build input changed, not for tests or on a built checkout', () => {
  write('src/server.ts', 'export const a = 1;\n');
  write('src/server.test.ts', 'test\n');
  write('web/src/app.tsx', 'export {};\n');
  write('web/index.html', '<html></html>\n');
  write('package.json', '{}\n');
  expect(run('--check').status).toBe(1); // never built

  write('web/dist/index.html', '<html>built</html>\n');
  write('dist/server/rapport.js', '// the bundled server\n');
  expect(run('--stamp-only').status).toBe(0);
  expect(run('--check').status).toBe(0); // built and current: `npm start` goes straight to serving

  write('src/server.test.ts', 'another test\n');
  expect(run('--check').status).toBe(0); // tests are not build inputs

  write('web/src/app.tsx', 'export const changed = true;\n');
  expect(run('--check').status).toBe(1); // a changed source rebuilds
  run('--stamp-only');
  write('package-lock.json', '{"lockfileVersion":3}\n');
  expect(run('--check').status).toBe(1); // so do changed dependencies
});

it('the tests rebuild the server bundle only when a server input changed (--server)', () => {
  write('src/server.ts', 'export const a = 1;\n');
  write('web/src/app.tsx', 'export {};\n');
  write('package.json', '{}\n');
  write('dist/server/rapport.js', '// the bundled server\n');
  rmSync(path.join(root, 'dist/server/.build-stamp'), { force: true });
  expect(run('--server', '--check').status).toBe(1); // no stamp yet
  expect(run('--server', '--stamp-only').status).toBe(0);
  expect(run('--server', '--check').status).toBe(0);

  write('web/src/app.tsx', 'export const changed = true;\n');
  write('src/server.test.ts', 'a test\n');
  expect(run('--server', '--check').status).toBe(0); // the UI and tests are not the server's inputs

  write('src/server.ts', 'export const a = 2;\n');
  expect(run('--server', '--check').status).toBe(1);
  run('--server', '--stamp-only');
  write('package-lock.json', '{"lockfileVersion":2}\n');
  expect(run('--server', '--check').status).toBe(1);
});
