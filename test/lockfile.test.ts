import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

/**
 * `npm ci` installs exactly the lockfile and refuses one that disagrees with package.json, on every
 * platform npm supports: so the lockfile must list what package.json asks for and every platform's
 * optional package (biome's native binaries were once missing for seven platforms).
 */
describe('package-lock.json is in sync with package.json', () => {
  const root = lock.packages[''] as Record<string, Record<string, string>>;

  it('lists every dependency with the range package.json asks for', () => {
    for (const field of ['dependencies', 'devDependencies'] as const) {
      expect(root[field], field).toEqual(pkg[field]);
    }
    expect(lock.name).toBe(pkg.name);
    expect(lock.version).toBe(pkg.version);
  });

  it('locks every optional platform package of every locked package', () => {
    const missing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages as Record<string, LockEntry>)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        const nested = `${where}/node_modules/${name}`;
        if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`])
          missing.push(`${where} → ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
