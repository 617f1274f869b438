import path from 'node:path';
import { z } from 'zod';

/** Everything Rapport reads from the environment, parsed and validated once. Only this file reads process.env. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// (leave unset for the embedded SQLite)')
    .optional(),
  RAPPORT_ADMIN_PASSWORD: z.string().min(1).optional(),
  RAPPORT_SECRET_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(10080).default(120),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50_000_000).default(1_048_576),
  LOGIN_MAX_FAILURES_PER_USER: z.coerce.number().int().min(1).default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(30),
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  KEY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(6000),
  KEY_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
  KEY_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(300),
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(1000).default(500),
  KEY_USAGE_FLUSH_SECONDS: z.coerce.number().min(0.1).max(3600).default(5),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  adminPassword: string | undefined;
  secretKeyHex: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  session: { idleMs: number; absoluteMs: number; cookieSecure: 'auto' | boolean };
  trustProxy: boolean;
  bodyLimit: number;
  loginThrottle: { maxPerUser: number; maxPerIp: number; windowMs: number };
  accessKeys: { perMinute: number; maxFailuresPerIp: number; failureWindowMs: number; usageFlushMs: number };
  /** how long a replica may serve a cached key lookup or permission set; 0 turns the cache off */
  authCacheTtlMs: number;
  /** Cheaper password hashing for the test suite only; never set from the environment. */
  fastPasswordHashing: boolean;
}

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(stripEmpty(env));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = result.data;
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'sqlite', file: path.join(dataDir, 'rapport.db') },
    adminPassword: e.RAPPORT_ADMIN_PASSWORD,
    secretKeyHex: e.RAPPORT_SECRET_KEY,
    logLevel: e.LOG_LEVEL,
    session: {
      idleMs: e.SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: e.SESSION_ABSOLUTE_HOURS * 3_600_000,
      cookieSecure: e.COOKIE_SECURE === 'auto' ? 'auto' : e.COOKIE_SECURE === 'true',
    },
    trustProxy: e.TRUST_PROXY === 'true',
    bodyLimit: e.BODY_LIMIT_BYTES,
    loginThrottle: {
      maxPerUser: e.LOGIN_MAX_FAILURES_PER_USER,
      maxPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      windowMs: e.LOGIN_FAILURE_WINDOW_SECONDS * 1000,
    },
    accessKeys: {
      perMinute: e.KEY_RATE_LIMIT_PER_MINUTE,
      maxFailuresPerIp: e.KEY_MAX_FAILURES_PER_IP,
      failureWindowMs: e.KEY_FAILURE_WINDOW_SECONDS * 1000,
      usageFlushMs: Math.round(e.KEY_USAGE_FLUSH_SECONDS * 1000),
    },
    authCacheTtlMs: e.AUTH_CACHE_TTL_MS,
    fastPasswordHashing: false,
  };
}

/** An empty variable (`PORT=`) means "not set", as shells and .env files usually intend. */
function stripEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
