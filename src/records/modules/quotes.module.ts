import { f, type ModuleDef, systemFields } from '../field.types.js';
import { ADDRESS_PARTS } from './picklists.js';

/** Quotes carry line items; the hdn* totals are computed from them and cannot be written directly. */
export const quotesModule: ModuleDef = {
  name: 'Quotes',
  label: 'Quotes',
  singular: 'Quote',
  wsEntityId: 4,
  table: 'crm_quotes',
  numberField: { name: 'quote_no', prefix: 'QUO' },
  labelFields: ['subject'],
  hasLineItems: true,
  fields: [
    f.string('subject', 'Subject', { mandatory: true }),
    f.number('quote_no', 'Quote No'),
    f.reference('potential_id', 'Deal Name', ['Potentials']),
    f.picklist('quotestage', 'Quote Stage', ['Created', 'Delivered', 'Reviewed', 'Accepted', 'Rejected'], {
      mandatory: true,
    }),
    f.date('validtill', 'Valid Till'),
    f.reference('contact_id', 'Contact Name', ['Contacts']),
    f.picklist('carrier', 'Carrier', ['FedEx', 'UPS', 'USPS', 'DHL', 'BlueDart']),
    f.string('shipping', 'Shipping'),
    f.reference('account_id', 'Organization Name', ['Accounts']),
    ...systemFields(),
    f.currency('hdnSubTotal', 'Sub Total', { editable: false }),
    f.decimal('hdnDiscountPercent', 'Discount Percent'),
    f.currency('hdnDiscountAmount', 'Discount Amount'),
    f.currency('hdnS_H_Amount', 'S&H Amount'),
    f.currency('txtAdjustment', 'Adjustment'),
    f.currency('pre_tax_total', 'Pre Tax Total', { editable: false }),
    f.currency('hdnGrandTotal', 'Total', { editable: false }),
    f.string('source', 'Source', { editable: false }),
    ...ADDRESS_PARTS.flatMap(([part, label]) => [
      part === 'street'
        ? f.field({ name: `bill_${part}`, label: `Billing Address`, type: 'text', mandatory: true })
        : f.string(`bill_${part}`, `Billing ${label}`),
      part === 'street'
        ? f.field({ name: `ship_${part}`, label: `Shipping Address`, type: 'text', mandatory: true })
        : f.string(`ship_${part}`, `Shipping ${label}`),
    ]),
    f.text('terms_conditions', 'Terms & Conditions'),
    f.text('description', 'Description'),
  ],
};
