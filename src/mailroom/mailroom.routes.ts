import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import { redactStrings } from '../masking/mask-redact.js';
import { moduleMetaFor } from '../records/module-meta.js';
import { getRecordWithRedactor } from '../records/record-read.service.js';
import { principalFor } from '../roles/principal.js';
import { findUserById } from '../users/user.repository.js';
import { DELIMITERS, isAutofillTarget, sampleLabels, VIRTUAL_LABELS } from './autofill.js';
import { mailboxRoutes } from './mailbox.routes.js';
import { mailroomError } from './mailroom.errors.js';
import {
  CREATE_MODULES,
  findRule,
  listRules,
  type MailroomRule,
  type RuleInput,
  ruleInputSchema,
} from './mailroom.rules.js';
import { DEFAULT_MAX_MESSAGE_BYTES, receiveMessage, rerunMessage } from './mailroom.service.js';
import type { MailroomMessageRow } from './mailroom.table.js';

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());

const ruleSchema = ruleInputSchema
  .extend({
    id: z.number(),
    position: z.number(),
    module: z.string().nullable(),
    autofill: ruleInputSchema.shape.autofill.unwrap().unwrap().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MailroomRule' });

const presentRule = (r: MailroomRule) => ({
  ...r,
  createdAt: iso(r.createdAt)!,
  updatedAt: iso(r.updatedAt)!,
});

const messageSchema = z
  .object({
    id: z.number(),
    source: z.string().describe('`intake` or `mailbox:<id>`'),
    mailboxId: z.number().nullable(),
    folder: z.string().nullable(),
    uid: z.number().nullable(),
    messageId: z.string().nullable(),
    from: z.string().nullable(),
    fromName: z.string().nullable(),
    subject: z.string().nullable(),
    sentAt: z.string().nullable(),
    receivedAt: z.string(),
    size: z.number(),
    status: z.enum(['received', 'processed', 'no_match', 'skipped', 'failed']),
    reason: z.string().nullable(),
    ruleId: z.number().nullable(),
    ruleName: z.string().nullable(),
    action: z.string().nullable(),
    module: z.string().nullable(),
    recordId: z.number().nullable(),
    autofilled: z.record(z.string(), z.unknown()).nullable(),
    dropped: z
      .array(z.object({ label: z.string(), field: z.string(), value: z.string(), reason: z.string() }))
      .nullable(),
    attempts: z.number(),
    processedAt: z.string().nullable(),
    rerunnable: z.boolean(),
  })
  .meta({ id: 'MailroomMessage' });

const emailSchema = z
  .object({
    from: z.object({ address: z.string(), name: z.string() }).nullable(),
    to: z.array(z.string()),
    cc: z.array(z.string()),
    subject: z.string(),
    date: z.number().nullable(),
    messageId: z.string().nullable(),
    text: z.string(),
    attachments: z.array(z.object({ filename: z.string(), mimeType: z.string(), size: z.number() })),
  })
  .meta({ id: 'MailroomEmail' });

type MessageListRow = Omit<
  MailroomMessageRow,
  'raw' | 'summary' | 'lease_owner' | 'lease_until' | 'dedup_key'
> & {
  raw_kept: number;
};

function presentMessage(m: MessageListRow) {
  return {
    id: m.id,
    source: m.source_key,
    mailboxId: m.mailbox_id,
    folder: m.folder,
    uid: m.uid == null ? null : Number(m.uid),
    messageId: m.message_id,
    from: m.from_address,
    fromName: m.from_name,
    subject: m.subject,
    sentAt: iso(m.sent_at),
    receivedAt: iso(m.received_at)!,
    size: Number(m.size),
    status: m.status as 'received' | 'processed' | 'no_match' | 'skipped' | 'failed',
    reason: m.reason,
    ruleId: m.rule_id,
    ruleName: m.rule_name,
    action: m.action,
    module: m.module,
    recordId: m.record_id,
    autofilled: m.autofilled ? JSON.parse(m.autofilled) : null,
    dropped: m.dropped ? JSON.parse(m.dropped) : null,
    attempts: Number(m.attempts),
    processedAt: iso(m.processed_at),
    rerunnable: ['no_match', 'failed', 'received'].includes(m.status) && m.raw_kept === 1,
  };
}

const LIST_COLUMNS = [
  'id',
  'source_key',
  'mailbox_id',
  'folder',
  'uid',
  'message_id',
  'from_address',
  'from_name',
  'subject',
  'sent_at',
  'received_at',
  'size',
  'status',
  'reason',
  'rule_id',
  'rule_name',
  'action',
  'module',
  'record_id',
  'autofilled',
  'dropped',
  'attempts',
  'processed_at',
] as const;

const idParam = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });

