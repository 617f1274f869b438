import type { AppContext } from '../context.js';
import { listModuleMetas } from '../records/module-meta.js';

/** What web services need to know about a module to list it. */
export interface WsModuleInfo {
  name: string;
  label: string;
  singular: string;
  fieldTypes: string[];
}

const USER_FIELD_TYPES = ['string', 'email', 'picklist'];

/** The CRM modules (with custom fields), in Vtiger's listtypes order, then Users. */
export async function wsModules(ctx: AppContext): Promise<WsModuleInfo[]> {
  const crm = (await listModuleMetas(ctx.db.kysely)).map((m) => ({
    name: m.name,
    label: m.label,
    singular: m.singular,
    fieldTypes: [...new Set(m.fields.map((f) => (f.type === 'decimal' ? 'double' : f.type)))],
  }));
  return [...crm, { name: 'Users', label: 'Users', singular: 'User', fieldTypes: USER_FIELD_TYPES }];
}
