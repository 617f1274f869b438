import type { Transaction } from 'kysely';
import type { AuditActor } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import type { Database } from '../db/schema.js';
import type { EventSubscriber } from '../events/event-bus.js';
import { AppError } from '../http/errors.js';
import { randomToken } from '../platform/crypto.js';
import type { FieldValue } from '../records/field-coerce.js';
import { moduleMetaFor } from '../records/module-meta.js';
import { createRecord, updateRecord } from '../records/record.service.js';
import type { RecordWriter } from '../records/record-change.model.js';
import { listRecords } from '../records/record-list.service.js';
import type { PresentedRecord } from '../records/record-presenter.js';
import type { Principal } from '../roles/permissions.js';
import { principalFor } from '../roles/principal.js';
import { findUserById } from '../users/user.repository.js';
import { applyAutofill, type Dropped } from './autofill.js';
import { dedupKeyOf, type ParsedMail, parseMail } from './mail-parse.js';
import { mailroomError } from './mailroom.errors.js';
import { listRules, type MailroomRule } from './mailroom.rules.js';
import type { MailroomMessageRow } from './mailroom.table.js';
import { RegexTimeout, ruleMatches, ticketNumberIn } from './rule-engine.js';

/** Messages larger than this are logged (without their bytes) and not processed. */
export const DEFAULT_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/** How long one process may work on one message before another may take it over: twice the mailbox lease. */
const messageLeaseMs = (ctx: AppContext) => 2 * (ctx.config.mailroomLeaseMs ?? 60_000);

export type MessageStatus = 'received' | 'processed' | 'no_match' | 'skipped' | 'failed';

export interface MessageSource {
  /** `intake` or `mailbox:<id>`: messages are unique per source */
  key: string;
  mailboxId?: number | null;
  folder?: string | null;
  uid?: number | null;
}

export interface Claimed {
  id: number;
  duplicate: boolean;
}

type Trx = Transaction<Database>;

/** Reads just enough of a raw message to log and dedup it; a message postal-mime cannot read is kept too. */
async function headerFacts(raw: Uint8Array): Promise<{ mail: ParsedMail | null; error: string | null }> {
  try {
    return { mail: await parseMail(raw), error: null };
  } catch (err) {
    return { mail: null, error: `the message could not be parsed: ${(err as Error).message}` };
  }
}

/**
 * Stores a message once per source: a second copy (IMAP re-delivery, two aliases, a second replica) finds
 * the first by its dedup key and is reported as a duplicate. Call with the transaction that also advances
 * the IMAP progress, so both commit or neither.
 */
