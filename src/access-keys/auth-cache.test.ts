import { describe, expect, it } from 'vitest';
import { ManualClock } from '../platform/clock.js';
import type { Principal } from '../roles/permissions.js';
import type { User } from '../users/user.model.js';
import { AuthCache, MAX_ENTRY_AGE_MS } from './auth-cache.js';

const entry = { user: { id: 1 } as User, keyId: 7 };
const outside = { isTransaction: false };
const found = async () => entry;

/** A load whose answer comes when `release` is called: a database read in progress. */
function pending<T>() {
  let release!: (value: T) => void;
  const load = () => new Promise<T>((r) => (release = r));
  return { load, release: (value: T) => release(value) };
}

/** A load that counts its calls and answers the count a moment later. */
function counting() {
  let calls = 0;
  return async () => {
    const n = ++calls;
    await new Promise((r) => setTimeout(r, 5));
    return n as unknown as Principal;
  };
}

describe('AuthCache', () => {
  it('serves an entry until its time-to-live passes', async () => {
    const clock = new ManualClock();
    const cache = new AuthCache(clock, 500);
    await cache.keyThrough('d', outside, found);
    expect(cache.getKey('d')).toBe(entry);
    clock.advance(499);
    expect(cache.getKey('d')).toBe(entry);
    clock.advance(1);
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('a poll that found the auth version unchanged keeps entries fresh for another TTL from its start', async () => {
    const clock = new ManualClock();
    const cache = new AuthCache(clock, 500);
    await cache.keyThrough('d', outside, found);
    clock.advance(400);
    cache.confirm(clock.now()); // started at 400: every change committed before it is reflected
    clock.advance(499);
    expect(cache.getKey('d')).toBe(entry);
    clock.advance(1);
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('a confirmation older than the entry changes nothing; an older poll is not taken back', async () => {
    const clock = new ManualClock();
    const cache = new AuthCache(clock, 500);
    cache.confirm(clock.now());
    clock.advance(100);
    await cache.keyThrough('d', outside, found);
    cache.confirm(50); // a slow poll that started before a faster one finished
    clock.advance(500);
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('no entry outlives MAX_ENTRY_AGE_MS however often the version is confirmed', async () => {
    const clock = new ManualClock();
    const cache = new AuthCache(clock, 500);
    await cache.keyThrough('d', outside, found);
    for (let t = 250; t < MAX_ENTRY_AGE_MS; t += 250) {
      clock.advance(250);
      cache.confirm(clock.now());
      expect(cache.getKey('d')).toBe(entry);
    }
    clock.advance(250);
    cache.confirm(clock.now());
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('clear() drops everything', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    await cache.keyThrough('d', outside, found);
    const userKey = { keyId: 7, ciphertext: 'sealed', apiAccess: true };
    let loads = 0;
    const loadUserKey = async () => {
      loads++;
      return userKey;
    };
    expect(await cache.userKeyThrough(1, outside, loadUserKey)).toBe(userKey);
    expect(await cache.userKeyThrough(1, outside, loadUserKey)).toBe(userKey);
    expect(loads).toBe(1);
    cache.clear();
    expect(cache.getKey('d')).toBeUndefined();
    await cache.userKeyThrough(1, outside, loadUserKey);
    expect(loads).toBe(2);
  });

  it('never caches a result read before a change that cleared the cache', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    const read = pending<typeof entry>();
    const reading = cache.keyThrough('d', outside, read.load); // a reader starts its database read …
    cache.clear(); // … a regenerate commits and clears …
    read.release(entry); // … the reader's stale result arrives: answered, not kept
    expect(await reading).toBe(entry);
    expect(cache.getKey('d')).toBeUndefined();
  });

  it('keeps a key only when it was found', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    expect(await cache.keyThrough('d', outside, async () => undefined)).toBeUndefined();
    expect(await cache.keyThrough('d', outside, found)).toBe(entry);
  });

  it('a time-to-live of 0 turns caching off', async () => {
    const cache = new AuthCache(new ManualClock(), 0);
    await cache.keyThrough('d', outside, found);
    expect(cache.getKey('d')).toBeUndefined();
  });
});

describe('AuthCache: concurrent misses', () => {
  it('share one load, whose answer is then cached; another entry has its own', async () => {
    const clock = new ManualClock();
    const cache = new AuthCache(clock, 500);
    const load = counting();
    const answers = await Promise.all([1, 2, 3].map(() => cache.principalThrough(1, outside, load)));
    expect(answers).toEqual([1, 1, 1]);
    expect(await cache.principalThrough(1, outside, load)).toBe(1);
    expect(await cache.principalThrough(2, outside, load)).toBe(2);
    clock.advance(500);
    expect(await cache.principalThrough(1, outside, load)).toBe(3);
  });

  it('never share a load across a clear, nor one read inside a transaction', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    const load = counting();
    const before = cache.principalThrough(1, outside, load);
    cache.clear();
    const after = cache.principalThrough(1, outside, load);
    expect(await Promise.all([before, after])).toEqual([1, 2]);
    const inTransaction = { isTransaction: true };
    expect(
      await Promise.all([
        cache.principalThrough(5, inTransaction, load),
        cache.principalThrough(5, inTransaction, load),
      ]),
    ).toEqual([3, 4]);
  });

  it('a failed load fails its waiters and is not kept', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    const failing = cache.moduleThrough('Contacts', outside, async () => {
      throw new Error('database unavailable');
    });
    await expect(failing).rejects.toThrow('database unavailable');
    expect(await cache.moduleThrough('Contacts', outside, async () => ({}) as never)).toEqual({});
  });
});

describe('AuthCache (sessions, sharing, modules)', () => {
  const session = {
    session: { id: 1, session_hash: 'h', user_id: 1, key_id: 7, created_at: 0, last_seen_at: 0, ip: '' },
    user: { id: 1 } as User,
    currentKeyId: 7,
  };

  it('clear() drops web-service sessions, sharing defaults and module metadata too', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    cache.setWsSession('h', session, cache.generation);
    await cache.sharingThrough('Leads', outside, async () => 'public_read');
    await cache.moduleThrough('Leads', outside, async () => ({}) as never);
    expect(cache.getSharing('Leads')).toBe('public_read');
    cache.clear();
    expect(cache.getWsSession('h')).toBeUndefined();
    expect(cache.getSharing('Leads')).toBeUndefined();
    expect(cache.getModule('Leads')).toBeUndefined();
  });

  it('never caches a session, sharing default or module read before a clear()', async () => {
    const cache = new AuthCache(new ManualClock(), 500);
    const before = cache.generation;
    const sharing = pending<'public_read'>();
    const module = pending<never>();
    const reads = [
      cache.sharingThrough('Leads', outside, sharing.load),
      cache.moduleThrough('Leads', outside, module.load),
    ];
    cache.clear();
    cache.setWsSession('h', session, before);
    sharing.release('public_read');
    module.release({} as never);
    await Promise.all(reads);
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
