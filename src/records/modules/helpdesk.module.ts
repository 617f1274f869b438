import { f, type ModuleDef, systemFields } from '../field.types.js';

/** Vtiger's HelpDesk, shown to users as Tickets. Field names are Vtiger's (ticketpriorities, not ticketpriority). */
export const helpDeskModule: ModuleDef = {
  name: 'HelpDesk',
  label: 'Tickets',
  singular: 'Ticket',
  wsEntityId: 17,
  table: 'crm_tickets',
  numberField: { name: 'ticket_no', prefix: 'TT' },
  labelFields: ['ticket_title'],
  fields: [
    f.number('ticket_no', 'Ticket No'),
    ...systemFields().slice(0, 1),
    f.reference('parent_id', 'Organization Name', ['Accounts']),
    f.picklist('ticketpriorities', 'Priority', ['Low', 'Normal', 'High', 'Urgent']),
    f.reference('product_id', 'Product Name', ['Products']),
    f.picklist('ticketseverities', 'Severity', ['Minor', 'Major', 'Feature', 'Critical']),
    f.picklist('ticketstatus', 'Status', ['Open', 'In Progress', 'Wait For Response', 'Closed'], {
      mandatory: true,
    }),
    f.picklist('ticketcategories', 'Category', ['Big Problem', 'Small Problem', 'Other Problem']),
    f.decimal('hours', 'Hours'),
    f.decimal('days', 'Days'),
    ...systemFields().slice(1),
    f.reference('contact_id', 'Contact Name', ['Contacts']),
    f.string('ticket_title', 'Title', { mandatory: true }),
    f.string('source', 'Source', { editable: false }),
    f.text('description', 'Description'),
    f.text('solution', 'Solution'),
  ],
};
