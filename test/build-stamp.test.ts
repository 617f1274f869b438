import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const build = () =>
  spawnSync(process.execPath, [path.join(ROOT, 'bin/build.js'), '--if-changed'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });

it('npm start does not rebuild a checkout whose build matches its sources', () => {
  const first = build(); // builds only if this checkout has never been built or its sources changed
  expect(first.status, first.stderr).toBe(0);
  const second = build();
  expect(second.status, second.stderr).toBe(0);
  expect(second.stdout).not.toContain('Building');
}, 320_000);
