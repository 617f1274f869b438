import type { ImapFlow } from 'imapflow';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import type { Database } from '../db/schema.js';
import { enqueueMail } from '../mail/mail-queue.repository.js';
import { randomToken } from '../platform/crypto.js';
import { normaliseMessageId } from './mail-parse.js';
import {
  claimMessage,
  DEFAULT_MAX_MESSAGE_BYTES,
  processBacklog,
  processMessage,
} from './mailroom.service.js';
import type { MailroomMailboxRow } from './mailroom.table.js';

export interface Mailbox {
  id: number;
  name: string;
  host: string;
  port: number;
  tls: boolean;
  username: string;
  folders: string[];
  scan: 'unread' | 'all';
  scanSince: number | null;
  afterScan: 'none' | 'mark_read' | 'move';
  moveTo: string | null;
  pollSeconds: number;
  enabled: boolean;
  lastPolledAt: number | null;
  lastError: string | null;
  failures: number;
  nextPollAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export const mailboxInputSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    host: z
      .string()
      .trim()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or IP address'),
    port: z.number().int().min(1).max(65535).default(993),
    tls: z.boolean().default(true),
    username: z.string().min(1).max(320),
    password: z.string().min(1).max(1000).optional().describe('write-only; leave out to keep the stored one'),
    folders: z.array(z.string().min(1).max(200)).min(1).max(20).default(['INBOX']),
    scan: z.enum(['unread', 'all']).default('unread'),
    scanSince: z.iso.datetime().nullable().optional(),
    afterScan: z.enum(['none', 'mark_read', 'move']).default('mark_read'),
    moveTo: z.string().min(1).max(200).nullable().optional(),
    pollSeconds: z.number().int().min(30).max(86_400).default(60),
    enabled: z.boolean().default(true),
  })
  .superRefine((m, ctx) => {
    if (m.afterScan === 'move' && !m.moveTo)
      ctx.addIssue({ code: 'custom', path: ['moveTo'], message: 'say which folder to move scanned mail to' });
  });
export type MailboxInput = z.infer<typeof mailboxInputSchema>;

