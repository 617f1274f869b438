import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { type Config, ConfigError, parseConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { createLogger } from '../src/platform/logger.js';
import { describeEachDialect } from './harness.js';

describeEachDialect('a process with another master key refuses to start', (h) => {
  const silent = () => createLogger('silent');
  const configWith = (secretKeyHex: string): Config => ({
    ...h.ctx.config,
    ...parseConfig({ LOG_LEVEL: 'silent' }),
    dataDir: mkdtempSync(path.join(tmpdir(), 'rapport-key-')),
    secretKeyHex,
  });
  /** A second context on the harness's own database (its schema on PostgreSQL), as a replica would be. */
  const replica = async (secretKeyHex: string) => {
    const ctx = await createContext(configWith(secretKeyHex), {
      db: h.ctx.db,
      logger: silent(),
      clock: h.clock,
    });
    // stop its background work; the database is the harness's and stays open
    await ctx.keyUsage.stop();
    await ctx.mailQueue.stop();
    return ctx;
  };

  it('starts with the same key, and refuses another one naming RAPPORT_SECRET_KEY', async () => {
    await expect(replica(h.ctx.config.secretKeyHex!)).resolves.toBeDefined();
    const err = await replica(randomBytes(32).toString('hex')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/^RAPPORT_SECRET_KEY is not the master key/);
  });

  it('a database from before the check (no check value yet) is proven by opening an access key', async () => {
    await h.ctx.db.kysely.deleteFrom('master_key_check').execute();
    const err = await replica(randomBytes(32).toString('hex')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    // the right key stores the check value again
    const ok = await replica(h.ctx.config.secretKeyHex!);
    expect(ok).toBeDefined();
    const rows = await h.ctx.db.kysely.selectFrom('master_key_check').selectAll().execute();
    expect(rows).toHaveLength(1);
  });

  it('readiness reports a mismatch when the stored check value changes under a running replica', async () => {
    await h.ctx.db.kysely.updateTable('master_key_check').set({ check_value: 'someone-else' }).execute();
    try {
      const res = await h.request({ method: 'GET', url: '/readyz' });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json()).toMatchObject({
        checks: { database: 'ok', migrations: 'ok', masterKey: 'mismatch' },
      });
    } finally {
      await h.ctx.db.kysely.deleteFrom('master_key_check').execute();
      await replica(h.ctx.config.secretKeyHex!);
    }
    expect((await h.request({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
