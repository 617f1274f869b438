import { f, type ModuleDef, systemFields } from '../field.types.js';
import { LEAD_SOURCES } from './picklists.js';

const SALES_STAGES = [
  'Prospecting',
  'Qualification',
  'Needs Analysis',
  'Value Proposition',
  'Id. Decision Makers',
  'Perception Analysis',
  'Proposal or Price Quote',
  'Negotiation or Review',
  'Closed Won',
  'Closed Lost',
] as const;

/** Vtiger's Potentials, shown to users as Deals. */
export const potentialsModule: ModuleDef = {
  name: 'Potentials',
  label: 'Deals',
  singular: 'Deal',
  wsEntityId: 13,
  table: 'crm_potentials',
  numberField: { name: 'potential_no', prefix: 'POT' },
  labelFields: ['potentialname'],
  fields: [
    f.string('potentialname', 'Deal Name', { mandatory: true }),
    f.number('potential_no', 'Deal No'),
    f.currency('amount', 'Amount'),
    f.reference('related_to', 'Organization Name', ['Accounts']),
    f.date('closingdate', 'Expected Close Date', { mandatory: true }),
    f.picklist('opportunity_type', 'Type', ['Existing Business', 'New Business']),
    f.string('nextstep', 'Next Step'),
    f.picklist('leadsource', 'Lead Source', LEAD_SOURCES),
    f.picklist('sales_stage', 'Sales Stage', SALES_STAGES, { mandatory: true }),
    ...systemFields(),
    f.decimal('probability', 'Probability'),
    f.reference('contact_id', 'Contact Name', ['Contacts']),
    f.currency('forecast_amount', 'Forecast Amount'),
    f.boolean('isconvertedfromlead', 'Is Converted From Lead'),
    f.string('source', 'Source', { editable: false }),
    f.text('description', 'Description'),
  ],
};
