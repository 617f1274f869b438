import { describe, expect, it } from 'vitest';
import {
  canAccessRecord,
  canUseModule,
  isSubordinateRole,
  type ModuleAction,
  mergeGrants,
  type Principal,
  recordScope,
  type SharingAccess,
} from './permissions.js';

const grants = (view: boolean, create: boolean, edit: boolean, del: boolean) => ({
  view,
  create,
  edit,
  delete: del,
});

const manager: Principal = {
  userId: 10,
  isAdmin: false,
  roleId: 4,
  rolePath: '/1/2/3/4/',
  modules: { Contacts: grants(true, true, true, true), HelpDesk: grants(true, false, false, false) },
};
const admin: Principal = { ...manager, userId: 1, isAdmin: true, modules: {} };

const own = { ownerId: 10, ownerRolePath: '/1/2/3/4/' };
const subordinate = { ownerId: 11, ownerRolePath: '/1/2/3/4/5/' };
const peer = { ownerId: 12, ownerRolePath: '/1/2/3/4/' };
const superior = { ownerId: 13, ownerRolePath: '/1/2/3/' };
const sibling = { ownerId: 14, ownerRolePath: '/1/2/3/9/' };
// a role id that shares a textual prefix must not count as a subordinate
const lookalike = { ownerId: 15, ownerRolePath: '/1/2/3/44/' };

describe('canUseModule', () => {
  it.each<[string, ModuleAction, boolean]>([
    ['Contacts', 'view', true],
    ['Contacts', 'delete', true],
    ['HelpDesk', 'view', true],
    ['HelpDesk', 'edit', false],
    ['Quotes', 'view', false],
  ])('%s %s → %s', (module, action, expected) => {
    expect(canUseModule(manager, module, action)).toBe(expected);
  });
  it('admins may do everything in every module', () => {
    expect(canUseModule(admin, 'Quotes', 'delete')).toBe(true);
  });
});

describe('record access by organisation-wide default and hierarchy', () => {
  const cases: Array<[SharingAccess, ModuleAction, keyof typeof records, boolean]> = [];
  const records = { own, subordinate, peer, superior, sibling, lookalike };
  const expectPrivate = {
    own: true,
    subordinate: true,
    peer: false,
    superior: false,
    sibling: false,
    lookalike: false,
  };
  for (const action of ['view', 'edit', 'delete'] as const) {
    for (const [name, ok] of Object.entries(expectPrivate))
      cases.push(['private', action, name as never, ok]);
  }
  for (const name of Object.keys(records)) {
    cases.push(['public_read', 'view', name as never, true]);
    cases.push(['public_read', 'edit', name as never, expectPrivate[name as keyof typeof expectPrivate]]);
    cases.push(['public_read_write', 'edit', name as never, true]);
    cases.push(['public_read_write', 'delete', name as never, true]);
  }
  it.each(cases)('%s: %s a %s record → %s', (sharing, action, name, expected) => {
    expect(canAccessRecord(manager, 'Contacts', action, sharing, records[name])).toBe(expected);
  });

  it('no module permission means no record, whatever the sharing', () => {
    expect(canAccessRecord(manager, 'HelpDesk', 'edit', 'public_read_write', own)).toBe(false);
    expect(recordScope(manager, 'Quotes', 'view', 'public_read_write')).toEqual({ kind: 'none' });
  });
  it('admins see every record', () => {
    expect(recordScope(admin, 'Contacts', 'delete', 'private')).toEqual({ kind: 'all' });
  });
  it('private scope carries the user and role path for the SQL filter', () => {
    expect(recordScope(manager, 'Contacts', 'view', 'private')).toEqual({
      kind: 'own-and-subordinates',
      userId: 10,
      rolePath: '/1/2/3/4/',
    });
  });
});

describe('helpers', () => {
  it('isSubordinateRole is strict', () => {
    expect(isSubordinateRole('/1/2/', '/1/2/')).toBe(false);
    expect(isSubordinateRole('/1/2/', '/1/2/7/')).toBe(true);
    expect(isSubordinateRole('/1/2/', '/1/22/')).toBe(false);
  });
  it('mergeGrants takes the union of profiles', () => {
    const merged = mergeGrants([
      { module: 'Contacts', ...grants(true, false, false, false) },
      { module: 'Contacts', ...grants(false, true, false, false) },
      { module: 'Leads', ...grants(false, false, false, true) },
    ]);
    expect(merged).toEqual({
      Contacts: grants(true, true, false, false),
      Leads: grants(false, false, false, true),
    });
  });
});