export async function claimMessage(
  trx: Trx,
  raw: Uint8Array,
  source: MessageSource,
  now: number,
  maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
  /** the size the server reported, when `raw` stands in for a message that was not fetched */
  declaredSize = raw.byteLength,
): Promise<Claimed> {
  const tooLarge = declaredSize > maxBytes;
  const { mail, error } = tooLarge ? { mail: null, error: null } : await headerFacts(raw);
  const dedupKey = mail?.dedupKey ?? dedupKeyOf(null, raw);
  const inserted = await trx
    .insertInto('mailroom_messages')
    .values({
      source_key: source.key,
      mailbox_id: source.mailboxId ?? null,
      folder: source.folder ?? null,
      uid: source.uid ?? null,
      dedup_key: dedupKey,
      message_id: mail?.messageId ?? null,
      from_address: mail?.from?.address ?? null,
      from_name: mail?.from?.name || null,
      subject: mail ? mail.subject.slice(0, 1000) : null,
      sent_at: mail?.sentAt ?? null,
      received_at: now,
      size: declaredSize,
      raw: tooLarge ? null : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
      status: tooLarge || error ? 'failed' : 'received',
      reason: tooLarge
        ? `the message is ${declaredSize} bytes, over the mailroom's limit of ${maxBytes} bytes`
        : error,
    })
    .onConflict((oc) => oc.columns(['source_key', 'dedup_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, duplicate: false };
  const existing = await trx
    .selectFrom('mailroom_messages')
    .select('id')
    .where('source_key', '=', source.key)
    .where('dedup_key', '=', dedupKey)
    .executeTakeFirstOrThrow();
  return { id: existing.id, duplicate: true };
}

/** What processing one message decided; written to its log row. */
interface Outcome {
  status: MessageStatus;
  reason?: string | null;
  rule?: MailroomRule | null;
  action?: string | null;
  module?: string | null;
  recordId?: number | null;
  autofilled?: Record<string, FieldValue> | null;
  dropped?: Dropped[] | null;
  summary?: string | null;
}

function outcomeColumns(o: Outcome, now: number) {
  return {
    status: o.status,
    reason: o.reason ?? null,
    rule_id: o.rule?.id ?? null,
    rule_name: o.rule?.name ?? null,
    action: o.action ?? null,
    module: o.module ?? null,
    record_id: o.recordId ?? null,
    autofilled: o.autofilled ? JSON.stringify(o.autofilled) : null,
    dropped: o.dropped && o.dropped.length > 0 ? JSON.stringify(o.dropped) : null,
    summary: o.summary ?? null,
    lease_owner: null,
    lease_until: null,
    processed_at: now,
  };
}

/** Finishes a message: only while this process still holds its lease; false when another took it over. */
async function finish(
  db: Trx | AppContext['db']['kysely'],
  id: number,
  token: string,
  o: Outcome,
  now: number,
) {
  const res = await db
    .updateTable('mailroom_messages')
    .set(outcomeColumns(o, now))
    .where('id', '=', id)
    .where('lease_owner', '=', token)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Messages whose record write is under way, by the request id of the write's actor. The event subscriber
 * below writes the message's outcome inside the record's transaction: the record and "this message is
 * done" commit together, so a crash between them cannot create the record twice.
 */
const pending = new Map<string, { id: number; token: string; outcome: Outcome }>();

export const mailroomEventSubscriber: EventSubscriber = {
  name: 'mailroom',
  async inTransaction(uow, events) {
    const requestId = uow.actor.requestId;
    if (!requestId?.startsWith('mailroom:')) return;
    const p = pending.get(requestId);
    if (!p) return;
    pending.delete(requestId);
    const recordId = events.find((e) => e.type.startsWith('record.'))?.recordId ?? p.outcome.recordId;
    const done = await finish(uow.trx, p.id, p.token, { ...p.outcome, recordId }, uow.now);
    if (!done)
      throw mailroomError(
        'MAILROOM_LEASE_LOST',
        'Another process took this message over; this write was rolled back.',
      );
  },
};

interface RuleContext {
  ctx: AppContext;
  mail: ParsedMail;
  rule: MailroomRule;
  writer: RecordWriter;
  principal: Principal;
  messageRowId: number;
  token: string;
  summary: string;
}

/** What a rule's action did: null when it produced no record (the next rule is tried). */
type ActionResult =
  | null
  | { wrote: true; action: string; module: string; record: PresentedRecord; extra?: Partial<Outcome> }
  | { wrote: false; action: string; module: string; recordId: number; extra?: Partial<Outcome> };

const EMAIL_FIELDS: Record<string, string[]> = {
  Contacts: ['email', 'secondaryemail'],
  Leads: ['email', 'secondaryemail'],
  Accounts: ['email1', 'email2'],
};
const LINK_MODULES = ['Contacts', 'Leads', 'Accounts'] as const;

async function findByEmail(ctx: AppContext, p: Principal, module: string, address: string) {
  for (const field of EMAIL_FIELDS[module] ?? []) {
    const page = await listRecords(ctx, p, module, {
      filter: { field, op: 'eq', value: address },
      sort: 'id',
      limit: 1,
    }).catch((err: unknown) => {
      // a field the rule's user may not see or filter on, or an address no email field can hold (8-bit
      // bytes, a broken header): no record has it, so the next field, module or rule is tried
      if (err instanceof AppError && (err.status === 403 || err.code === 'FILTER_INVALID'))
        return { items: [] };
      throw err;
    });
    if (page.items[0]) return page.items[0];
  }
  return undefined;
}

/** The message body without the quoted reply below it ("On … wrote:", "> " lines, forwarded headers). */
export function withoutQuotedReply(body: string): string {
  const lines = body.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    if (/^On .{1,200} wrote:\s*$/.test(line) || /^-{2,}\s*Original Message\s*-{2,}/i.test(line)) break;
    if (line.startsWith('>')) continue;
    out.push(line);
  }
  return out.join('\n').trim();
}

function nameParts(mail: ParsedMail): { firstname: string | null; lastname: string } {
  const name = mail.from?.name.replace(/["']/g, '').trim() ?? '';
  if (name.includes(',')) {
    const [last, first] = name.split(',', 2).map((s) => s.trim());
    if (last) return { firstname: first || null, lastname: last };
  }
  const words = name.split(/\s+/).filter(Boolean);
  if (words.length >= 2) return { firstname: words[0]!, lastname: words.slice(1).join(' ') };
  if (words.length === 1) return { firstname: null, lastname: words[0]! };
  return { firstname: null, lastname: mail.from?.address.split('@')[0] ?? 'Unknown' };
}

const domainOf = (mail: ParsedMail) => mail.from?.address.split('@')[1] ?? null;
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

async function defaultsFor(rc: RuleContext, module: string): Promise<Record<string, FieldValue>> {
  const { mail } = rc;
  const description = clip(withoutQuotedReply(mail.body), 65_535) || null;
  const subject = clip(mail.subject || '(no subject)', 255);
  const sender = mail.from?.address ?? null;
  switch (module) {
    case 'Contacts':
    case 'Leads': {
      const n = nameParts(mail);
      return {
        firstname: n.firstname ? clip(n.firstname, 255) : null,
        lastname: clip(n.lastname, 255),
        email: sender,
        description,
        ...(module === 'Leads' ? { company: clip(domainOf(mail) ?? 'Unknown', 255) } : {}),
      };
    }
    case 'Accounts':
      return {
        accountname: clip(mail.from?.name || domainOf(mail) || 'Unknown', 255),
        email1: sender,
        description,
      };
    case 'Potentials': {
      const meta = await moduleMetaFor(rc.ctx, 'Potentials');
      const stage = meta.fieldMap.get('sales_stage')?.picklistValues?.[0] ?? null;
      const close = new Date(rc.ctx.clock.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      const contact = sender ? await findByEmail(rc.ctx, rc.principal, 'Contacts', sender) : undefined;
      return {
        potentialname: subject,
        closingdate: close,
        sales_stage: stage,
        description,
        ...(contact ? { contact_id: contact.id } : {}),
      };
    }
    case 'HelpDesk': {
      const contact = sender ? await findByEmail(rc.ctx, rc.principal, 'Contacts', sender) : undefined;
      return {
        ticket_title: subject,
        ticketstatus: 'Open',
        description,
        ...(contact
          ? { contact_id: contact.id, parent_id: (contact.fields.account_id as number) ?? null }
          : {}),
      };
    }
    default:
      return { description };
  }
}

/** Runs `write` as the record write that also finishes the message (see `pending`). */
async function writeFinishing<T>(rc: RuleContext, outcome: Outcome, write: () => Promise<T>): Promise<T> {
  const requestId = rc.writer.actor.requestId!;
  pending.set(requestId, { id: rc.messageRowId, token: rc.token, outcome });
  try {
    return await write();
  } finally {
    pending.delete(requestId);
  }
}

async function linkTarget(rc: RuleContext): Promise<{ module: string; id: number } | null> {
  const { mail } = rc;
  const addresses = [...(mail.from ? [mail.from.address] : []), ...mail.to];
  for (const address of addresses)
    for (const module of LINK_MODULES) {
      const hit = await findByEmail(rc.ctx, rc.principal, module, address);
      if (hit) return { module, id: hit.id };
    }
  return null;
}

async function runAction(rc: RuleContext, base: Outcome): Promise<ActionResult> {
  const { ctx, mail, rule } = rc;
  switch (rule.action) {
    case 'link': {
      const target = await linkTarget(rc);
      return target ? { wrote: false, action: 'link', module: target.module, recordId: target.id } : null;
    }
    case 'update_ticket': {
      const number = ticketNumberIn(mail.subject);
      if (!number) return null;
      const page = await listRecords(ctx, rc.principal, 'HelpDesk', {
        filter: { field: 'ticket_no', op: 'eq', value: number },
        limit: 1,
      });
      const ticket = page.items[0];
      if (!ticket) return null;
      if (ticket.fields.ticketstatus !== 'Closed')
        return { wrote: false, action: 'update_ticket', module: 'HelpDesk', recordId: ticket.id };
      const outcome: Outcome = { ...base, action: 'update_ticket', module: 'HelpDesk', recordId: ticket.id };
      const record = await writeFinishing(rc, outcome, () =>
        updateRecord(ctx, rc.writer, 'HelpDesk', ticket.id, { ticketstatus: 'Open' }, { mode: 'partial' }),
      );
      return { wrote: true, action: 'update_ticket', module: 'HelpDesk', record };
    }
    case 'create': {
      const module = rule.module ?? 'Contacts';
      const meta = await moduleMetaFor(ctx, module);
      // Vtiger: a known sender becomes a link, unless the rule reads its fields from the body (a web form's
      // notification comes from the form, not from the person)
      if (!rule.autofill && mail.from && EMAIL_FIELDS[module]) {
        const known = await findByEmail(ctx, rc.principal, module, mail.from.address);
        if (known) return { wrote: false, action: 'link', module, recordId: known.id };
      }
      const filled = rule.autofill
        ? applyAutofill(mail, rule.autofill, meta.fieldMap)
        : { values: {}, dropped: [] as Dropped[] };
      const input: Record<string, FieldValue> = { ...(await defaultsFor(rc, module)), ...filled.values };
      for (const [k, v] of Object.entries(input)) if (v === null || !meta.fieldMap.has(k)) delete input[k];
      const outcome: Outcome = {
        ...base,
        action: 'create',
        module,
        autofilled: filled.values,
        dropped: filled.dropped,
      };
      const record = await writeFinishing(rc, outcome, () => createRecord(ctx, rc.writer, module, input));
      return {
        wrote: true,
        action: 'create',
        module,
        record,
        extra: { autofilled: filled.values, dropped: filled.dropped },
      };
    }
  }
}

/** The email as records show it: headers, text and the list of attachments (never their content). */
function summaryOf(mail: ParsedMail): string {
  return JSON.stringify({
    from: mail.from,
    to: mail.to,
    cc: mail.cc,
    subject: mail.subject,
    date: mail.sentAt,
    messageId: mail.messageId,
    text: clip(mail.body, 65_536),
    attachments: mail.attachments,
  });
}

const STATUSES_TO_PROCESS: Record<'new' | 'rerun', MessageStatus[]> = {
  new: ['received'],
  rerun: ['received', 'no_match', 'failed'],
};

export interface ProcessResult {
  id: number;
  status: MessageStatus | 'busy';
  recordId: number | null;
}

/**
 * Processes one stored message: loop filter, then each enabled rule in order; the first rule whose action
 * produces a record wins. Every failure is written to the message's log row; nothing here throws for a bad
 * message. Only one process works on a message at a time (a lease on its row).
 */
export async function processMessage(
  ctx: AppContext,
  id: number,
  mode: 'new' | 'rerun' = 'new',
): Promise<ProcessResult> {
  const db = ctx.db.kysely;
  const token = randomToken(12);
  const now = ctx.clock.now();
  const leased = await db
    .updateTable('mailroom_messages')
    .set((eb) => ({
      lease_owner: token,
      lease_until: now + messageLeaseMs(ctx),
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', '=', id)
    .where('status', 'in', STATUSES_TO_PROCESS[mode])
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .executeTakeFirst();
  if (Number(leased.numUpdatedRows) !== 1) {
    const row = await db
      .selectFrom('mailroom_messages')
      .select(['status', 'record_id'])
      .where('id', '=', id)
      .executeTakeFirst();
    return { id, status: row ? 'busy' : 'failed', recordId: row?.record_id ?? null };
  }
  const row = await db
    .selectFrom('mailroom_messages')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  let outcome: Outcome;
  try {
    outcome = await decide(ctx, row, token);
  } catch (err) {
    outcome = { status: 'failed', reason: reasonOf(err) };
    if (!(err instanceof AppError) && !(err instanceof RegexTimeout))
      ctx.logger.warn(
        { messageRow: id, err: { message: (err as Error).message } },
        'mailroom: a message failed',
      );
  }
  if (outcome.action !== 'written') await finish(db, id, token, outcome, ctx.clock.now());
  const final = await db
    .selectFrom('mailroom_messages')
    .select(['status', 'record_id'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { id, status: final.status as MessageStatus, recordId: final.record_id };
}

function reasonOf(err: unknown): string {
  if (err instanceof AppError) {
    const field = err.details?.field ? ` (field ${String(err.details.field)})` : '';
    return `${err.code}: ${err.message}${field}`;
  }
  return (err as Error).message ?? String(err);
}

/** Decides and performs a message's outcome. Returns action 'written' when the write already finished it. */
async function decide(ctx: AppContext, row: MailroomMessageRow, token: string): Promise<Outcome> {
  if (!row.raw) return { status: 'failed', reason: row.reason ?? 'the message bytes were not kept' };
  const mail = await parseMail(row.raw);
  const summary = summaryOf(mail);
  if (mail.loopReason)
    return { status: 'skipped', reason: `not turned into a record: ${mail.loopReason}`, summary };
  const rules = (await listRules(ctx.db.kysely)).filter((r) => r.enabled);
  const notes: string[] = [];
  for (const rule of rules) {
    if (!ruleMatches(mail, rule.matchMode, rule.conditions)) continue;
    const user = await findUserById(ctx.db.kysely, rule.assignedUserId);
    if (!user || user.deletedAt !== null || user.status !== 'Active') {
      notes.push(`rule "${rule.name}": its user is not active`);
      continue;
    }
    const principal = await principalFor(ctx, user);
    const actor: AuditActor = {
      userId: user.id,
      username: user.username,
      ip: null,
      userAgent: 'rapport-mailroom',
      requestId: `mailroom:${token}`,
    };
    const source = `Mailroom rule "${rule.name}" (${row.message_id ? `message ${row.message_id}` : `message #${row.id}`})`;
    const rc: RuleContext = {
      ctx,
      mail,
      rule,
      principal,
      writer: { principal, actor, channel: 'mailroom', source: clip(source, 500) },
      messageRowId: row.id,
      token,
      summary,
    };
    const base: Outcome = { status: 'processed', rule, summary };
    const result = await runAction(rc, base);
    if (!result) {
      notes.push(
        `rule "${rule.name}" matched but found no record to ${rule.action === 'link' ? 'link to' : 'update'}`,
      );
      continue;
    }
    if (result.wrote) return { ...base, action: 'written', recordId: result.record.id };
    return {
      ...base,
      action: result.action,
      module: result.module,
      recordId: result.recordId,
      ...result.extra,
    };
  }
  return {
    status: 'no_match',
    reason:
      notes.length > 0
        ? notes.join('; ')
        : rules.length === 0
          ? 'there are no enabled rules'
          : 'no rule matched',
    summary,
  };
}

/** Receives one raw message from a source and processes it at once (the intake endpoint, tests, the poller). */
export async function receiveMessage(
  ctx: AppContext,
  raw: Uint8Array,
  source: MessageSource,
  maxBytes = DEFAULT_MAX_MESSAGE_BYTES,
): Promise<ProcessResult & { duplicate: boolean }> {
  const claimed = await transaction(ctx.db.kysely, (trx) =>
    claimMessage(trx, raw, source, ctx.clock.now(), maxBytes),
  );
  if (claimed.duplicate) {
    const row = await ctx.db.kysely
      .selectFrom('mailroom_messages')
      .select(['status', 'record_id'])
      .where('id', '=', claimed.id)
      .executeTakeFirstOrThrow();
    return { id: claimed.id, status: row.status as MessageStatus, recordId: row.record_id, duplicate: true };
  }
  try {
    return { ...(await processMessage(ctx, claimed.id)), duplicate: false };
  } catch (err) {
    // the message is stored (committed above): the runner's backlog round processes it later, so the
    // sender must not send it again (an MTA would, after a temporary failure)
    ctx.logger.warn(
      { messageRow: claimed.id, err: { message: (err as Error).message } },
      'mailroom: a stored message could not be processed now; it is retried in the background',
    );
    return { id: claimed.id, status: 'received', recordId: null, duplicate: false };
  }
}

/** Picks up messages left `received` (a crash after intake, a restart mid-batch) and processes them. */
export async function processBacklog(ctx: AppContext, limit = 100): Promise<number> {
  const now = ctx.clock.now();
  const rows = await ctx.db.kysely
    .selectFrom('mailroom_messages')
    .select('id')
    .where('status', '=', 'received')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('id')
    .limit(limit)
    .execute();
  for (const r of rows) await processMessage(ctx, r.id);
  return rows.length;
}

export function rerunMessage(ctx: AppContext, id: number): Promise<ProcessResult> {
  return processMessage(ctx, id, 'rerun');
}

export { pending as _pendingForTests };
