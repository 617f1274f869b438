import { ensureServerBuild, ensureWebBuild } from './builds.js';

/** Runs once before the test files: the browser tests need a current web/dist, the process tests a current server bundle. */
export default function setup(): void {
  ensureWebBuild();
  ensureServerBuild();
}
