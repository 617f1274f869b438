import type { AppContext } from '../context.js';
import { CRM_MODULES } from '../roles/modules.js';

/** What web services need to know about a module to list it. */
export interface WsModuleInfo {
  name: string;
  label: string;
  singular: string;
  fieldTypes: string[];
}

const LABELS: Record<string, [string, string]> = {
  Contacts: ['Contacts', 'Contact'],
  Leads: ['Leads', 'Lead'],
  Accounts: ['Organizations', 'Organization'],
  Potentials: ['Opportunities', 'Opportunity'],
  Products: ['Products', 'Product'],
  Quotes: ['Quotes', 'Quote'],
  HelpDesk: ['Tickets', 'Ticket'],
};

/** The CRM modules plus Users, in Vtiger's listtypes order (entity modules first, Users after). */
export async function wsModules(_ctx: AppContext): Promise<WsModuleInfo[]> {
  const crm = CRM_MODULES.map((name) => {
    const [label, singular] = LABELS[name] ?? [name, name];
    return { name, label, singular, fieldTypes: ['string', 'owner'] };
  });
  return [...crm, { name: 'Users', label: 'Users', singular: 'User', fieldTypes: ['string', 'email'] }];
}
