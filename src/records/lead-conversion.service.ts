import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { contextWithin, withUnitOfWork } from '../db/unit-of-work.js';
import type { FieldValue } from './field-coerce.js';
import { resolveModule } from './module-meta.js';
import { recordError } from './record.errors.js';
import { createRecord, updateRecord } from './record.service.js';
import type { RecordWriter } from './record-change.model.js';
import { queryColumn } from './record-filter.js';
import { findVisible, getRecord, queryRecords, viewModule } from './record-read.service.js';

/** What a lead becomes. At least an organization or a contact; a deal only with one of them. */
export interface LeadConversionRequest {
  /** the owner of the new records (default: the caller) */
  assignedTo?: number;
  /** values for the new records, over the ones taken from the lead (`{}` creates with the lead's values) */
  account?: Record<string, unknown>;
  contact?: Record<string, unknown>;
  potential?: Record<string, unknown>;
}

export interface LeadConversion {
  leadId: number;
  accountId: number | null;
  contactId: number | null;
  potentialId: number | null;
  convertedBy: number | null;
  convertedAt: number;
}

/** Lead field → field of the new record (Vtiger's default conversion mapping, in Rapport's field names). */
const MAPPING = {
  Accounts: {
    company: 'accountname',
    industry: 'industry',
    annualrevenue: 'annual_revenue',
    noofemployees: 'employees',
    phone: 'phone',
    fax: 'fax',
    website: 'website',
    rating: 'rating',
    email: 'email1',
    secondaryemail: 'email2',
    emailoptout: 'emailoptout',
    lane: 'bill_street',
    city: 'bill_city',
    state: 'bill_state',
    code: 'bill_code',
    country: 'bill_country',
    pobox: 'bill_pobox',
    description: 'description',
  },
  Contacts: {
    salutationtype: 'salutationtype',
    firstname: 'firstname',
    lastname: 'lastname',
    email: 'email',
    secondaryemail: 'secondaryemail',
    phone: 'phone',
    mobile: 'mobile',
    fax: 'fax',
    designation: 'title',
    leadsource: 'leadsource',
    emailoptout: 'emailoptout',
    lane: 'mailingstreet',
    city: 'mailingcity',
    state: 'mailingstate',
    code: 'mailingzip',
    country: 'mailingcountry',
    pobox: 'mailingpobox',
    description: 'description',
  },
  Potentials: {
    company: 'potentialname',
    leadsource: 'leadsource',
    description: 'description',
  },
} as const;

type Target = keyof typeof MAPPING;

const empty = (v: unknown) => v === null || v === undefined || v === '';

/**
 * Converts a lead into an organization, a contact and optionally a deal, in one change: the new records,
 * the lead's `converted` flag and the link between them commit together (or nothing does), and each write
 * goes through the record service, so history, events and audit tell the story. The lead's values are read
 * as the caller sees them: a field masked for the caller is not copied.
 */
export async function convertLead(
  ctx: AppContext,
  w: RecordWriter,
  leadId: number,
  req: LeadConversionRequest,
): Promise<LeadConversion & { accountCreated: boolean }> {
  const p = w.principal;
  if (!req.account && !req.contact)
    throw recordError(
      'FIELD_INVALID',
      'Converting a lead creates an organization, a contact or both: say which.',
      { details: { field: 'account' } },
    );
  const leads = await resolveModule(ctx.db.kysely, 'Leads');
  const lead = await getRecord(ctx, p, leads, leadId);
  if (lead.fields.converted === true) throw alreadyConverted();
  const from: Record<string, FieldValue> = { ...lead.fields };
  for (const name of lead.masked ?? []) delete from[name];

  const mapped = (target: Target, given: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [leadField, field] of Object.entries(MAPPING[target]))
      if (!empty(from[leadField])) out[field] = from[leadField];
    for (const [k, v] of Object.entries(given)) if (!empty(v)) out[k] = v;
    if (req.assignedTo !== undefined) out.assigned_user_id = req.assignedTo;
    return out;
  };

  return withUnitOfWork(ctx, w.actor, async (uow) => {
    const tctx = contextWithin(ctx, uow);
    const current = await findVisible(tctx, p, leads, leadId);
    if (current.fields.converted === true) throw alreadyConverted();

    let accountId: number | null = null;
    let accountCreated = false;
    if (req.account) {
      const values = mapped('Accounts', req.account);
      accountId = await existingAccount(tctx, w, values.accountname);
      if (accountId === null) {
        accountId = (await createRecord(ctx, w, 'Accounts', values, { uow })).id;
        accountCreated = true;
      }
    }
    let contactId: number | null = null;
    if (req.contact) {
      const values = mapped('Contacts', req.contact);
      if (accountId !== null && empty(values.account_id)) values.account_id = accountId;
      contactId = (await createRecord(ctx, w, 'Contacts', values, { uow })).id;
    }
    let potentialId: number | null = null;
    if (req.potential) {
      const values = mapped('Potentials', req.potential);
      if (accountId !== null && empty(values.related_to)) values.related_to = accountId;
      if (contactId !== null && empty(values.contact_id)) values.contact_id = contactId;
      values.isconvertedfromlead = true;
      const potentials = await resolveModule(tctx.db.kysely, 'Potentials');
      for (const f of potentials.fields)
        if (f.mandatory && f.editable && f.type === 'picklist' && empty(values[f.name]))
          values[f.name] = f.default ?? f.picklistValues?.[0];
      potentialId = (await createRecord(ctx, w, 'Potentials', values, { uow })).id;
    }

    await updateRecord(
      ctx,
      w,
      leads,
      leadId,
      {},
      { uow, version: current.version, serverValues: new Map([['converted', true]]) },
    );
    const row = {
      lead_id: leadId,
      account_id: accountId,
      contact_id: contactId,
      potential_id: potentialId,
      converted_by: p.userId,
      converted_at: uow.now,
    };
    await uow.trx.insertInto('lead_conversions').values(row).execute();
    return {
      leadId,
      accountId,
      accountCreated,
      contactId,
      potentialId,
      convertedBy: p.userId,
      convertedAt: uow.now,
    };
  });
}

function alreadyConverted() {
  return recordError('LEAD_ALREADY_CONVERTED', 'This lead has already been converted.');
}

/**
 * Vtiger links an organization that already has the lead's company name instead of making a second one;
 * so do we, among the organizations the caller may see.
 */
async function existingAccount(ctx: AppContext, w: RecordWriter, name: unknown): Promise<number | null> {
  if (typeof name !== 'string' || name === '') return null;
  const view = await viewModule(ctx, w.principal, 'Accounts');
  // matching on a name the caller may not read would tell them it exists: create a new one instead
  if (view.masked.has('accountname')) return null;
  const [found] = await queryRecords(ctx, view, {
    where: [sql`${queryColumn(view, 'accountname', 'filter')} = ${name}`],
    limit: 1,
  });
  return found?.id ?? null;
}

/** How a converted lead was converted, when the caller may see the lead. */
export async function leadConversionOf(
  ctx: AppContext,
  w: Pick<RecordWriter, 'principal'>,
  leadId: number,
): Promise<LeadConversion | null> {
  await getRecord(ctx, w.principal, 'Leads', leadId);
  const row = await ctx.db.kysely
    .selectFrom('lead_conversions')
    .selectAll()
    .where('lead_id', '=', leadId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    leadId: row.lead_id,
    accountId: row.account_id,
    contactId: row.contact_id,
    potentialId: row.potential_id,
    convertedBy: row.converted_by,
    convertedAt: Number(row.converted_at),
  };
}