export async function mailroomRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Mailroom'];
  const admin = { access: 'admin' as const };
  await mailboxRoutes(app, ctx);

  /** Checks what the schema cannot: the user exists and is active, the module and mapped fields exist. */
  async function checkRule(input: RuleInput): Promise<void> {
    const user = await findUserById(db, input.assignedUserId);
    if (!user || user.deletedAt !== null || user.status !== 'Active')
      throw mailroomError('MAILROOM_RULE_INVALID', 'The assigned user must be an active user.', {
        details: { field: 'assignedUserId' },
      });
    if (input.action === 'create' && !input.module)
      throw mailroomError('MAILROOM_RULE_INVALID', 'A create rule needs the module to create records in.', {
        details: { field: 'module' },
      });
    if (input.autofill) {
      if (input.action !== 'create')
        throw mailroomError('MAILROOM_RULE_INVALID', 'Autofill applies to create rules only.', {
          details: { field: 'autofill' },
        });
      const meta = await moduleMetaFor(ctx, input.module!);
      const seen = new Set<string>();
      for (const m of input.autofill.mappings) {
        const f = meta.fieldMap.get(m.field);
        if (!f || !isAutofillTarget(f))
          throw mailroomError(
            'MAILROOM_RULE_INVALID',
            `${m.field} is not a field autofill can set in ${meta.label}.`,
            {
              details: { field: 'autofill.mappings' },
            },
          );
        if (seen.has(m.field))
          throw mailroomError(
            'MAILROOM_RULE_INVALID',
            `One field cannot take values from two labels (${f.label}).`,
            {
              details: { field: 'autofill.mappings' },
            },
          );
        seen.add(m.field);
      }
    }
  }

  const ruleColumns = (input: RuleInput, now: number) => ({
    name: input.name,
    enabled: input.enabled ? 1 : 0,
    match_mode: input.matchMode,
    conditions: JSON.stringify(input.conditions),
    action: input.action,
    module: input.action === 'create' ? (input.module ?? null) : null,
    assigned_user_id: input.assignedUserId,
    autofill: input.autofill && input.action === 'create' ? JSON.stringify(input.autofill) : null,
    updated_at: now,
  });

  r.get(
    '/mailroom/rules',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Mailroom rules in the order they are tried',
        response: { 200: z.object({ items: z.array(ruleSchema) }) },
      },
    },
    async () => ({ items: (await listRules(db)).map(presentRule) }),
  );

  r.post(
    '/mailroom/rules',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Add a rule (tried after the existing ones)',
        body: ruleInputSchema,
        response: { 201: ruleSchema },
      },
    },
    async (req, reply) => {
      await checkRule(req.body);
      const now = ctx.clock.now();
      const id = await transaction(db, async (trx) => {
        const last = await trx
          .selectFrom('mailroom_rules')
          .select((eb) => eb.fn.max('position').as('p'))
          .executeTakeFirst();
        const row = await trx
          .insertInto('mailroom_rules')
          .values({ ...ruleColumns(req.body, now), position: Number(last?.p ?? 0) + 1, created_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'mailroom.rule_created',
            target: { type: 'mailroom_rule', id: row.id },
            details: { name: req.body.name, action: req.body.action, module: req.body.module ?? null },
          },
          now,
        );
        return row.id;
      });
      return reply.code(201).send(presentRule((await findRule(db, id))!));
    },
  );

  r.put(
    '/mailroom/rules/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Replace a rule',
        params: idParam,
        body: ruleInputSchema,
        response: { 200: ruleSchema },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!(await findRule(db, id)))
        throw mailroomError('MAILROOM_RULE_NOT_FOUND', `There is no mailroom rule ${id}.`);
      await checkRule(req.body);
      const now = ctx.clock.now();
      await transaction(db, async (trx) => {
        await trx
          .updateTable('mailroom_rules')
          .set(ruleColumns(req.body, now))
          .where('id', '=', id)
          .execute();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'mailroom.rule_updated',
            target: { type: 'mailroom_rule', id },
            details: { name: req.body.name, action: req.body.action, enabled: req.body.enabled },
          },
          now,
        );
      });
      return presentRule((await findRule(db, id))!);
    },
  );

  r.delete(
    '/mailroom/rules/:id',
    {
      config: admin,
      schema: { tags, summary: 'Delete a rule', params: idParam, response: { 204: z.null() } },
    },
    async (req, reply) => {
      const { id } = req.params;
      const rule = await findRule(db, id);
      if (!rule) throw mailroomError('MAILROOM_RULE_NOT_FOUND', `There is no mailroom rule ${id}.`);
      await transaction(db, async (trx) => {
        await trx.deleteFrom('mailroom_rules').where('id', '=', id).execute();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'mailroom.rule_deleted',
            target: { type: 'mailroom_rule', id },
            details: { name: rule.name },
          },
          ctx.clock.now(),
        );
      });
      return reply.code(204).send(null);
    },
  );

  r.put(
    '/mailroom/rules-order',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Reorder the rules: every rule id once, first tried first',
        body: z.object({ ids: z.array(z.number().int().positive()).max(1000) }),
        response: { 200: z.object({ items: z.array(ruleSchema) }) },
      },
    },
    async (req) => {
      const current = await listRules(db);
      const ids = req.body.ids;
      const same =
        ids.length === current.length &&
        new Set(ids).size === ids.length &&
        current.every((c) => ids.includes(c.id));
      if (!same)
        throw mailroomError('MAILROOM_RULE_INVALID', 'Give every rule id exactly once.', {
          details: { field: 'ids' },
        });
      const now = ctx.clock.now();
      await transaction(db, async (trx) => {
        for (const [i, id] of ids.entries())
          await trx
            .updateTable('mailroom_rules')
            .set({ position: i + 1, updated_at: now })
            .where('id', '=', id)
            .execute();
        await recordAudit(
          trx,
          actorFromRequest(req),
          { action: 'mailroom.rules_reordered', details: { ids } },
          now,
        );
      });
      return { items: (await listRules(db)).map(presentRule) };
    },
  );

  r.get(
    '/mailroom/autofill/fields',
    {
      config: admin,
      schema: {
        tags,
        summary:
          'What a create rule can autofill: modules, their fields, the delimiters and the virtual labels',
        response: {
          200: z.object({
            delimiters: z.array(z.string()),
            virtualLabels: z.array(z.string()),
            modules: z.array(
              z.object({
                name: z.string(),
                label: z.string(),
                fields: z.array(
                  z.object({ name: z.string(), label: z.string(), type: z.string(), mandatory: z.boolean() }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      delimiters: [...DELIMITERS],
      virtualLabels: [...VIRTUAL_LABELS],
      modules: await Promise.all(
        CREATE_MODULES.map(async (name) => {
          const meta = await moduleMetaFor(ctx, name);
          return {
            name,
            label: meta.label,
            fields: meta.fields
              .filter(isAutofillTarget)
              .map((f) => ({ name: f.name, label: f.label, type: f.type, mandatory: f.mandatory })),
          };
        }),
      ),
    }),
  );

  r.post(
    '/mailroom/autofill/labels',
    {
      config: admin,
      schema: {
        tags,
        summary:
          'The labels found in a sample email body with a delimiter (plus Subject, From Email, From Name, Email Content)',
        body: z.object({ sample: z.string().max(200_000), delimiter: z.string().min(1).max(10) }),
        response: {
          200: z.object({
            labels: z.array(z.object({ label: z.string(), value: z.string(), virtual: z.boolean() })),
          }),
        },
      },
    },
    async (req) => ({
      labels: [
        ...VIRTUAL_LABELS.map((label) => ({ label, value: '', virtual: true })),
        ...sampleLabels(req.body.sample.replace(/\r\n?/g, '\n'), req.body.delimiter).map((l) => ({
          ...l,
          virtual: false,
        })),
      ],
    }),
  );

  await app.register(async (scope) => {
    scope.addContentTypeParser(
      ['message/rfc822', 'application/octet-stream', 'text/plain'],
      { parseAs: 'buffer', bodyLimit: DEFAULT_MAX_MESSAGE_BYTES + 1 },
      (_req, body, done) => done(null, body),
    );
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/mailroom/messages',
      {
        config: admin,
        bodyLimit: DEFAULT_MAX_MESSAGE_BYTES + 1,
        schema: {
          tags,
          summary:
            'Hand in one raw RFC 822 message (Content-Type: message/rfc822); it is processed at once, once',
          response: {
            200: z.object({
              id: z.number(),
              status: z.string(),
              recordId: z.number().nullable(),
              duplicate: z.boolean(),
            }),
          },
        },
      },
      async (req) => {
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0)
          throw mailroomError(
            'MAILROOM_MESSAGE_EMPTY',
            'Send the raw message as the body, with Content-Type: message/rfc822.',
          );
        const result = await receiveMessage(ctx, body, { key: 'intake' });
        return {
          id: result.id,
          status: result.status,
          recordId: result.recordId,
          duplicate: result.duplicate,
        };
      },
    );
  });

  r.get(
    '/mailroom/messages',
    {
      config: admin,
      schema: {
        tags,
        summary: 'The processing log, newest first',
        querystring: z.object({
          status: z.enum(['received', 'processed', 'no_match', 'skipped', 'failed']).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.coerce
            .number()
            .int()
            .positive()
            .optional()
            .describe('ids below this one (the next page)'),
        }),
        response: { 200: z.object({ items: z.array(messageSchema), nextBefore: z.number().nullable() }) },
      },
    },
    async (req) => {
      const { status, limit, before } = req.query;
      let q = db
        .selectFrom('mailroom_messages')
        .select([...LIST_COLUMNS])
        .select((eb) => eb.case().when('raw', 'is', null).then(0).else(1).end().as('raw_kept'))
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (status) q = q.where('status', '=', status);
      if (before) q = q.where('id', '<', before);
      const rows = await q.execute();
      const page = rows.slice(0, limit);
      return {
        items: page.map((m) => presentMessage({ ...m, raw_kept: Number(m.raw_kept) })),
        nextBefore: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    },
  );

  async function loadMessage(id: number) {
    const m = await db
      .selectFrom('mailroom_messages')
      .select([...LIST_COLUMNS, 'summary'])
      .select((eb) => eb.case().when('raw', 'is', null).then(0).else(1).end().as('raw_kept'))
      .where('id', '=', id)
      .executeTakeFirst();
    if (!m) throw mailroomError('MAILROOM_MESSAGE_NOT_FOUND', `There is no mailroom message ${id}.`);
    return { ...m, raw_kept: Number(m.raw_kept) };
  }

  r.get(
    '/mailroom/messages/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'One message of the log, with the email as parsed',
        params: idParam,
        response: { 200: messageSchema.extend({ email: emailSchema.nullable() }) },
      },
    },
    async (req) => {
      const m = await loadMessage(req.params.id);
      return { ...presentMessage(m), email: m.summary ? JSON.parse(m.summary) : null };
    },
  );

  r.post(
    '/mailroom/messages/:id/rerun',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Process an unmatched or failed message again with the current rules',
        params: idParam,
        response: { 200: messageSchema },
      },
    },
    async (req) => {
      const m = await loadMessage(req.params.id);
      if (!presentMessage(m).rerunnable)
        throw mailroomError(
          'MAILROOM_MESSAGE_NOT_RERUNNABLE',
          m.status === 'processed' || m.status === 'skipped'
            ? `Message ${m.id} was ${m.status === 'processed' ? 'processed' : 'skipped'}; only unmatched and failed messages are re-run.`
            : `Message ${m.id} cannot be re-run: its bytes were not kept.`,
        );
      await recordAudit(
        db,
        actorFromRequest(req),
        {
          action: 'mailroom.message_rerun',
          target: { type: 'mailroom_message', id: m.id },
        },
        ctx.clock.now(),
      );
      await rerunMessage(ctx, m.id);
      return presentMessage(await loadMessage(m.id));
    },
  );

  r.get(
    '/mailroom/records/:module/:id/emails',
    {
      config: { access: 'authenticated' as const },
      schema: {
        tags,
        summary:
          'The emails the mailroom created this record from or linked to it (for those who may see the record; the values of fields masked for the caller show as their placeholders)',
        params: z.object({
          module: z.string().max(100),
          id: z.coerce.number().int().positive().max(2_147_483_647),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                messageId: z.number(),
                action: z.string().nullable(),
                ruleName: z.string().nullable(),
                receivedAt: z.string(),
                email: emailSchema,
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const principal = await principalFor(ctx, req.auth!.user);
      // the record's own read path: sharing and module permission refuse here as they do on the record,
      // and the fields masked for this viewer are masked in the email too (they appear in From, the body…)
      const { record, redact } = await getRecordWithRedactor(
        ctx,
        principal,
        req.params.module,
        req.params.id,
      );
      const rows = await db
        .selectFrom('mailroom_messages')
        .select(['id', 'action', 'rule_name', 'received_at', 'summary'])
        .where('record_id', '=', record.id)
        .where('module', '=', record.module)
        .where('status', '=', 'processed')
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      return {
        items: rows
          .filter((m) => m.summary)
          .map((m) => ({
            messageId: m.id,
            action: m.action,
            ruleName: m.rule_name === null ? null : redact(m.rule_name),
            receivedAt: iso(m.received_at)!,
            email: redactStrings(JSON.parse(m.summary!) as unknown, redact) as z.infer<typeof emailSchema>,
          })),
      };
    },
  );
}
