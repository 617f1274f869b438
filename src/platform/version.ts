import { readFileSync } from 'node:fs';

/**
 * Rapport's version, from package.json: the one place it is written. Read at run time (`src/` and `dist/`
 * both sit one level below the package root) so a release only bumps package.json.
 */
export const RAPPORT_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
