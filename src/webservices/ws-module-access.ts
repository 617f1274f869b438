import type { AppContext } from '../context.js';
import { isModuleName, type ModuleMeta, moduleMetaFor } from '../records/module-meta.js';
import { canUseModule, type ModuleAction, type Principal } from '../roles/permissions.js';
import { permissionDenied } from './ws-errors.js';

/**
 * The module's metadata when the caller may `action` in it. An unknown module and a forbidden one get the
 * same ACCESS_DENIED, as in Vtiger (the module must be in the caller's listtypes).
 */
export async function wsModule(
  ctx: AppContext,
  p: Principal,
  name: string,
  action: ModuleAction,
): Promise<ModuleMeta> {
  if (!isModuleName(name) || !canUseModule(p, name, action)) throw permissionDenied();
  return moduleMetaFor(ctx, name);
}
