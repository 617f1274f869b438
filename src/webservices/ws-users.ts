import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { User } from '../users/user.model.js';
import { toUser } from '../users/user.model.js';
import type { CompiledVtql, VtqlFieldTarget, VtqlTarget } from './vtql/vtql-compiler.js';
import { USERS_WS_PREFIX } from './ws-deps.js';
import { formatWsId } from './ws-ids.js';

/**
 * Users over web services: the fields Vtiger 8.2 returns that Rapport has. Never a password hash or an
 * access key (Vtiger < 8.2 leaked both through `SELECT * FROM Users;`).
 */
export function wsUser(u: User): Record<string, string> {
  return {
    user_name: u.username,
    is_admin: u.isAdmin ? 'on' : 'off',
    first_name: u.firstName,
    last_name: u.lastName,
    roleid: `H${u.roleId}`,
    email1: u.email,
    status: u.status,
    is_owner: u.isOwner ? '1' : '0',
    date_format: u.dateFormat,
    time_zone: u.timeZone,
    language: u.language,
    userlabel: `${u.firstName} ${u.lastName}`.trim(),
    id: formatWsId(USERS_WS_PREFIX, u.id),
  };
}

const text = (column: string): VtqlFieldTarget => ({
  column: sql.ref(column),
  idLike: false,
  text: true,
  convert: (v) => v,
});
const USER_FIELDS: Record<string, VtqlFieldTarget> = {
  user_name: text('users.username'),
  is_admin: {
    column: sql.ref('users.is_admin'),
    idLike: false,
    text: false,
    convert: (v) => (v === 'on' || v === '1' ? '1' : v === 'off' || v === '0' ? '0' : undefined),
  },
  first_name: text('users.first_name'),
  last_name: text('users.last_name'),
  roleid: {
    column: sql.ref('users.role_id'),
    idLike: false,
    text: false,
    convert: (v) => (/^H?\d{1,9}$/.test(v) ? Number(v.replace('H', '')) : undefined),
  },
  email1: text('users.email'),
  status: text('users.status'),
  date_format: text('users.date_format'),
  time_zone: text('users.time_zone'),
  language: text('users.language'),
  id: {
    column: sql.ref('users.id'),
    idLike: true,
    text: false,
    convert: (v) => (/^\d{1,15}$/.test(v) ? Number(v) : undefined),
  },
};

export const usersVtqlTarget: VtqlTarget = {
  field: (n) => (Object.hasOwn(USER_FIELDS, n) ? USER_FIELDS[n] : undefined),
  fieldNames: () => Object.keys(USER_FIELDS),
};

/** Runs a compiled VTQL query over the (not deleted) users. */
export async function queryWsUsers(ctx: AppContext, c: CompiledVtql): Promise<unknown[]> {
  const db = ctx.db.kysely;
  let q = db
    .selectFrom('users')
    .leftJoin('roles', 'roles.id', 'users.role_id')
    .where('users.deleted_at', 'is', null);
  if (c.where) q = q.where(c.where);
  if (c.select === 'count') {
    const row = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return [{ count: String(row.n) }];
  }
  let rows = q.selectAll('users').select('roles.name as role_name');
  if (c.orderBy) for (const o of c.orderBy) rows = rows.orderBy(o.expr, o.desc ? 'desc' : 'asc');
  const users = (await rows.orderBy('users.id').limit(c.limit).offset(c.offset).execute()).map(toUser);
  const wanted = c.select;
  return users.map((u) => {
    const all = wsUser(u);
    return Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k) || k === 'id'));
  });
}
