/**
 * The one place that understands driver errors from better-sqlite3 and `pg`. The HTTP error handler and
 * the web-service endpoint both ask `classifyDatabaseError`, so a driver error is never a 500 for input a
 * client sent, a race two clients ran, or a database that is briefly away — on either database.
 */
export type DatabaseFailure =
  /** the database refused a value (NUL, bad text, number out of range, bad LIKE escape…) */
  | { kind: 'bad-input'; message: string }
  /** a unique or foreign-key rule refused the write: usually two requests raced */
  | { kind: 'conflict'; column: string | undefined; message: string }
  /** the database cannot be reached, is shutting down, is locked or read-only: try again later */
  | { kind: 'unavailable'; message: string };

/** Seconds a client is asked to wait (`Retry-After`) while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Marks an error raised while opening a connection: whatever its code, the database is out of reach. */
const CONNECT_FAILURE = Symbol('rapport.connectFailure');

export function markConnectFailure(err: unknown): unknown {
  if (err && typeof err === 'object') (err as Record<symbol, boolean>)[CONNECT_FAILURE] = true;
  return err;
}

const NODE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** `pg` and pg-pool say "the connection is gone" in words only. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Cannot use a pool after calling end|Query read timeout|terminating connection/i;

/**
 * The connection a statement went on is gone or going (the server ended it, the socket broke): nothing
 * more can be sent on it, though its 'end' event may come later than the failure.
 */
export function isLostConnection(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('08') || code.startsWith('57P') || NODE_NETWORK_CODES.has(code)) return true;
  return (
    !/^[0-9A-Z]{5}$/.test(code) &&
    PG_CONNECTION_MESSAGES.test(typeof e?.message === 'string' ? e.message : '')
  );
}

/**
 * PostgreSQL: a prepared statement met a table that gained or lost a column since it was planned (a custom
 * field added by another process). The statement cache prepares it afresh; run again, it answers.
 */
export function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === '0A000' &&
    typeof e.message === 'string' &&
    /cached plan must not change result type/i.test(e.message)
  );
}

const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|CANTOPEN|IOERR|FULL|PROTOCOL|PERM|AUTH)/;

export function classifyDatabaseError(err: unknown): DatabaseFailure | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as {
    code?: unknown;
    message?: unknown;
    constraint?: unknown;
    detail?: unknown;
    column?: unknown;
  } & Record<symbol, unknown>;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (e[CONNECT_FAILURE]) return unavailable();
  if (code.startsWith('SQLITE_')) return classifySqlite(code, message);
  if (NODE_NETWORK_CODES.has(code)) return unavailable();
  if (isStalePlan(err)) return unavailable();
  if (/^[0-9A-Z]{5}$/.test(code)) return classifyPostgres(code, e);
  if (PG_CONNECTION_MESSAGES.test(message)) return unavailable();
  return null;
}

function classifySqlite(code: string, message: string): DatabaseFailure | null {
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    // "UNIQUE constraint failed: users.username_key" (several columns: "t.a, t.b")
    const column = /constraint failed: \w+\.(\w+)/.exec(message)?.[1];
    return conflict(column);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return conflict(undefined);
  if (code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH' || code === 'SQLITE_RANGE') return badInput();
  if (SQLITE_UNAVAILABLE.test(code)) return unavailable();
  return null;
}

function classifyPostgres(
  code: string,
  e: { constraint?: unknown; detail?: unknown; column?: unknown },
): DatabaseFailure | null {
  // class 22 is "data exception": invalid text or byte sequence (NUL), numeric out of range, bad escape
  if (code.startsWith('22')) return badInput();
  if (code === '23505' || code === '23503') {
    // detail: 'Key (username_key)=(x) already exists.' — the first column is the one that clashed
    const detail = typeof e.detail === 'string' ? e.detail : '';
    const column = /^Key \("?(\w+)"?[,)]/.exec(detail)?.[1];
    return conflict(code === '23505' ? column : undefined);
  }
  if (code === '40001' || code === '40P01') return conflict(undefined);
  // 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now; 53: out of resources;
  // 57014: statement timeout; 3D000 and 28xxx can only come from (re)connecting
  if (
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code.startsWith('53') ||
    code === '57014' ||
    code === '3D000' ||
    code.startsWith('28')
  )
    return unavailable();
  return null;
}

function badInput(): DatabaseFailure {
  return {
    kind: 'bad-input',
    message: 'A value in the request cannot be stored (invalid characters or a number out of range).',
  };
}

function conflict(column: string | undefined): DatabaseFailure {
  return {
    kind: 'conflict',
    column: column ? apiFieldName(column) : undefined,
    message: 'This conflicts with a change made at the same time (the value is already taken); try again.',
  };
}

function unavailable(): DatabaseFailure {
  return {
    kind: 'unavailable',
    message: 'The database is unavailable right now; try again shortly.',
  };
}

/** Column names as the API spells them: `username_key` → `username`, `role_id` → `roleId`. */
function apiFieldName(column: string): string {
  const base = column.replace(/_key$/, '');
  return base.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
