import path from 'node:path';
import { z } from 'zod';
import type { DatabaseTarget } from './db/database.js';
import { parseTrustProxy, type TrustProxy } from './http/trust-proxy.js';

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
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  LOG_REQUESTS: z.enum(['true', 'false']).default('true'),
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  HEADERS_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(10),
  KEEP_ALIVE_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(72),
  IDLE_SOCKET_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(120),
  MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  DATABASE_SHARED_READ_CONNECTIONS: z.coerce.number().int().min(0).max(16).default(2),
  DATABASE_CONNECT_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(300).default(5),
  DATABASE_STATEMENT_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3600).default(30),
  REPORT_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3600).default(20),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(10080).default(120),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, c) => {
      const parsed = parseTrustProxy(v);
      if (typeof parsed === 'object' && !Array.isArray(parsed)) {
        c.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed;
    }),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50_000_000).default(1_048_576),
  LOGIN_MAX_FAILURES_PER_USER: z.coerce.number().int().min(1).default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(30),
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  KEY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(6000),
  WS_CHALLENGES_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  KEY_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
  KEY_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(300),
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(1000).default(500),
  AUTH_CACHE_LISTEN: z.enum(['true', 'false']).default('true'),
  AUTH_VERSION_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(125),
  KEY_USAGE_FLUSH_SECONDS: z.coerce.number().min(0.1).max(3600).default(5),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps:// (leave unset to keep mail in the outbox)')
    .optional(),
  MAIL_FROM: z.string().min(3).max(200).default('Rapport <rapport@localhost>'),
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .max(4000)
    .regex(
      /^[\w.:/*-]+(,\s*[\w.:/*-]+)*$/,
      'must be a comma-separated list of host names or CIDRs (127.0.0.1/32, ::1/128, localhost)',
    )
    .optional(),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(120).default(15),
  WEBHOOK_SENDER: z.enum(['on', 'off']).default('on'),
  WEBHOOK_RETENTION_DAYS: z.coerce.number().min(1).max(3650).default(30),
  WEBHOOK_BUSY_RATE: z.coerce.number().int().min(1).max(1_000_000).default(100),
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL')
    .optional(),
  SMTP_INTAKE_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SMTP_INTAKE_HOST: z.string().min(1).default('127.0.0.1'),
  SMTP_INTAKE_RECIPIENTS: z
    .string()
    .max(4000)
    .regex(
      /^\s*[^\s@,+]+@[^\s@,]+(\s*,\s*[^\s@,+]+@[^\s@,]+)*\s*$/,
      'must be a comma-separated list of addresses such as crm@example.com (without a +tag)',
    )
    .optional(),
  SMTP_INTAKE_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(20),
  MAILROOM_LEASE_SECONDS: z.coerce.number().int().min(2).max(3600).default(60),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseTarget;
  adminPassword: string | undefined;
  secretKeyHex: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  /** `pretty` on a terminal (auto), JSON lines otherwise */
  logFormat: Env['LOG_FORMAT'];
  /** one log line per request (errors are logged either way) */
  logRequests: boolean;
  /** lets a scraper read `/metrics` with `Authorization: Bearer <token>` (admins may always) */
  metricsToken: string | undefined;
  /** slow or stuck clients: whole request, headers, idle keep-alive, idle socket; and a connection cap */
  http: {
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    idleSocketTimeoutMs: number;
    maxConnections: number;
  };
  session: { idleMs: number; absoluteMs: number; cookieSecure: 'auto' | boolean };
  /** Fastify's trustProxy: false, true, a hop count, or addresses/CIDR ranges (src/http/trust-proxy.ts) */
  trustProxy: TrustProxy;
  bodyLimit: number;
  loginThrottle: { maxPerUser: number; maxPerIp: number; windowMs: number };
  accessKeys: { perMinute: number; maxFailuresPerIp: number; failureWindowMs: number; usageFlushMs: number };
  /** web-service `getchallenge` calls per client address and minute, counted in the database (all replicas) */
  wsChallengesPerIpPerMinute: number;
  /** how long a replica may serve a cached key lookup or permission set; 0 turns the cache off */
  authCacheTtlMs: number;
  /** PostgreSQL: LISTEN for other replicas' auth changes (off behind a pooler in transaction mode) */
  authCacheListen: boolean;
  /**
   * how often each process reads the auth version: a change made by another process shows within this
   * without LISTEN, and while it is shorter than the TTL cached entries stay fresh instead of expiring
   */
  authVersionPollMs: number;
  /** Outgoing mail: SMTP when `smtpUrl` is set, else the outbox table; `from` is the system sender. */
  mail: { smtpUrl: string | undefined; from: string };
  /**
   * Webhook delivery: `allowedHosts` lists host names and CIDRs that may be private or loopback
   * (development and tests; empty by default, so every private target is refused); `timeoutMs` bounds one
   * attempt; `sender` off leaves deliveries queued for other replicas (or a later start).
   */
  webhooks: {
    allowedHosts: string[];
    timeoutMs: number;
    sender: boolean;
    /** finished deliveries and their attempts are deleted this long after they finished */
    retentionMs: number;
    /** deliveries this process starts per second while requests saturate it (they wait, never drop) */
    busyRate: number;
  };
  /**
   * The built-in SMTP intake (off unless a port is set): listens on `host:port`, accepts mail for the
   * listed addresses (and their `local+tag@domain` forms, compared case-insensitively), at most
   * `maxConnections` clients at once.
   */
  smtpIntake: { port: number; host: string; recipients: string[]; maxConnections: number } | null;
  /**
   * How long a process holds an IMAP mailbox before another may take it over (renewed while it works or
   * idles); a message being processed is held twice as long. A process killed with -9 frees its mailboxes
   * after this time.
   */
  mailroomLeaseMs: number;
  /** Base of links in emails (password reset, email verification), without a trailing slash. */
  publicUrl: string;
  /**
   * Reports: the longest a report's statements may run (PostgreSQL: statement_timeout; SQLite: the time
   * limit of the report worker) before the run is stopped with 503 REPORT_TOO_SLOW.
   */
  reports: { timeoutMs: number };
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
  if (e.HEADERS_TIMEOUT_SECONDS > e.REQUEST_TIMEOUT_SECONDS)
    throw new ConfigError(
      'Invalid configuration:\n  HEADERS_TIMEOUT_SECONDS: must not be larger than REQUEST_TIMEOUT_SECONDS',
    );
  if (e.SMTP_INTAKE_PORT !== undefined && !e.SMTP_INTAKE_RECIPIENTS)
    throw new ConfigError(
      'Invalid configuration:\n  SMTP_INTAKE_RECIPIENTS: list the addresses the SMTP intake accepts (crm@example.com) when SMTP_INTAKE_PORT is set',
    );
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          sharedReadConnections: e.DATABASE_SHARED_READ_CONNECTIONS,
          connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_SECONDS * 1000,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000,
        }
      : {
          kind: 'sqlite',
          file: path.join(dataDir, 'rapport.db'),
          busyTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_SECONDS * 1000,
        },
    adminPassword: e.RAPPORT_ADMIN_PASSWORD,
    secretKeyHex: e.RAPPORT_SECRET_KEY,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    logRequests: e.LOG_REQUESTS === 'true',
    metricsToken: e.METRICS_TOKEN,
    http: {
      requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
      headersTimeoutMs: e.HEADERS_TIMEOUT_SECONDS * 1000,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
      idleSocketTimeoutMs: e.IDLE_SOCKET_TIMEOUT_SECONDS * 1000,
      maxConnections: e.MAX_CONNECTIONS,
    },
    session: {
      idleMs: e.SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: e.SESSION_ABSOLUTE_HOURS * 3_600_000,
      cookieSecure: e.COOKIE_SECURE === 'auto' ? 'auto' : e.COOKIE_SECURE === 'true',
    },
    trustProxy: e.TRUST_PROXY,
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
    wsChallengesPerIpPerMinute: e.WS_CHALLENGES_PER_IP_PER_MINUTE,
    authCacheTtlMs: e.AUTH_CACHE_TTL_MS,
    authCacheListen: e.AUTH_CACHE_LISTEN === 'true',
    authVersionPollMs: e.AUTH_VERSION_POLL_MS,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    reports: { timeoutMs: Math.round(e.REPORT_TIMEOUT_SECONDS * 1000) },
    webhooks: {
      allowedHosts: (e.WEBHOOK_ALLOWED_HOSTS ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ''),
      timeoutMs: Math.round(e.WEBHOOK_TIMEOUT_SECONDS * 1000),
      sender: e.WEBHOOK_SENDER === 'on',
      retentionMs: Math.round(e.WEBHOOK_RETENTION_DAYS * 86_400_000),
      busyRate: e.WEBHOOK_BUSY_RATE,
    },
    smtpIntake:
      e.SMTP_INTAKE_PORT === undefined
        ? null
        : {
            port: e.SMTP_INTAKE_PORT,
            host: e.SMTP_INTAKE_HOST,
            recipients: (e.SMTP_INTAKE_RECIPIENTS ?? '')
              .split(',')
              .map((a) => a.trim().toLowerCase())
              .filter((a) => a !== ''),
            maxConnections: e.SMTP_INTAKE_MAX_CONNECTIONS,
          },
    mailroomLeaseMs: e.MAILROOM_LEASE_SECONDS * 1000,
    publicUrl: (e.PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
    fastPasswordHashing: false,
  };
}

/** An empty variable (`PORT=`) means "not set", as shells and .env files usually intend. */
function stripEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
