import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/**
 * SQLite in WAL mode copies the log back into the database file ("checkpoint") every 1,000 pages, in the
 * connection that happens to commit then, and that copy ends with fsync. better-sqlite3 is synchronous, so
 * that commit held the event loop for the whole checkpoint: tens to hundreds of milliseconds every few
 * dozen writes on a busy disk, felt by every request in flight (the tail, not the median). Here a worker
 * thread with its own connection runs PASSIVE checkpoints (they never block the writer or readers) and the
 * serving connection's automatic checkpoints are off. If the worker fails, the serving connection's
 * automatic checkpoints come back on, so the log cannot grow without bound.
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

/** The worker's code: a plain script (it runs as is under tsx, vitest and the built server). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
let stopping = false;
function tick() {
  if (stopping) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
  setTimeout(tick, workerData.intervalMs);
}
parentPort.on('message', (m) => {
  if (m === 'stop') {
    stopping = true;
    try { db.close(); } finally { parentPort.close(); }
  }
});
tick();
`;

export function startCheckpointer(
  sqlite: SQLite.Database,
  file: string,
  opts: { intervalMs?: number; onError?: (message: string) => void } = {},
): Checkpointer {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      intervalMs: opts.intervalMs ?? 250,
    },
  });
  // a short-lived process (CLI command, test) must not stay alive for the worker's sake
  worker.unref();
  sqlite.pragma('wal_autocheckpoint = 0');
  let failed = false;
  const fallBack = (message: string) => {
    if (failed) return;
    failed = true;
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
    opts.onError?.(message);
  };
  worker.on('message', (m: { error?: string }) => {
    if (!m.error) return;
    fallBack(m.error);
    void worker.terminate();
  });
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', (code) => {
    if (code !== 0) fallBack(`the checkpoint worker exited with code ${code}`);
  });
  return {
    async stop() {
      if (failed) return;
      failed = true;
      // held (ref'd) while stopping: with nothing else left, an unref'd wait would let the process end mid-close
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
