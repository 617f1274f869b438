import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './lib.js';

/**
 * Another commit of Rapport, checked out and built next to this one, so a benchmark can measure both in the
 * same run on the same (noisy, shared) machine. It borrows this checkout's node_modules.
 */
export function buildBaseline(ref: string): { root: string; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'rapport-baseline-'));
  rmSync(root, { recursive: true });
  execFileSync('git', ['worktree', 'add', '--detach', root, ref], { cwd: ROOT, stdio: 'ignore' });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  // its own build script: `bin/rapport.js` runs the bundle (`dist/server/rapport.js`), which tsc alone
  // does not write (a baseline built with tsc only could not start)
  execFileSync(process.execPath, ['bin/build.js'], { cwd: root, stdio: 'inherit' });
  if (!existsSync(path.join(root, 'dist/server/rapport.js')))
    throw new Error(`building ${ref} produced no dist/server/rapport.js`);
  return {
    root,
    remove: () =>
      execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: ROOT, stdio: 'ignore' }),
  };
}
