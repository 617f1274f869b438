import { type Logger, pino } from 'pino';

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

const SECRET_QUERY_PARAMS = /([?&](?:accessKey|accesskey|sessionName|token|password|key)=)[^&#]*/g;

/** Query strings can carry secrets too (a web-service login sent as GET): mask their values. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[Redacted]');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
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
