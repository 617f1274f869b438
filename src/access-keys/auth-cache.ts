import type { Clock } from '../platform/clock.js';
import type { ModuleMeta } from '../records/module-meta.js';
import type { Principal, SharingAccess } from '../roles/permissions.js';
import type { User } from '../users/user.model.js';
import type { WebhookSubscription } from '../webhooks/webhook.table.js';
import type { WsSessionRow } from '../webservices/ws-session.table.js';

/** A web-service session as last read from the database, with the user's current key id at that time. */
export interface CachedWsSession {
  session: WsSessionRow;
  user: User;
  currentKeyId: number | null;
}

/** A user's current key as stored (still encrypted), with their API access at that time. */
export interface CachedUserKey {
  keyId: number;
  ciphertext: string;
  apiAccess: boolean;
}

/** where a load reads: the pool, or a transaction (whose reads are never shared) */
type Reader = { readonly isTransaction: boolean };

interface Entry<T> {
  value: T;
  /** when it was cached */
  at: number;
}

/**
 * The longest an entry lives however often the auth version is confirmed unchanged: a change made by SQL by
 * hand, without bumping `auth_version`, shows within this.
 */
export const MAX_ENTRY_AGE_MS = 60_000;

/**
 * A cache of successful key lookups (by keyed digest) and of users' permissions, so the hot path of an
 * authenticated read touches no database. Every write that can change the outcome (key regenerated or
 * cleared, API access, user status/role, profiles, sharing) clears it on this process after commit and
 * bumps the auth version in its transaction; other replicas on PostgreSQL clear theirs when the change's
 * NOTIFY arrives, and every process when its poll of the version sees it move (auth-events.ts).
 *
 * Freshness: an entry is served until `ttlMs` (under 1 s) after the later of its caching and the start of
 * the last poll that found the version unchanged (`confirm`): every change committed before that poll
 * started is reflected in what is cached. So while polls succeed an entry lives on (up to
 * MAX_ENTRY_AGE_MS), a change elsewhere shows within one poll, and if polls stop (a database outage) an
 * entry still ends `ttlMs` after it was cached, as before.
 * It also holds web-service sessions (by session hash), sharing defaults and module metadata (a custom
 * field added clears it too): everything a read needs before it touches the record itself; users by
 * username for web-service sign-in (a rename, a deletion, any user change clears it), and their keys, still
 * encrypted, with their API access (a key or API-access change is an auth change). And the
 * webhooks that may send (on, owner active with API access and a key), which every record write reads:
 * webhook changes clear the cache like auth changes do, and owners' changes are auth changes.
 */
export class AuthCache {
  private keys = new Map<string, Entry<{ user: User; keyId: number }>>();
  private principals = new Map<number, Entry<Principal>>();
  private wsSessions = new Map<string, Entry<CachedWsSession>>();
  private sharing = new Map<string, Entry<SharingAccess>>();
  private modules = new Map<string, Entry<ModuleMeta>>();
  private usersByName = new Map<string, Entry<User>>();
  private userKeys = new Map<number, Entry<CachedUserKey>>();
  /** one entry (`all`): every webhook that may send */
  private subscriptions = new Map<'all', Entry<readonly WebhookSubscription[]>>();
  /**
   * Bumped by every clear(). A reader takes it before its database read and passes it to set*(): a
   * result read before a concurrent change committed is then never cached after that change.
   */
  generation = 0;
  /** the start of the last poll that found the auth version unchanged (see `confirm`) */
  private confirmedAt = Number.NEGATIVE_INFINITY;
  private readonly loading = new Map<string, Promise<unknown>>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  getKey(digest: string) {
    return this.read(this.keys, digest);
  }

  getPrincipal(userId: number) {
    return this.read(this.principals, userId);
  }

  getWsSession(sessionHash: string) {
    return this.read(this.wsSessions, sessionHash);
  }

  setWsSession(sessionHash: string, value: CachedWsSession, generation: number): void {
    this.put(this.wsSessions, sessionHash, value, generation);
  }

  /** Forgets one cached session that is no longer live (expired, idle, key changed): the database decides next. */
  dropWsSession(sessionHash: string): void {
    this.wsSessions.delete(sessionHash);
  }

  getSharing(module: string) {
    return this.read(this.sharing, module);
  }

