import type { AuthCache } from '../access-keys/auth-cache.js';
import type { AppContext } from '../context.js';
import type { ModuleMeta } from '../records/module-meta.js';
import type { FieldMask } from '../records/record-presenter.js';
import { isSubordinateRole, type Principal } from '../roles/permissions.js';
import { looksMasked, maskKind, maskValue } from './mask-format.js';
import { listRules, type MaskingRule, rolePaths, unmaskRoleIds } from './masking.repository.js';

/**
 * Every masking rule and the roles allowed to unmask, read in one go and held with the permissions: the same
 * generation counter and freshness as the auth cache, so every change that clears cached permissions (a
 * rule, the Unmask permission, a role moved or given other profiles) clears this too, on this process at
 * once and on other replicas when they hear of it (NOTIFY, or their next poll of the auth version).
 */
interface Snapshot {
  rules: Map<string, Array<MaskingRule & { paths: string[] }>>;
  unmaskRoles: Set<number>;
  /** memo: the masks of one module for one role (rules do not depend on anything else) */
  views: Map<string, ReadonlyMap<string, FieldMask>>;
}

interface Entry {
  generation: number;
  /** when it was read: fresh as long as the auth cache's entries of that time (`AuthCache.isFresh`) */
  at: number;
  snapshot: Promise<Snapshot>;
  /** the snapshot once read: what a transaction may use */
  value?: Snapshot;
}

const entries = new WeakMap<AuthCache, Entry>();

async function load(ctx: AppContext): Promise<Snapshot> {
  const [rules, unmask, paths] = await Promise.all([
    listRules(ctx.db.kysely),
    unmaskRoleIds(ctx.db.kysely),
    rolePaths(ctx.db.kysely),
  ]);
  const byModule = new Map<string, Array<MaskingRule & { paths: string[] }>>();
  for (const r of rules) {
    const list = byModule.get(r.module) ?? [];
    list.push({ ...r, paths: r.roleIds.map((id) => paths.get(id)).filter((p): p is string => !!p) });
    byModule.set(r.module, list);
  }
  return { rules: byModule, unmaskRoles: new Set(unmask), views: new Map() };
}

/**
 * The rules while fresh, else read (concurrent readers share the read). Inside a transaction (a webhook's
 * payload presented in the writer's transaction) only a finished snapshot is used; otherwise the rules
 * are read through the transaction and kept for nobody: that read may see the transaction's own rule
 * changes, and on SQLite a read started outside the transaction waits for its one connection, so a
 * transaction waiting for that read waited for itself (a writer's bench stalled for good, every request
 * behind it).
 */
function snapshot(ctx: AppContext): Promise<Snapshot> {
  const cache = ctx.authCache;
  const ttl = ctx.config.authCacheTtlMs;
  const now = ctx.clock.now();
  const e = entries.get(cache);
  const fresh = e !== undefined && e.generation === cache.generation && cache.isFresh(e.at);
  if (ctx.db.kysely.isTransaction) return fresh && e.value ? Promise.resolve(e.value) : load(ctx);
  if (fresh) return e.snapshot;
  const generation = cache.generation;
  const p = load(ctx);
  if (ttl > 0) {
    const entry: Entry = { generation, at: now, snapshot: p };
    entries.set(cache, entry);
    p.then(
      (value) => {
        entry.value = value;
      },
      // a failed read is not kept
      () => {
        if (entries.get(cache) === entry) entries.delete(cache);
      },
    );
  }
  return p;
}

/** Whether a rule masks the field for this viewer. Admins are not exempt: a rule is a rule. */
export function ruleApplies(rule: MaskingRule & { paths: string[] }, p: Principal): boolean {
  if (rule.level === 'module') return true;
  if (rule.roleIds.includes(p.roleId)) return true;
  return rule.includeSubordinates && rule.paths.some((path) => isSubordinateRole(path, p.rolePath));
}

const NONE: ReadonlyMap<string, FieldMask> = new Map();

/** The fields of `meta` masked for the viewer, with how each is masked. */
export async function masksFor(
  ctx: AppContext,
  p: Principal,
  meta: ModuleMeta,
): Promise<ReadonlyMap<string, FieldMask>> {
  const snap = await snapshot(ctx);
  const rules = snap.rules.get(meta.name);
  if (!rules) return NONE;
  const key = `${meta.name}|${p.roleId}|${p.rolePath}|${meta.fields.length}`;
  const memo = snap.views.get(key);
  if (memo) return memo;
  const out = new Map<string, FieldMask>();
  for (const rule of rules) {
    const field = meta.fieldMap.get(rule.field);
    const kind = field && maskKind(field.type);
    if (!kind || !ruleApplies(rule, p)) continue;
    const pattern = rule.pattern;
    out.set(rule.field, {
      mask: (v) => maskValue(kind, pattern, v),
      isPlaceholder: (v) => looksMasked(kind, v),
    });
  }
  const view = out.size ? out : NONE;
  snap.views.set(key, view);
  return view;
}

/** Whether the viewer's profiles grant Unmask (reveal one masked value of one record, audited). */
export async function mayUnmask(ctx: AppContext, p: Principal): Promise<boolean> {
  return (await snapshot(ctx)).unmaskRoles.has(p.roleId);
}