export function toMailbox(row: MailroomMailboxRow): Mailbox {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    port: row.port,
    tls: Boolean(row.tls),
    username: row.username,
    folders: JSON.parse(row.folders) as string[],
    scan: row.scan === 'all' ? 'all' : 'unread',
    scanSince: row.scan_since == null ? null : Number(row.scan_since),
    afterScan: row.after_scan as Mailbox['afterScan'],
    moveTo: row.move_to,
    pollSeconds: row.poll_seconds,
    enabled: Boolean(row.enabled),
    lastPolledAt: row.last_polled_at == null ? null : Number(row.last_polled_at),
    lastError: row.last_error,
    failures: Number(row.failures),
    nextPollAt: row.next_poll_at == null ? null : Number(row.next_poll_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** IMAP timeouts: short enough that a dead server shows up as an error on the mailbox, not a hung poll. */
const TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 10_000, socketTimeout: 60_000 };

interface Connectable {
  host: string;
  port: number;
  tls: boolean;
  username: string;
}

/** imapflow is loaded when a mailbox is first read: a server without mailboxes never pays for it (~15 MB, ~0.3 s). */
async function client(
  m: Connectable,
  password: string,
  extra: { maxIdleTime?: number } = {},
): Promise<ImapFlow> {
  const { ImapFlow } = await import('imapflow');
  const c = new ImapFlow({
    host: m.host,
    port: m.port,
    secure: m.tls,
    auth: { user: m.username, pass: password },
    logger: false,
    disableAutoIdle: true,
    ...TIMEOUTS,
    ...extra,
  });
  // a connection error after connect() resolved is reported through the operation that fails; never crash
  c.on('error', () => {});
  return c;
}

export type ConnectionStage = 'dns' | 'connect' | 'tls' | 'login' | 'folder' | 'ok';

export interface ConnectionCheck {
  ok: boolean;
  stage: ConnectionStage;
  message: string;
  folders?: string[];
}

/** The error in words an admin can act on, with the stage that failed; never the password. */
export function explainImapError(
  err: unknown,
  m: Connectable,
  password: string,
): { stage: ConnectionStage; message: string } {
  const e = err as { code?: string; message?: string; authenticationFailed?: boolean; responseText?: string };
  const raw = `${e.code ?? ''} ${e.message ?? ''} ${e.responseText ?? ''}`;
  const scrub = (s: string) => (password ? s.split(password).join('•••') : s);
  const where = `${m.host}:${m.port}`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return { stage: 'dns', message: `The host name ${m.host} does not resolve (DNS: ${e.code}).` };
  if (
    e.authenticationFailed ||
    /AUTHENTICATIONFAILED|authentication failed|LOGIN failed|Invalid credentials/i.test(raw)
  )
    return { stage: 'login', message: `The server at ${where} refused the login for ${m.username}.` };
  if (/ssl|tls|certificate|CERT_|wrong version number|EPROTO/i.test(raw))
    return {
      stage: 'tls',
      message: scrub(
        `TLS failed with ${where}: ${/wrong version number/i.test(raw) ? 'the server did not answer in TLS' : (e.message ?? e.code ?? '').split('\n')[0]!.slice(0, 200)}. Check the TLS setting and the port (993 for TLS, 143 for plain).`,
      ),
    };
  if (
    [
      'ECONNREFUSED',
      'ETIMEDOUT',
      'ECONNRESET',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ETIMEOUT',
      'NoConnection',
    ].includes(e.code ?? '') ||
    /timeout|closed/i.test(raw)
  )
    return { stage: 'connect', message: scrub(`Could not talk to ${where}: ${e.code ?? e.message}.`) };
  return { stage: 'connect', message: scrub(`${where}: ${e.message ?? String(err)}`).slice(0, 500) };
}

/** Connects, logs in and opens each folder: the first step that fails is the answer. */
export async function testConnection(
  m: Connectable & { folders: string[] },
  password: string,
): Promise<ConnectionCheck> {
  const c = await client(m, password);
  try {
    await c.connect();
  } catch (err) {
    return { ok: false, ...explainImapError(err, m, password) };
  }
  try {
    const list = await c.list();
    const names = list.map((f) => f.path);
    for (const folder of m.folders) {
      try {
        const lock = await c.getMailboxLock(folder, { readOnly: true });
        lock.release();
      } catch {
        return {
          ok: false,
          stage: 'folder',
          message: `There is no folder "${folder}" (the server has: ${names.join(', ')}).`,
          folders: names,
        };
      }
    }
    return {
      ok: true,
      stage: 'ok',
      message: `Connected to ${m.host}:${m.port} as ${m.username}; ${m.folders.join(', ')} can be read.`,
      folders: names,
    };
  } catch (err) {
    return { ok: false, ...explainImapError(err, m, password) };
  } finally {
    await c.logout().catch(() => c.close());
  }
}

export interface PollResult {
  fetched: number;
  claimed: number;
  duplicates: number;
  oversize: number;
}

/**
 * Leases: a mailbox is worked on by one process at a time, the one whose owner token is in its row. Each
 * process (each context) has one owner token, so its poller, its IDLE watcher and a "poll now" request
 * share the lease; within the process one poll of a mailbox runs at a time. The lease lasts
 * `config.mailroomLeaseMs` and is renewed while the process works (and while it idles on the mailbox);
 * every batch re-checks it in its own transaction, so a process that lost it stores nothing.
 */
interface LeaseState {
  owner: string;
  /** polls running in this process, by mailbox id */
  polling: Map<number, Promise<PollResult | null>>;
  /** mailboxes an IDLE watcher of this process holds: a poll leaves their lease in place */
  kept: Set<number>;
}
const leaseStates = new WeakMap<AppContext, LeaseState>();
function leaseState(ctx: AppContext): LeaseState {
  let st = leaseStates.get(ctx);
  if (!st) {
    st = { owner: `p-${randomToken(12)}`, polling: new Map(), kept: new Set() };
    leaseStates.set(ctx, st);
  }
  return st;
}
const leaseMs = (ctx: AppContext) => ctx.config.mailroomLeaseMs ?? 60_000;

/** Takes the mailbox's lease, or renews it when this process holds it; false when another process does. */
async function takeLease(ctx: AppContext, id: number): Promise<boolean> {
  const { owner } = leaseState(ctx);
  const now = ctx.clock.now();
  const res = await ctx.db.kysely
    .updateTable('mailroom_mailboxes')
    .set({ lease_owner: owner, lease_until: now + leaseMs(ctx) })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now), eb('lease_owner', '=', owner)]),
    )
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

