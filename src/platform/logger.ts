import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';
import type prettyFactory from 'pino-pretty';

export type { Logger };

/** Paths that may carry a secret anywhere a log line is built from a request or an object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'password',
  'newPassword',
  'currentPassword',
  'accessKey',
  'token',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.accessKey',
  '*.token',
  '*.passwordHash',
  '*.password_hash',
];

const SECRET_QUERY_PARAMS =
  /([?&](?:accessKey|accesskey|access_key|api_key|apikey|apiKey|sessionName|token|password|key)=)[^&#]*/g;

/** Query strings can carry secrets too (a web-service login sent as GET): mask their values. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[Redacted]');
}

/**
 * Access keys by their shape (`rpk_` + 39 base62 characters, see access-key.format.ts), wherever they sit
 * in a line: an unexpected query parameter (`api_key`, `apikey`), a VTQL query, an error message. Keys whose
 * checksum fails are masked too: a mistyped key is one correction away from a key.
 */
const KEY_SHAPE = /rpk_[0-9A-Za-z]{39}(?![0-9A-Za-z])/g;

export function redactKeys(line: string): string {
  return line.includes('rpk_') ? line.replace(KEY_SHAPE, 'rpk_[Redacted]') : line;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      // the last step before a line is written, for both formats (pretty reads these JSON lines)
      hooks: { streamWrite: redactKeys },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
          method: req.method,
          url: redactUrl(req.url),
          ip: req.ip,
        }),
      },
    },
    destination,
  );
}

/**
 * The server's logger: readable, coloured single lines on a terminal (or with LOG_FORMAT=pretty), JSON
 * lines otherwise (or with LOG_FORMAT=json) for log collectors. Redaction is the same either way.
 */
export function createConsoleLogger(
  opts: { logLevel: string; logFormat: 'auto' | 'pretty' | 'json' },
  out: NodeJS.WriteStream = process.stdout,
): Logger {
  // JSON: pino's own fast writer to stdout (or the given stream)
  if (!isReadableConsole(opts.logFormat, out))
    return createLogger(opts.logLevel, out === process.stdout ? undefined : out);
  // loaded only for a readable console: a server logging JSON never holds pino-pretty's 30 modules
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof prettyFactory;
  return createLogger(
    opts.logLevel,
    pretty({
      destination: out,
      colorize: out.isTTY === true,
      singleLine: true,
      translateTime: 'HH:MM:ss',
      ignore: 'pid,hostname,reqId,req,res,responseTime',
      sync: true,
    }),
  );
}

/** Whether the console shows a human (pretty) or a machine (JSON): decides how loud start-up banners are. */
export function isReadableConsole(
  logFormat: 'auto' | 'pretty' | 'json',
  out: NodeJS.WriteStream = process.stdout,
): boolean {
  return logFormat === 'pretty' || (logFormat === 'auto' && out.isTTY === true);
}
