import { convertLead, type LeadConversionRequest } from '../../records/lead-conversion.service.js';
import { WsError } from '../ws-errors.js';
import { formatWsId, prefixForModule, requireWsId } from '../ws-ids.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsOperation, wsWriter } from '../ws-operation.js';
import { recordInput } from '../ws-record-input.js';

const TARGETS = [
  ['Accounts', 'account'],
  ['Contacts', 'contact'],
  ['Potentials', 'potential'],
] as const;

/**
 * `convertlead` as Vtiger defines it (`include/Webservices/ConvertLead.php`): `element` is
 * `{leadId, assignedTo?, entities: {Accounts|Contacts|Potentials: {create: true, name, …field values}}}`;
 * the result maps each module to the id of its record, e.g. `{"Accounts":"11x7","Contacts":"12x8"}`.
 * Where Vtiger answers a failed conversion with a `null` result, Rapport says what was wrong.
 */
export const convertlead: WsOperation = {
  name: 'convertlead',
  method: 'POST',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const element = call.params.jsonObject('element');
    const lead = requireWsId(element.leadId);
    if (lead.module === 'Users' || lead.module.name !== 'Leads')
      throw new WsError('ACCESS_DENIED', 'leadId must be the id of a Lead');
    await wsModule(call.ctx, principal, 'Leads', 'edit');
    const entities = (element.entities ?? {}) as Record<string, unknown>;
    if (typeof entities !== 'object' || Array.isArray(entities))
      throw new WsError('INVALID_REQUEST', 'entities must be a JSON object');

    const req: LeadConversionRequest = {};
    if (element.assignedTo !== undefined && element.assignedTo !== '') {
      const owner = requireWsId(element.assignedTo);
      if (owner.module !== 'Users')
        throw new WsError('ACCESS_DENIED', 'Cannot assign record to the given user');
      req.assignedTo = owner.id;
    }
    for (const [module, key] of TARGETS) {
      const entity = entities[module];
      if (!entity || typeof entity !== 'object' || Array.isArray(entity)) continue;
      const { create, name: _name, ...values } = entity as Record<string, unknown>;
      if (create !== true && create !== 'true' && create !== 1 && create !== '1') continue;
      const meta = await wsModule(call.ctx, principal, module, 'create');
      req[key] = recordInput(meta, values, 'revise');
    }
    if (req.potential && !req.account && !req.contact)
      throw new WsError(
        'MANDATORY_FIELDS_MISSING',
        'Converting a lead needs Accounts or Contacts to be created',
      );
    const done = await convertLead(call.ctx, wsWriter(call), lead.id, req);
    const out: Record<string, string> = {};
    if (done.accountId !== null) out.Accounts = formatWsId(prefixForModule('Accounts')!, done.accountId);
    if (done.contactId !== null) out.Contacts = formatWsId(prefixForModule('Contacts')!, done.contactId);
    if (done.potentialId !== null)
      out.Potentials = formatWsId(prefixForModule('Potentials')!, done.potentialId);
    return out;
  },
};
