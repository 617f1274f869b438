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
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (!existsSync(path.join(root, 'dist'))) throw new Error(`building ${ref} produced no dist/`);
  return {
    root,
    remove: () =>
      execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: ROOT, stdio: 'ignore' }),
  };
}
