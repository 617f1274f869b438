import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canAccessRecord, type Principal, recordScope } from '../roles/permissions.js';
import { inScope } from './record-scope.js';

const path = fc
  .array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 })
  .map((xs) => `/${xs.map((x) => `${x}/`).join('')}`);

describe('inScope (the sharing rule checked in code on a single record)', () => {
  it('agrees with canAccessRecord for every principal, sharing default and owner', () => {
    fc.assert(
      fc.property(
        fc.record({
          userId: fc.integer({ min: 1, max: 5 }),
          isAdmin: fc.boolean(),
          rolePath: path,
          view: fc.boolean(),
          sharing: fc.constantFrom('private' as const, 'public_read' as const, 'public_read_write' as const),
          ownerId: fc.integer({ min: 1, max: 5 }),
          ownerRolePath: fc.oneof(path, fc.constant('')),
        }),
        (c) => {
          const p = {
            userId: c.userId,
            isAdmin: c.isAdmin,
            rolePath: c.rolePath,
            roleId: 1,
            modules: { Leads: { view: c.view, create: false, edit: false, delete: false } },
          } satisfies Principal;
          const rec = { ownerId: c.ownerId, ownerRolePath: c.ownerRolePath };
          expect(inScope(recordScope(p, 'Leads', 'view', c.sharing), rec)).toBe(
            canAccessRecord(p, 'Leads', 'view', c.sharing, rec),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
