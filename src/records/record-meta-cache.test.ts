import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { AuthCache } from '../access-keys/auth-cache.js';
import type { AppContext } from '../context.js';
import { moduleMetaFor } from './module-meta.js';
import { cachedModuleSharing } from './record-access.js';

/**
 * Sharing defaults and module metadata are served from the auth cache (≤ AUTH_CACHE_TTL_MS): a change
 * shows at once on the process that made it, and on another replica (own cache, same database) once its
 * entry expires.
 */
describeEachDialect('cached sharing defaults and module metadata', (h) => {
  const replica = (): AppContext => ({ ...h.ctx, authCache: new AuthCache(h.clock, 500) });

  it('a sharing default changed here applies at once here and within the TTL on another replica', async () => {
    const other = replica();
    const before = await cachedModuleSharing(h.ctx, 'HelpDesk');
    expect(await cachedModuleSharing(other, 'HelpDesk')).toBe(before);
    const next = before === 'public_read' ? 'private' : 'public_read';
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/sharing-defaults',
        as: h.admin,
        payload: { HelpDesk: next },
      }),
      200,
    );
    expect(await cachedModuleSharing(h.ctx, 'HelpDesk')).toBe(next);
    h.clock.advance(500);
    expect(await cachedModuleSharing(other, 'HelpDesk')).toBe(next);
  });

  it('a custom field added here is known at once here and within the TTL on another replica', async () => {
    const other = replica();
    const names = async (ctx: AppContext) => (await moduleMetaFor(ctx, 'Accounts')).fields.map((f) => f.name);
    await names(h.ctx);
    const before = await names(other);
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/modules/Accounts/fields',
      as: h.admin,
      payload: { label: 'Region', type: 'string' },
    });
    expectStatus(res, 201);
    expect(await names(h.ctx)).toContain(res.json().name);
    h.clock.advance(500);
    expect(await names(other)).toEqual([...before, res.json().name]);
  });

  it('hands out metadata nobody can change in place (it is shared by concurrent requests)', async () => {
    const meta = await moduleMetaFor(h.ctx, 'Contacts');
    expect(Object.isFrozen(meta)).toBe(true);
    expect(Object.isFrozen(meta.fields)).toBe(true);
    expect(() => (meta.fields as unknown[]).push({})).toThrow();
  });
});
