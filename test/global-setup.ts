import { ensureWebBuild } from './web-build.js';

/** Runs once before the test files: the browser tests need a current web/dist. */
export default function setup(): void {
  ensureWebBuild();
}
