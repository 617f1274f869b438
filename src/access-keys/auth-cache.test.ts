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
