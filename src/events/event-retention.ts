import type { AppContext } from '../context.js';
import { pruneEvents } from './event.repository.js';

/** Events are kept this long: far longer than any consumer needs them (webhook retries end within 2 days). */
export const EVENT_RETENTION_MS = 30 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

/** Deletes events past retention once an hour (and once at start); answers a function that stops it. */
export function startEventPruning(ctx: AppContext): () => void {
  let stopped = false;
  const prune = () =>
    pruneEvents(ctx.db.kysely, ctx.clock.now() - EVENT_RETENTION_MS, { stopped: () => stopped }).then(
      (n) => n > 0 && ctx.logger.info({ events: n }, 'pruned domain events past retention'),
      (err: unknown) => ctx.logger.warn({ err }, 'pruning domain events failed; will retry'),
    );
  void prune();
  const timer = setInterval(() => void prune(), PRUNE_EVERY_MS);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