async function releaseLease(ctx: AppContext, id: number): Promise<void> {
  await ctx.db.kysely
    .updateTable('mailroom_mailboxes')
    .set({ lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', leaseState(ctx).owner)
    .execute();
}

/** Thrown inside a batch's transaction when another process has taken the mailbox over: nothing is stored. */
class LeaseLost extends Error {
  constructor() {
    super('another process took the mailbox over');
  }
}
/** Admins hear about a mailbox after this many failed polls in a row (once per run of failures). */
export const NOTIFY_AFTER_FAILURES = 3;

async function notifyAdmins(ctx: AppContext, trx: Transaction<Database>, m: Mailbox, error: string) {
  const admins = await trx
    .selectFrom('users')
    .select(['email'])
    .where('is_admin', '=', 1)
    .where('status', '=', 'Active')
    .where('deleted_at', 'is', null)
    .execute();
  for (const a of admins.filter((x) => x.email))
    await enqueueMail(
      trx,
      {
        to: a.email,
        subject: `Rapport mailroom: mailbox "${m.name}" cannot be read`,
        text:
          `Rapport failed ${NOTIFY_AFTER_FAILURES} times in a row to read the mailbox "${m.name}" ` +
          `(${m.username} on ${m.host}:${m.port}).\n\nLast error: ${error}\n\n` +
          'Rapport keeps retrying with a growing pause. Check the mailbox in Settings → Mailroom → Mailboxes ' +
          '(Test connection says which step fails).\n',
      },
      ctx.config.mail.from,
      ctx.clock.now(),
    );
}
const BATCH = 50;

/**
 * Polls one mailbox, if no other process holds it (a lease row in the database). Per folder: new UIDs above
 * the stored progress; each batch of messages is stored together with the new progress in one transaction,
 * then processed; a UIDVALIDITY change resets the progress (messages already stored are found by their
 * dedup key and not processed again). Marking read / moving happens after the batch is stored.
 */
export function pollMailbox(ctx: AppContext, id: number): Promise<PollResult | null> {
  const st = leaseState(ctx);
  if (st.polling.has(id)) return Promise.resolve(null);
  const run = pollLeased(ctx, id).finally(() => st.polling.delete(id));
  st.polling.set(id, run);
  return run;
}

async function pollLeased(ctx: AppContext, id: number): Promise<PollResult | null> {
  const db = ctx.db.kysely;
  if (!(await takeLease(ctx, id))) return null;
  const row = await db
    .selectFrom('mailroom_mailboxes')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const m = toMailbox(row);
  const password = ctx.secrets.decrypt(row.password_sealed);
  const result: PollResult = { fetched: 0, claimed: 0, duplicates: 0, oversize: 0 };
  const c = await client(m, password);
  // renewed while the poll runs (a large folder can take longer than the lease)
  const heartbeat = setInterval(() => void takeLease(ctx, id).catch(() => {}), leaseMs(ctx) / 3);
  heartbeat.unref();
  try {
    await c.connect();
    // the folder scanned mail moves to is created when missing (an error here shows up on the move)
    if (m.afterScan === 'move' && m.moveTo && !(await c.list()).some((f) => f.path === m.moveTo))
      await c.mailboxCreate(m.moveTo);
    for (const folder of m.folders) await pollFolder(ctx, c, m, folder, result);
    if (!(await takeLease(ctx, id))) throw new LeaseLost();
    await db
      .updateTable('mailroom_mailboxes')
      .set({
        last_polled_at: ctx.clock.now(),
        last_error: null,
        failures: 0,
        next_poll_at: ctx.clock.now() + m.pollSeconds * 1000,
      })
      .where('id', '=', id)
      .execute();
    return result;
  } catch (err) {
    if (err instanceof LeaseLost) {
      ctx.logger.info({ mailbox: id }, `mailroom: mailbox ${m.name} is now polled by another process`);
      return null;
    }
    const { stage, message } = explainImapError(err, m, password);
    await recordFailure(ctx, m, stage, message);
    throw Object.assign(new Error(`${stage}: ${message}`), { stage });
  } finally {
    clearInterval(heartbeat);
    await c.logout().catch(() => c.close());
    if (!leaseState(ctx).kept.has(id)) await releaseLease(ctx, id);
  }
}

/** A failed poll or IDLE connection: the error on the mailbox, a growing pause, admins told on the third. */
async function recordFailure(ctx: AppContext, m: Mailbox, stage: string, message: string): Promise<void> {
  const db = ctx.db.kysely;
  const id = m.id;
  const current = await db
    .selectFrom('mailroom_mailboxes')
    .select('failures')
    .where('id', '=', id)
    .executeTakeFirst();
  const failures = Number(current?.failures ?? m.failures) + 1;
  // back off: the poll interval doubled per failure in a row, at most an hour
  const delay = Math.min(m.pollSeconds * 1000 * 2 ** Math.min(failures, 10), 3_600_000);
  await transaction(db, async (trx) => {
    await trx
      .updateTable('mailroom_mailboxes')
      .set({
        last_polled_at: ctx.clock.now(),
        last_error: `${stage}: ${message}`,
        failures,
        next_poll_at: ctx.clock.now() + delay,
      })
      .where('id', '=', id)
      .execute();
    if (failures === NOTIFY_AFTER_FAILURES) await notifyAdmins(ctx, trx, m, `${stage}: ${message}`);
  });
  if (failures === NOTIFY_AFTER_FAILURES) ctx.mailQueue.kick();
  ctx.logger.warn({ mailbox: id, stage, failures }, `mailroom: reading mailbox ${m.name} failed: ${message}`);
}

async function pollFolder(
  ctx: AppContext,
  c: ImapFlow,
  m: Mailbox,
  folder: string,
  result: PollResult,
): Promise<void> {
  const db = ctx.db.kysely;
  const lock = await c.getMailboxLock(folder);
  try {
    const box = c.mailbox;
    if (!box) return;
    const validity = String(box.uidValidity);
    const state = await db
      .selectFrom('mailroom_folder_state')
      .selectAll()
      .where('mailbox_id', '=', m.id)
      .where('folder', '=', folder)
      .executeTakeFirst();
    let lastUid = state && state.uid_validity === validity ? Number(state.last_uid) : 0;
    if (state && state.uid_validity !== validity)
      ctx.logger.info(
        { mailbox: m.id, folder },
        'mailroom: UIDVALIDITY changed; rescanning the folder (already stored mail is not processed again)',
      );
    // a process that died after storing a batch (progress committed) but before marking it read left those
    // messages unread below the progress: they are stored, so finishing the after-scan step is all they need
    if (m.afterScan === 'mark_read' && m.scan === 'unread' && lastUid > 0) {
      const left = await c.search({ uid: `1:${lastUid}`, seen: false }, { uid: true });
      if (left && left.length > 0) await c.messageFlagsAdd(left.join(','), ['\\Seen'], { uid: true });
    }
    const query: Record<string, unknown> = { uid: `${lastUid + 1}:*` };
    if (m.scan === 'unread') query.seen = false;
    if (m.scan === 'all' && m.scanSince) query.since = new Date(m.scanSince);
    const found = await c.search(query, { uid: true });
    const uids = (found || []).filter((u) => u > lastUid).sort((a, b) => a - b);
    for (let i = 0; i < uids.length; i += BATCH) {
      const batch = uids.slice(i, i + BATCH);
      const messages = await c.fetchAll(
        batch.join(','),
        { uid: true, size: true, envelope: true },
        { uid: true },
      );
      const small = messages.filter((x) => (x.size ?? 0) <= DEFAULT_MAX_MESSAGE_BYTES).map((x) => x.uid);
      const sources = new Map<number, Buffer>();
      if (small.length > 0)
        for (const x of await c.fetchAll(small.join(','), { uid: true, source: true }, { uid: true }))
          if (x.source) sources.set(x.uid, x.source);
      const claimedIds: number[] = [];
      const maxUid = Math.max(...batch);
      await transaction(db, async (trx) => {
        const now = ctx.clock.now();
        const held = await trx
          .updateTable('mailroom_mailboxes')
          .set({ lease_until: now + leaseMs(ctx) })
          .where('id', '=', m.id)
          .where('lease_owner', '=', leaseState(ctx).owner)
          .executeTakeFirst();
        if (Number(held.numUpdatedRows) !== 1) throw new LeaseLost();
        for (const x of messages.sort((a, b) => a.uid - b.uid)) {
          const source = { key: `mailbox:${m.id}`, mailboxId: m.id, folder, uid: x.uid };
          const raw = sources.get(x.uid);
          const claimed = raw
            ? await claimMessage(trx, raw, source, now)
            : await claimMessage(
                trx,
                oversizeStub(x.envelope?.messageId, x.uid, validity),
                source,
                now,
                DEFAULT_MAX_MESSAGE_BYTES,
                x.size ?? DEFAULT_MAX_MESSAGE_BYTES + 1,
              );
          if (!raw) result.oversize++;
          if (claimed.duplicate) result.duplicates++;
          else {
            result.claimed++;
            claimedIds.push(claimed.id);
          }
        }
        await trx
          .insertInto('mailroom_folder_state')
          .values({ mailbox_id: m.id, folder, uid_validity: validity, last_uid: maxUid, updated_at: now })
          .onConflict((oc) =>
            oc
              .columns(['mailbox_id', 'folder'])
              .doUpdateSet({ uid_validity: validity, last_uid: maxUid, updated_at: now }),
          )
          .execute();
      });
      lastUid = maxUid;
      result.fetched += messages.length;
      for (const id of claimedIds) await processMessage(ctx, id);
      if (m.afterScan === 'mark_read') await c.messageFlagsAdd(batch.join(','), ['\\Seen'], { uid: true });
      else if (m.afterScan === 'move' && m.moveTo)
        await c.messageMove(batch.join(','), m.moveTo, { uid: true });
    }
  } finally {
    lock.release();
  }
}

/** Stands in for a message over the size limit: its Message-ID (for dedup) and nothing else. */
function oversizeStub(messageId: string | undefined, uid: number, validity: string): Uint8Array {
  const id = normaliseMessageId(messageId) ?? `uid-${validity}-${uid}@oversize.invalid`;
  return Buffer.from(`Message-ID: <${id}>\r\n\r\n`);
}

/** How long one IDLE command runs before it is renewed (servers drop IDLE after 30 minutes, RFC 2177). */
const IDLE_RENEW_MS = 5 * 60_000;
/** Reconnect pauses after the IDLE connection failed or dropped: 2 s doubling up to 5 minutes. */
const idleBackoffMs = (attempt: number) => Math.min(1000 * 2 ** Math.min(attempt, 12), 5 * 60_000);

/**
 * Holds one IDLE connection on a mailbox's first folder while this process holds the mailbox's lease, so
 * new mail is polled within seconds instead of at the next poll interval. The poll itself is the ordinary
 * `pollMailbox` (its own connection, the same lease); polling at the interval goes on as the fallback.
 * A dropped or failed connection is shown on the mailbox (`last_error`, until the next good poll) and
 * reconnected with a growing pause. `ended` settles when the watcher stops: `reason` says why (stopped, lease lost to another
 * process, the server has no IDLE, the mailbox is gone or disabled).
 */
export class MailboxWatcher {
  private stopped = false;
  private conn: ImapFlow | null = null;
  private wake: (() => void) | null = null;
  private pollRun: Promise<void> | null = null;
  private pollAgain = false;
  private heartbeat: NodeJS.Timeout | null = null;
  reason: 'stopped' | 'lease' | 'no-idle' | 'gone' | 'error' | null = null;
  /** true while an IDLE command is running on the server */
  idling = false;
  readonly ended: Promise<void>;

  constructor(
    private readonly ctx: AppContext,
    readonly mailboxId: number,
  ) {
    this.ended = this.run().catch((err: unknown) => {
      this.reason ??= 'error';
      this.ctx.logger.warn(
        { mailbox: mailboxId, err: { message: (err as Error).message } },
        'mailroom: the IDLE watcher stopped on an error',
      );
    });
  }

  private end(reason: NonNullable<MailboxWatcher['reason']>) {
    if (!this.reason) this.reason = reason;
    this.stopped = true;
  }

  private async run(): Promise<void> {
    const { ctx, mailboxId: id } = this;
    const st = leaseState(ctx);
    if (!(await takeLease(ctx, id))) return this.end('lease');
    st.kept.add(id);
    this.heartbeat = setInterval(() => {
      takeLease(ctx, id).then(
        (held) => {
          if (!held) this.stop('lease');
        },
        () => {}, // the database is away: the lease lapses by itself if this lasts
      );
    }, leaseMs(ctx) / 3);
    this.heartbeat.unref();
    try {
      let attempt = 0;
      while (!this.stopped) {
        const row = await ctx.db.kysely
          .selectFrom('mailroom_mailboxes')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        if (!row?.enabled) return this.end('gone');
        const m = toMailbox(row);
        const password = ctx.secrets.decrypt(row.password_sealed);
        const folder = m.folders[0] ?? 'INBOX';
        const c = await client(m, password, { maxIdleTime: IDLE_RENEW_MS });
        this.conn = c;
        try {
          await c.connect();
          if (!c.capabilities.has('IDLE')) return this.end('no-idle');
          await c.mailboxOpen(folder, { readOnly: true });
          c.on('exists', (d: { count: number; prevCount: number }) => {
            if (d.count > d.prevCount) this.requestPoll();
          });
          attempt = 0;
          // whatever arrived while no connection was idling
          this.requestPoll();
          while (!this.stopped && c.usable) {
            this.idling = true;
            await c.idle();
            this.idling = false;
          }
          if (!this.stopped)
            throw Object.assign(new Error('the IDLE connection was closed'), { code: 'NoConnection' });
        } catch (err) {
          this.idling = false;
          if (this.stopped) break;
          attempt++;
          // shown on the mailbox; counting failures (backoff, the admins' email) is left to the polls, which
          // fail the same way when the server is really away
          const { stage, message } = explainImapError(err, m, password);
          await ctx.db.kysely
            .updateTable('mailroom_mailboxes')
            .set({ last_error: `idle ${stage}: ${message}` })
            .where('id', '=', id)
            .execute()
            .catch(() => {});
          ctx.logger.warn(
            { mailbox: id, stage, attempt },
            `mailroom: the IDLE connection to mailbox ${m.name} failed (reconnecting): ${message}`,
          );
          await this.sleep(idleBackoffMs(attempt));
        } finally {
          this.conn = null;
          await c.logout().catch(() => c.close());
        }
      }
    } finally {
      this.stopped = true;
      if (this.heartbeat) clearInterval(this.heartbeat);
      await this.pollRun;
      st.kept.delete(id);
      if (!st.polling.has(id) && this.reason !== 'lease') await releaseLease(ctx, id).catch(() => {});
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const t = setTimeout(resolve, ms);
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Polls now; a request while a poll runs makes one more poll after it (new mail is never left behind). */
  requestPoll(): void {
    if (this.stopped) return;
    if (this.pollRun) {
      this.pollAgain = true;
      return;
    }
    const st = leaseState(this.ctx);
    this.pollRun = (async () => {
      do {
        this.pollAgain = false;
        // a poll of this mailbox already running in this process (the interval, "poll now") may have
        // searched the folder before this mail arrived: wait for it, then poll again
        const busy = st.polling.get(this.mailboxId);
        if (busy) await busy.catch(() => {});
        const r = await pollMailbox(this.ctx, this.mailboxId).catch(() => undefined);
        if (r === null && st.polling.has(this.mailboxId)) this.pollAgain = true;
      } while (this.pollAgain && !this.stopped);
    })().finally(() => {
      this.pollRun = null;
    });
  }

  /** Stops idling and waits until the connection is closed and a running poll has finished. */
  async stop(reason: NonNullable<MailboxWatcher['reason']> = 'stopped'): Promise<void> {
    this.end(reason);
    this.wake?.();
    const c = this.conn;
    if (c) await c.logout().catch(() => c.close());
    await this.ended;
  }
}

/** mailboxes polled at once by a round of `MailroomRunner` */
const POLL_CONCURRENCY = 4;

/** Polls due mailboxes and picks up stored-but-unprocessed messages, every few seconds, in each replica. */
export class MailroomRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** IDLE watchers of this process, by mailbox id, with the mailbox version they were started for */
  private readonly watchers = new Map<number, { watcher: MailboxWatcher; updatedAt: number }>();
  /** mailboxes whose server has no IDLE (by the version checked): polled only */
  private readonly noIdle = new Map<number, number>();

  constructor(
    private readonly ctx: AppContext,
    private readonly intervalMs = 15_000,
    /** hold IDLE connections on the mailboxes this process leases */
    private readonly idle = true,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = (this.idle ? this.syncWatchers() : Promise.resolve())
        .then(() => this.tick())
        .catch((err: unknown) =>
          this.ctx.logger.warn({ err: { message: (err as Error).message } }, 'mailroom: a poll round failed'),
        )
        .finally(() => {
          this.running = null;
          if (!this.stopped) {
            this.timer = setTimeout(tick, this.intervalMs);
            this.timer.unref();
          }
        });
    };
    this.timer = setTimeout(tick, 1000);
    this.timer.unref();
  }

  /** The IDLE watcher of a mailbox, when this process holds one (tests, diagnostics). */
  watcherOf(id: number): MailboxWatcher | undefined {
    return this.watchers.get(id)?.watcher;
  }

  /**
   * Starts an IDLE watcher for each enabled mailbox whose lease is free (or ours), and stops those whose
   * mailbox was changed, disabled or deleted, or whose lease another process took.
   */
  async syncWatchers(): Promise<void> {
    const now = this.ctx.clock.now();
    const boxes = await this.ctx.db.kysely
      .selectFrom('mailroom_mailboxes')
      .select(['id', 'enabled', 'updated_at', 'lease_owner', 'lease_until'])
      .execute();
    const byId = new Map(boxes.map((b) => [b.id, b]));
    for (const [id, w] of this.watchers) {
      const b = byId.get(id);
      if (w.watcher.reason === 'no-idle') this.noIdle.set(id, w.updatedAt);
      if (!b?.enabled || Number(b.updated_at) !== w.updatedAt || w.watcher.reason) {
        this.watchers.delete(id);
        await w.watcher.stop();
      }
    }
    const owner = leaseState(this.ctx).owner;
    for (const b of boxes) {
      if (this.stopped) return;
      const updatedAt = Number(b.updated_at);
      if (!b.enabled || this.watchers.has(b.id) || this.noIdle.get(b.id) === updatedAt) continue;
      const free = b.lease_until == null || Number(b.lease_until) < now || b.lease_owner === owner;
      if (!free) continue;
      this.watchers.set(b.id, { watcher: new MailboxWatcher(this.ctx, b.id), updatedAt });
    }
  }

  async tick(): Promise<void> {
    const now = this.ctx.clock.now();
    const due = await this.ctx.db.kysely
      .selectFrom('mailroom_mailboxes')
      .select('id')
      .where('enabled', '=', 1)
      .where((eb) => eb.or([eb('next_poll_at', 'is', null), eb('next_poll_at', '<=', now)]))
      .orderBy('id')
      .execute();
    // a few at a time: a server that hangs holds up one of them until its timeout (up to a minute), not
    // every mailbox after it in the round
    const waiting = due.map((b) => b.id);
    await Promise.all(
      Array.from({ length: Math.min(POLL_CONCURRENCY, waiting.length) }, async () => {
        for (let id = waiting.shift(); id !== undefined && !this.stopped; id = waiting.shift())
          await pollMailbox(this.ctx, id).catch(() => {});
      }),
    );
    if (this.stopped) return;
    await processBacklog(this.ctx);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    const watchers = [...this.watchers.values()].map((w) => w.watcher.stop());
    this.watchers.clear();
    await Promise.all(watchers);
  }
}
