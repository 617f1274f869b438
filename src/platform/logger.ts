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
 * The logger Fastify gives each request (`req.log`), built on first use. Fastify makes every request a
 * child of the server's logger bound to its id; with redaction configured, pino takes ~3.3 µs to build one
 * (~3 % of a web-service retrieve's CPU), and nearly every request writes no line at all. This one answers
 * as that child would: a line at a level the parent writes builds the child and goes through it (so it
 * carries the request id and is redacted as before); other lines cost a level check.
 */
class RequestLogger {
  #child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly own: pino.Bindings,
  ) {}

  private get logger(): Logger {
    this.#child ??= this.parent.child(this.own);
    return this.#child;
  }

  get level(): string {
    return (this.#child ?? this.parent).level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.parent).isLevelEnabled(level);
  }

  private write(level: pino.Level, args: unknown[]): void {
    if (this.isLevelEnabled(level)) (this.logger[level] as (...a: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options);
  }

  bindings(): pino.Bindings {
    return this.logger.bindings();
  }
}

/**
 * Fastify's `childLoggerFactory`: the request's logger, built lazily unless the route asks for options of
 * its own (a log level, serializers), which only a real child applies.
 */
export function requestLogger(
  parent: Logger,
  bindings: pino.Bindings,
  options: pino.ChildLoggerOptions,
): Logger {
  if (Object.keys(options).length > 0) return parent.child(bindings, options);
  return new RequestLogger(parent, bindings) as unknown as Logger;
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
