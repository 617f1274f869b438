import type { Clock } from '../platform/clock.js';
import type { Principal } from '../roles/permissions.js';
import type { User } from '../users/user.model.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * A short-lived cache of successful key lookups (by keyed digest) and of users' permissions, so the
 * hot path of an authenticated read touches no database. Every write that can change the outcome
 * (key regenerated or cleared, API access, user status/role, profiles, sharing) clears it on this
 * process after commit; other replicas see the change when their entries expire (`ttlMs`, under 1 s).
 */
export class AuthCache {
  private keys = new Map<string, Entry<{ user: User; keyId: number }>>();
  private principals = new Map<number, Entry<Principal>>();
  /**
   * Bumped by every clear(). A reader takes it before its database read and passes it to set*(): a
   * result read before a concurrent change committed is then never cached after that change.
   */
  generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  getKey(digest: string) {
    return this.read(this.keys, digest);
  }

  setKey(digest: string, value: { user: User; keyId: number }, generation: number): void {
    if (generation === this.generation) this.write(this.keys, digest, value);
  }

  getPrincipal(userId: number) {
    return this.read(this.principals, userId);
  }

  setPrincipal(userId: number, value: Principal, generation: number): void {
    if (generation === this.generation) this.write(this.principals, userId, value);
  }

  clear(): void {
    this.generation++;
    this.keys.clear();
    this.principals.clear();
  }

  private read<K, T>(map: Map<K, Entry<T>>, k: K): T | undefined {
    if (this.ttlMs <= 0) return undefined;
    const e = map.get(k);
    if (!e) return undefined;
    if (this.clock.now() >= e.expiresAt) {
      map.delete(k);
      return undefined;
    }
    return e.value;
  }

  private write<K, T>(map: Map<K, Entry<T>>, k: K, value: T): void {
    if (this.ttlMs <= 0) return;
    if (map.size >= this.maxEntries) map.clear();
    map.set(k, { value, expiresAt: this.clock.now() + this.ttlMs });
  }
}
