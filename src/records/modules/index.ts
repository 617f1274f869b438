import type { ModuleDef } from '../field.types.js';
import { accountsModule } from './accounts.module.js';
import { contactsModule } from './contacts.module.js';
import { helpDeskModule } from './helpdesk.module.js';
import { leadsModule } from './leads.module.js';
import { potentialsModule } from './potentials.module.js';
import { productsModule } from './products.module.js';
import { quotesModule } from './quotes.module.js';

/** The standard modules, in Vtiger's listtypes order. Custom fields are added from the database. */
export const STANDARD_MODULES: readonly ModuleDef[] = [
  quotesModule,
  leadsModule,
  accountsModule,
  contactsModule,
  potentialsModule,
  productsModule,
  helpDeskModule,
];

export function standardModule(name: string): ModuleDef | undefined {
  return STANDARD_MODULES.find((m) => m.name === name);
}

/** Vtiger's web-services entity id of Users (`19x1` is the admin). */
export const USERS_WS_ENTITY_ID = 19;
