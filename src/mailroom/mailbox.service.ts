import { ImapFlow } from 'imapflow';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { AppContext } from '../context.js';
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

function client(m: Connectable, password: string): ImapFlow {
  const c = new ImapFlow({
    host: m.host,
    port: m.port,
    secure: m.tls,
    auth: { user: m.username, pass: password },
    logger: false,
    disableAutoIdle: true,
    ...TIMEOUTS,
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
  const c = client(m, password);
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

const LEASE_MS = 10 * 60_000;
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
export async function pollMailbox(ctx: AppContext, id: number): Promise<PollResult | null> {
  const db = ctx.db.kysely;
  const token = randomToken(12);
  const now = ctx.clock.now();
  const leased = await db
    .updateTable('mailroom_mailboxes')
    .set({ lease_owner: token, lease_until: now + LEASE_MS })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .executeTakeFirst();
  if (Number(leased.numUpdatedRows) !== 1) return null;
  const row = await db
    .selectFrom('mailroom_mailboxes')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const m = toMailbox(row);
  const password = ctx.secrets.decrypt(row.password_sealed);
  const result: PollResult = { fetched: 0, claimed: 0, duplicates: 0, oversize: 0 };
  const c = client(m, password);
  try {
    await c.connect();
    // the folder scanned mail moves to is created when missing (an error here shows up on the move)
    if (m.afterScan === 'move' && m.moveTo && !(await c.list()).some((f) => f.path === m.moveTo))
      await c.mailboxCreate(m.moveTo);
    for (const folder of m.folders) await pollFolder(ctx, c, m, folder, result);
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
    const { stage, message } = explainImapError(err, m, password);
    const failures = m.failures + 1;
    // back off: the poll interval doubled per failure in a row, at most an hour
    const delay = Math.min(m.pollSeconds * 1000 * 2 ** Math.min(failures, 10), 3_600_000);
    await db.transaction().execute(async (trx) => {
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
    ctx.logger.warn(
      { mailbox: id, stage, failures },
      `mailroom: polling mailbox ${m.name} failed: ${message}`,
    );
    throw Object.assign(new Error(`${stage}: ${message}`), { stage });
  } finally {
    await c.logout().catch(() => c.close());
    await db
      .updateTable('mailroom_mailboxes')
      .set({ lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('lease_owner', '=', token)
      .execute();
  }
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
      await db.transaction().execute(async (trx) => {
        const now = ctx.clock.now();
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

/** Polls due mailboxes and picks up stored-but-unprocessed messages, every few seconds, in each replica. */
export class MailroomRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly intervalMs = 15_000,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((err: unknown) =>
          this.ctx.logger.warn({ err: { message: (err as Error).message } }, 'mailroom: a poll round failed'),
        )
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 1000);
    this.timer.unref();
  }

  async tick(): Promise<void> {
    const now = this.ctx.clock.now();
    const due = await this.ctx.db.kysely
      .selectFrom('mailroom_mailboxes')
      .select('id')
      .where('enabled', '=', 1)
      .where((eb) => eb.or([eb('next_poll_at', 'is', null), eb('next_poll_at', '<=', now)]))
      .execute();
    for (const { id } of due) {
      if (this.stopped) return;
      await pollMailbox(this.ctx, id).catch(() => {});
    }
    await processBacklog(this.ctx);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
