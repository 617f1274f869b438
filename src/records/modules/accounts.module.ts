import { f, type ModuleDef, systemFields } from '../field.types.js';
import { ADDRESS_PARTS, INDUSTRIES, RATINGS } from './picklists.js';

const ACCOUNT_TYPES = [
  'Analyst',
  'Competitor',
  'Customer',
  'Integrator',
  'Investor',
  'Partner',
  'Press',
  'Prospect',
  'Reseller',
  'Other',
] as const;

/** Vtiger's Accounts, shown to users as Organizations. */
export const accountsModule: ModuleDef = {
  name: 'Accounts',
  label: 'Organizations',
  singular: 'Organization',
  wsEntityId: 11,
  table: 'crm_accounts',
  numberField: { name: 'account_no', prefix: 'ACC' },
  labelFields: ['accountname'],
  fields: [
    f.string('accountname', 'Organization Name', { mandatory: true }),
    f.number('account_no', 'Organization No'),
    f.phone('phone', 'Phone'),
    f.url('website', 'Website'),
    f.phone('fax', 'Fax'),
    f.string('tickersymbol', 'Ticker Symbol'),
    f.phone('otherphone', 'Other Phone'),
    f.reference('account_id', 'Member Of', ['Accounts']),
    f.email('email1', 'Email'),
    f.integer('employees', 'Employees'),
    f.email('email2', 'Other Email'),
    f.string('ownership', 'Ownership'),
    f.picklist('industry', 'Industry', INDUSTRIES),
    f.picklist('rating', 'Rating', RATINGS),
    f.picklist('accounttype', 'Type', ACCOUNT_TYPES),
    f.string('siccode', 'SIC Code'),
    f.boolean('emailoptout', 'Email Opt Out'),
    f.currency('annual_revenue', 'Annual Revenue'),
    ...systemFields(),
    f.boolean('notify_owner', 'Notify Owner'),
    f.string('source', 'Source', { editable: false }),
    ...ADDRESS_PARTS.flatMap(([part, label]) => [
      part === 'street'
        ? f.text(`bill_${part}`, `Billing ${label}`)
        : f.string(`bill_${part}`, `Billing ${label}`),
      part === 'street'
        ? f.text(`ship_${part}`, `Shipping ${label}`)
        : f.string(`ship_${part}`, `Shipping ${label}`),
    ]),
    f.text('description', 'Description'),
  ],
};
