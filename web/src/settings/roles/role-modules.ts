/** The modules profiles and sharing defaults speak about (the server's Vtiger names), in the UI's words. */
export const ROLE_MODULES: Array<{ value: string; label: string }> = [
  { value: 'Contacts', label: 'Contacts' },
  { value: 'Leads', label: 'Leads' },
  { value: 'Accounts', label: 'Organizations' },
  { value: 'Potentials', label: 'Deals' },
  { value: 'Products', label: 'Products' },
  { value: 'Quotes', label: 'Quotes' },
  { value: 'HelpDesk', label: 'Tickets' },
];

export const GRANTS = ['view', 'create', 'edit', 'delete'] as const;
export type Grant = (typeof GRANTS)[number];
export const GRANT_LABELS: Record<Grant, string> = {
  view: 'View',
  create: 'Create',
  edit: 'Edit',
  delete: 'Delete',
};
