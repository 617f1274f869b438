import type { Transaction } from 'kysely';
import { type AuditActor, type AuditEntry, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import type { DomainEventInput, StoredEvent } from '../events/event.model.js';
import { insertEvents } from '../events/event.repository.js';
import { inWriteTransaction } from './group-commit.js';
import type { Database } from './schema.js';

type CommitHook = () => void | Promise<void>;

/**
 * One change to the database: the transaction, plus what must happen with it. Audit entries are written
 * in the transaction (both commit or neither); so are domain events (`emit`), which event subscribers see
 * inside the same transaction and again after the commit. `onCommit` hooks run after the commit and before
 * the caller sees the result (clear a cache, wake the mail queue). Modelled on atproto PDS's `onCommit`.
 */
export interface UnitOfWork {
  readonly trx: Transaction<Database>;
  readonly actor: AuditActor;
  /** the clock reading taken when the unit of work began: one time for every row it writes */
  readonly now: number;
  onCommit(hook: CommitHook): void;
  audit(entry: AuditEntry): Promise<void>;
  /** record a domain event; events are written together at the end of the unit of work, in its transaction */
  emit(event: DomainEventInput): void;
  /** the change alters who may do what (keys, users, roles, sharing…): drop cached permissions after commit */
  invalidatesAuth(): void;
  /** whether `invalidatesAuth` was called: what this transaction reads of users may not commit */
  readonly authTouched: boolean;
  /** mail was queued in this transaction: start sending after commit */
  sendsMail(): void;
}

class Work implements UnitOfWork {
  readonly hooks: CommitHook[] = [];
  private pending: DomainEventInput[] = [];
  private flushed = false;
  authTouched = false;
  private mailTouched = false;
  constructor(
    private readonly ctx: AppContext,
    readonly trx: Transaction<Database>,
    readonly actor: AuditActor,
    readonly now: number,
  ) {}

  onCommit(hook: CommitHook): void {
    this.hooks.push(hook);
  }

  audit(entry: AuditEntry): Promise<void> {
    return recordAudit(this.trx, this.actor, entry, this.now);
  }

  emit(event: DomainEventInput): void {
    if (this.flushed) throw new Error('an event was emitted after the unit of work wrote its events');
    this.pending.push(event);
  }

  /** Writes the pending events and lets subscribers act on them in this transaction. */
  async flushEvents(): Promise<void> {
    this.flushed = true;
    if (this.pending.length === 0) return;
    const stored: StoredEvent[] = await insertEvents(this.trx, this.pending, this.now);
    this.pending = [];
    await this.ctx.events.inTransaction(this, stored);
    this.onCommit(() => this.ctx.events.afterCommit(stored));
  }

  invalidatesAuth(): void {
    if (this.authTouched) return;
    this.authTouched = true;
    this.onCommit(() => this.ctx.authCache.clear());
  }

  sendsMail(): void {
    if (this.mailTouched) return;
    this.mailTouched = true;
    this.onCommit(() => this.ctx.mailQueue.kick());
  }
}

/**
 * Runs `fn` in one transaction. With `within`, joins that unit of work instead (a service called by
 * another service's change): its rows, audit entries and hooks become part of the outer change.
 * Hooks run in order after the commit; one that fails is logged — the change is committed by then.
 */
export async function withUnitOfWork<T>(
  ctx: AppContext,
  actor: AuditActor,
  fn: (uow: UnitOfWork) => Promise<T>,
  within?: UnitOfWork,
): Promise<T> {
  if (within) return fn(within);
  let work: Work | undefined;
  let authVersion: number | undefined;
  const unit = async (trx: Transaction<Database>) => {
    work = new Work(ctx, trx, actor, ctx.clock.now());
    authVersion = undefined;
    const out = await fn(work);
    await work.flushEvents();
    // delivered to the other replicas when (and only if) this transaction commits
    if (work.authTouched) authVersion = await ctx.authEvents.publish(trx, { kind: 'clear' });
    return out;
  };
  // SQLite commits the units queued meanwhile together; one that changes who may do what commits before
  // the next starts, so none of them reads permissions it is about to change
  const result = await inWriteTransaction(ctx.db, unit, () => work?.authTouched ?? false);
  // the hook below clears this process's cache: its poll of the auth version need not clear again
  if (authVersion !== undefined) ctx.authEvents.committedHere(authVersion);
  for (const hook of work!.hooks) {
    try {
      await hook();
    } catch (err) {
      ctx.logger.error({ err }, 'an after-commit hook failed');
    }
  }
  return result;
}

/**
 * The context as seen from inside a unit of work: its queries run in the unit's transaction. A service that
 * joins another's change (`opts.uow`) reads through this, so its checks see the change's own rows and — on
 * SQLite, whose one connection the transaction holds — do not wait for the transaction they are part of.
 */
export function contextWithin(ctx: AppContext, uow: UnitOfWork | undefined): AppContext {
  return uow ? contextInTransaction(ctx, uow.trx) : ctx;
}

/** `contextWithin` for code handed a bare transaction (event subscribers). */
export function contextInTransaction(ctx: AppContext, trx: Transaction<Database>): AppContext {
  return { ...ctx, db: { ...ctx.db, kysely: trx } };
}
