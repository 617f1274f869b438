import { canUseModule } from '../../roles/permissions.js';
import { wsModules } from '../ws-modules.js';
import type { WsOperation } from '../ws-operation.js';
import { requireCaller } from '../ws-operation.js';

/** `listtypes`: the modules the caller may use, plus Users; `fieldTypeList` narrows to modules having those types. */
export const listTypes: WsOperation = {
  name: 'listtypes',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    let wanted: Set<string> | null = null;
    if (call.params.get('fieldTypeList')) {
      const list = call.params.jsonValue('fieldTypeList');
      wanted = new Set(Array.isArray(list) ? list.map(String) : []);
    }
    const modules = (await wsModules(call.ctx)).filter(
      (m) =>
        (m.name === 'Users' || canUseModule(principal, m.name, 'view')) &&
        (wanted === null || m.fieldTypes.some((t) => wanted.has(t))),
    );
    const information: Record<string, { isEntity: boolean; label: string; singular: string }> = {};
    for (const m of modules) information[m.name] = { isEntity: true, label: m.label, singular: m.singular };
    return { types: modules.map((m) => m.name), information };
  },
};
