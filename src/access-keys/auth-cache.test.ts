import { describe, expect, it } from 'vitest';
import { ManualClock } from '../platform/clock.js';
import type { User } from '../users/user.model.js';
import { AuthCache } from './auth-cache.js';

const entry = { user: { id: 1 } as User, keyId: 7 };

describe('AuthCache', () => {
  it('serves an entry until its time-to-live passes', () => {
    const clock = new ManualClock();
    const cache = new AuthCache(clock, 500);
    cache.setKey('d', entry, cache.generation);
    expect(cache.getKey('d')).toBe(entry);
    clock.advance(499);
    expect(cache.getKey('d')).toBe(entry);
    clock.advance(1);
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('clear() drops everything', () => {
    const cache = new AuthCache(new ManualClock(), 500);
    cache.setKey('d', entry, cache.generation);
    cache.clear();
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('never caches a result read before a change that cleared the cache', () => {
    const cache = new AuthCache(new ManualClock(), 500);
    const before = cache.generation; // a reader starts its database read …
    cache.clear(); // … a regenerate commits and clears …
    cache.setKey('d', entry, before); // … the reader's stale result arrives
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('a time-to-live of 0 turns caching off', () => {
    const cache = new AuthCache(new ManualClock(), 0);
    cache.setKey('d', entry, cache.generation);
    expect(cache.getKey('d')).toBeUndefined();
  });
});

describe('AuthCache.once', () => {
  const outside = { isTransaction: false };
  it('shares one load between concurrent misses, and loads afresh once it settled', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    let loads = 0;
    const load = async () => {
      const n = ++loads;
      await new Promise((r) => setTimeout(r, 5));
      return n;
    };
    expect(await Promise.all([1, 2, 3].map(() => cache.once('principal:1', outside, load)))).toEqual([
      1, 1, 1,
    ]);
    // another entry has its own load
    expect(await cache.once('principal:2', outside, load)).toBe(2);
    expect(await cache.once('principal:1', outside, load)).toBe(3);
  });

  it('never shares a load across a clear, nor one read inside a transaction', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    let loads = 0;
    const load = async () => {
      const n = ++loads;
      await new Promise((r) => setTimeout(r, 5));
      return n;
    };
    const before = cache.once('key:x', outside, load);
    cache.clear();
    const after = cache.once('key:x', outside, load);
    expect(await Promise.all([before, after])).toEqual([1, 2]);
    const inTransaction = { isTransaction: true };
    expect(
      await Promise.all([cache.once('key:y', inTransaction, load), cache.once('key:y', inTransaction, load)]),
    ).toEqual([3, 4]);
  });

  it('a failed load fails its waiters and is not kept', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    const failing = cache.once('module:Contacts', outside, async () => {
      throw new Error('database unavailable');
    });
    await expect(failing).rejects.toThrow('database unavailable');
    expect(await cache.once('module:Contacts', outside, async () => 'loaded')).toBe('loaded');
  });
});

describe('AuthCache (sessions, sharing, modules)', () => {
  const session = {
    session: { id: 1, session_hash: 'h', user_id: 1, key_id: 7, created_at: 0, last_seen_at: 0, ip: '' },
    user: { id: 1 } as User,
    currentKeyId: 7,
  };

  it('clear() drops web-service sessions, sharing defaults and module metadata too', () => {
    const cache = new AuthCache(new ManualClock(), 500);
    cache.setWsSession('h', session, cache.generation);
    cache.setSharing('Leads', 'public_read', cache.generation);
    cache.setModule('Leads', {} as never, cache.generation);
    cache.clear();
    expect(cache.getWsSession('h')).toBeUndefined();
    expect(cache.getSharing('Leads')).toBeUndefined();
    expect(cache.getModule('Leads')).toBeUndefined();
  });

  it('never caches a session, sharing default or module read before a clear()', () => {
    const cache = new AuthCache(new ManualClock(), 500);
    const before = cache.generation;
    cache.clear();
    cache.setWsSession('h', session, before);
    cache.setSharing('Leads', 'public_read', before);
    cache.setModule('Leads', {} as never, before);
    expect(cache.getWsSession('h')).toBeUndefined();
    expect(cache.getSharing('Leads')).toBeUndefined();
    expect(cache.getModule('Leads')).toBeUndefined();
  });

  it('dropWsSession forgets one session only', () => {
    const cache = new AuthCache(new ManualClock(), 500);
    cache.setWsSession('a', session, cache.generation);
    cache.setWsSession('b', session, cache.generation);
    cache.dropWsSession('a');
    expect(cache.getWsSession('a')).toBeUndefined();
    expect(cache.getWsSession('b')).toBe(session);
  });
});
