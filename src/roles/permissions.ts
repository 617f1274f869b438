/**
 * Permission evaluation, the way CRM admins know it from Vtiger: profiles (attached to roles) grant actions
 * per module; the organisation-wide default and the role hierarchy decide which records a user reaches.
 * Pure functions: the records feature turns a RecordScope into a SQL filter.
 */
export const MODULE_ACTIONS = ['view', 'create', 'edit', 'delete'] as const;
export type ModuleAction = (typeof MODULE_ACTIONS)[number];
export type SharingAccess = 'private' | 'public_read' | 'public_read_write';
export type ModuleGrants = Record<ModuleAction, boolean>;

export interface Principal {
  userId: number;
  isAdmin: boolean;
  roleId: number;
  /** materialised path of the user's role, e.g. `/1/2/4/` */
  rolePath: string;
  modules: Record<string, ModuleGrants>;
}

export type RecordScope =
  | { kind: 'none' }
  | { kind: 'all' }
  /** own records, plus records owned by users in roles strictly below ours */
  | { kind: 'own-and-subordinates'; userId: number; rolePath: string };

export function canUseModule(p: Principal, module: string, action: ModuleAction): boolean {
  if (p.isAdmin) return true;
  return p.modules[module]?.[action] ?? false;
}

export function recordScope(
  p: Principal,
  module: string,
  action: ModuleAction,
  sharing: SharingAccess,
): RecordScope {
  if (!canUseModule(p, module, action)) return { kind: 'none' };
  if (p.isAdmin || action === 'create') return { kind: 'all' };
  if (sharing === 'public_read_write') return { kind: 'all' };
  if (sharing === 'public_read' && action === 'view') return { kind: 'all' };
  return { kind: 'own-and-subordinates', userId: p.userId, rolePath: p.rolePath };
}

export function isSubordinateRole(superiorPath: string, candidatePath: string): boolean {
  return candidatePath.length > superiorPath.length && candidatePath.startsWith(superiorPath);
}

/** Whether a record (its owner and the owner's role path) falls inside a scope. */
export function scopeAllows(scope: RecordScope, record: { ownerId: number; ownerRolePath: string }): boolean {
  switch (scope.kind) {
    case 'none':
      return false;
    case 'all':
      return true;
    case 'own-and-subordinates':
      return record.ownerId === scope.userId || isSubordinateRole(scope.rolePath, record.ownerRolePath);
  }
}

export function canAccessRecord(
  p: Principal,
  module: string,
  action: ModuleAction,
  sharing: SharingAccess,
  record: { ownerId: number; ownerRolePath: string },
): boolean {
  return scopeAllows(recordScope(p, module, action, sharing), record);
}

/** A user's grants are the union of the grants of every profile on their role. */
export function mergeGrants(rows: Array<{ module: string } & ModuleGrants>): Record<string, ModuleGrants> {
  const out: Record<string, ModuleGrants> = {};
  for (const r of rows) {
    const g = out[r.module] ?? { view: false, create: false, edit: false, delete: false };
    for (const a of MODULE_ACTIONS) g[a] ||= r[a];
    out[r.module] = g;
  }
  return out;
}
