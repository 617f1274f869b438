/** The CRM modules that profiles and sharing defaults speak about (Vtiger's names). */
export const CRM_MODULES = [
  'Contacts',
  'Leads',
  'Accounts',
  'Potentials',
  'Products',
  'Quotes',
  'HelpDesk',
] as const;
export type CrmModule = (typeof CRM_MODULES)[number];
