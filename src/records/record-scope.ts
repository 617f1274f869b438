import { type Expression, type SqlBool, sql } from 'kysely';
import type { RecordScope } from '../roles/permissions.js';

/**
 * A RecordScope as a SQL condition on `e` (crm_entities). Subordinates are found through the role tree's
 * materialised path (`/1/2/` is above `/1/2/5/`); the users × roles subquery is small, and
 * `crm_entities(module, owner_id, deleted_at)` serves the outer filter. Paths hold only digits and `/`
 * (ASCII), so a prefix compares as `substr(path, 1, length) = prefix` on both databases. Not `LIKE ?`: on
 * SQLite a bound LIKE pattern on a bare column makes the statement be prepared again on every run (a page
 * of ten contacts for a user of a private module took 88 µs with it, 38 µs without; stop 41).
 */
export function scopeCondition(scope: RecordScope): Expression<SqlBool> | null {
  switch (scope.kind) {
    case 'all':
      return null;
    case 'none':
      return sql<SqlBool>`1 = 0`;
    case 'own-and-subordinates':
      return sql<SqlBool>`(e.owner_id = ${scope.userId} or e.owner_id in (select su.id from users su inner join roles sr on sr.id = su.role_id where substr(sr.path, 1, ${scope.rolePath.length}) = ${scope.rolePath} and sr.path <> ${scope.rolePath}))`;
  }
}
