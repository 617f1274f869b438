import { isModuleName } from '../../records/module-meta.js';
import { STANDARD_MODULES } from '../../records/modules/index.js';
import { changesSince } from '../../records/record-sync.service.js';
import { canUseModule } from '../../roles/permissions.js';
import { WsError } from '../ws-errors.js';
import { formatWsId, prefixForModule } from '../ws-ids.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsOperation } from '../ws-operation.js';
import { toWsRecords } from '../ws-record-format.js';

const MAX_CHANGES = 100;

/**
 * `sync`: records changed or deleted since `modifiedTime` (unix seconds), oldest first, 100 per call.
 * Vtiger's handler crashes on PHP 8 (named-argument mismatch); this does what it was meant to do: the
 * caller's own records (`syncType=application` widens to every record for an admin).
 */
export const sync: WsOperation = {
  name: 'sync',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const raw = call.params.string('modifiedTime').trim();
    if (!/^\d{1,12}$/.test(raw))
      throw new WsError('INVALID_REQUEST', 'modifiedTime must be a unix time in seconds');
    const elementType = call.params.string('elementType');
    const modules = elementType
      ? [(await wsModule(call.ctx, principal, elementType, 'view')).name]
      : STANDARD_MODULES.map((m) => m.name).filter(
          (m) => isModuleName(m) && canUseModule(principal, m, 'view'),
        );
    const changes = await changesSince(call.ctx, principal, {
      modules,
      since: Number(raw) * 1000,
      everyone: call.params.get('syncType') === 'application' && principal.isAdmin,
      limit: MAX_CHANGES,
    });
    const updated: unknown[] = [];
    for (const { meta, records } of changes.updated)
      updated.push(...(await toWsRecords(call.ctx, meta, records)));
    return {
      updated,
      deleted: changes.deleted.map((d) => formatWsId(prefixForModule(d.module) ?? 0, d.id)),
      lastModifiedTime: Math.floor(changes.last / 1000),
      more: changes.more,
    };
  },
};