  getModule(name: string) {
    return this.read(this.modules, name);
  }

  /** The key's user from the cache while fresh, else from `load` (kept only when found). */
  keyThrough(digest: string, db: Reader, load: () => Promise<{ user: User; keyId: number } | undefined>) {
    return this.through(this.keys, digest, `key:${digest}`, db, load);
  }

  principalThrough(userId: number, db: Reader, load: () => Promise<Principal>) {
    return this.through(this.principals, userId, `principal:${userId}`, db, load);
  }

  sharingThrough(module: string, db: Reader, load: () => Promise<SharingAccess>) {
    return this.through(this.sharing, module, `sharing:${module}`, db, load);
  }

  moduleThrough(name: string, db: Reader, load: () => Promise<ModuleMeta>) {
    return this.through(this.modules, name, `module:${name}`, db, load);
  }

  /** A user by lower-cased username (kept only when found). */
  userByNameThrough(usernameKey: string, db: Reader, load: () => Promise<User | undefined>) {
    return this.through(this.usersByName, usernameKey, `user:${usernameKey}`, db, load);
  }

  /** A user's current key, for web-service sign-in (kept only when the user has one). */
  userKeyThrough(userId: number, db: Reader, load: () => Promise<CachedUserKey | undefined>) {
    return this.through(this.userKeys, userId, `user-key:${userId}`, db, load);
  }

  subscriptionsThrough(db: Reader, load: () => Promise<readonly WebhookSubscription[]>) {
    return this.through(this.subscriptions, 'all', 'subscriptions', db, load);
  }

  /**
   * Concurrent misses of one entry share one load, started in this generation: when an entry expired
   * under load every request in flight read it again (~0.2 queries per REST read on PostgreSQL). A load
   * started before a clear() is never shared after it, and one read inside a transaction (which may see
   * its uncommitted rows) never at all.
   */
  private once<T>(slot: string, db: Reader, load: () => Promise<T>): Promise<T> {
    if (db.isTransaction) return load();
    const key = `${this.generation}:${slot}`;
    let p = this.loading.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load().finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  /**
   * The entry while fresh; else `load`'s answer (shared with concurrent misses), cached unless it is
   * undefined or a clear() came while it was read.
   */
  private async through<K, T, L extends T | undefined>(
    map: Map<K, Entry<T>>,
    k: K,
    slot: string,
    db: Reader,
    load: () => Promise<L>,
  ): Promise<T | L> {
    const hit = this.read(map, k);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const value = await this.once(slot, db, load);
    if (value !== undefined) this.put(map, k, value as T, generation);
    return value;
  }

  private put<K, T>(map: Map<K, Entry<T>>, k: K, value: T, generation: number): void {
    if (generation === this.generation) this.write(map, k, value);
  }

  /**
   * A poll that started at `at` (this cache's clock, read before the query was sent) found the auth version
   * unchanged since the previous poll: whatever is cached reflects every change committed before `at`.
   */
  confirm(at: number): void {
    if (at > this.confirmedAt) this.confirmedAt = at;
  }

  /** Whether something cached at `at` may still be served (for caches kept beside this one). */
  isFresh(at: number): boolean {
    if (this.ttlMs <= 0) return false;
    const now = this.clock.now();
    return now < Math.max(at, this.confirmedAt) + this.ttlMs && now < at + MAX_ENTRY_AGE_MS;
  }

  clear(): void {
    this.generation++;
    this.subscriptions.clear();
    this.keys.clear();
    this.principals.clear();
    this.wsSessions.clear();
    this.sharing.clear();
    this.modules.clear();
    this.usersByName.clear();
    this.userKeys.clear();
  }

  private read<K, T>(map: Map<K, Entry<T>>, k: K): T | undefined {
    if (this.ttlMs <= 0) return undefined;
    const e = map.get(k);
    if (!e) return undefined;
    if (!this.isFresh(e.at)) {
      map.delete(k);
      return undefined;
    }
    return e.value;
  }

  private write<K, T>(map: Map<K, Entry<T>>, k: K, value: T): void {
    if (this.ttlMs <= 0) return;
    if (map.size >= this.maxEntries) map.clear();
    map.set(k, { value, at: this.clock.now() });
  }
}
