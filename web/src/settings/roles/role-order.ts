import type { Role } from '../../api/types';

/** Roles in tree order (each after its parent, siblings by name), for lists and pickers. */
export function treeOrder(roles: Role[]): Role[] {
  const out: Role[] = [];
  const visit = (parentId: number | null) => {
    for (const r of roles
      .filter((x) => x.parentId === parentId)
      .sort((a, b) => a.name.localeCompare(b.name))) {
      out.push(r);
      visit(r.id);
    }
  };
  visit(null);
  return out;
}

/** The role and every role below it: a role cannot move under any of them. */
export function subtreeIds(roles: Role[], rootId: number): Set<number> {
  const ids = new Set([rootId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of roles)
      if (r.parentId !== null && ids.has(r.parentId) && !ids.has(r.id)) {
        ids.add(r.id);
        grew = true;
      }
  }
  return ids;
}
