import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Security headers on every answer — the web UI, the API, `/api/docs` (issue 14, finding 7).
 *
 * The UI's CSP allows scripts only from this origin: Vite emits one `<script type="module" src>` and no
 * inline script. Styles may be inline (Mantine writes its CSS variables into a `<style>` element); that
 * cannot run code. No framing (`frame-ancestors 'none'` and `X-Frame-Options: DENY`), no MIME sniffing,
 * no referrer outside this origin. `upgrade-insecure-requests` is left out so a plain-HTTP install on a
 * LAN keeps loading its assets. HSTS is only sent on answers that went out over HTTPS (directly, or
 * behind a trusted proxy that says `X-Forwarded-Proto: https`), where the browser honours it anyway.
 */
export const UI_CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: UI_CSP_DIRECTIVES },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
  hsts: false,
  // the API is read cross-origin by nobody; the UI loads only its own assets
  crossOriginResourcePolicy: { policy: 'same-origin' },
};

/**
 * The headers helmet sets with HELMET_OPTIONS, worked out once. They do not depend on the request (no
 * nonces), and @fastify/helmet rebuilt helmet's middleware, CSP string included, on every request: about
 * 5 % of a record read's time. helmet stays the source of truth for the header set; it runs once here.
 */
export function helmetHeaders(options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  } as unknown as ServerResponse;
  let failed: unknown;
  helmet(options)({} as IncomingMessage, res, (err?: unknown) => {
    failed = err;
  });
  if (failed) throw failed;
  return headers;
}

export async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  const headers = helmetHeaders();
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(headers);
    if (req.protocol === 'https') reply.header('strict-transport-security', HSTS_VALUE);
  });
}

/**
 * Swagger UI's page: @fastify/swagger-ui's `staticCSP` (scripts from this origin, hashes of inline ones if
 * any), without framing or `upgrade-insecure-requests`, as for the UI; inline styles allowed (its bundle sets
 * them); no images from the online validator (turned off).
 */
export function swaggerUiCsp(header: string): string {
  return (
    header
      .split(';')
      .map((d) => d.trim())
      .filter((d) => d !== '' && !d.startsWith('upgrade-insecure-requests'))
      .map((d) => (d.startsWith('frame-ancestors') ? "frame-ancestors 'none'" : d))
      // Swagger UI sets inline styles from its bundle; styles cannot run code. Its validator badge is off.
      .map((d) => (d.startsWith('style-src') ? "style-src 'self' 'unsafe-inline'" : d))
      .map((d) => (d.startsWith('img-src') ? "img-src 'self' data:" : d))
      .join('; ')
  );
}
