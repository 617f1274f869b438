import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** `web/dist` relative to this file, both from `src/http` (tsx, tests) and from `dist/http` (built). */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** Paths that belong to the server, never to the single-page app: their misses stay JSON 404s. */
const SERVER_PATHS = /^\/(api|webservice\.php|healthz|readyz|metrics)(\/|\?|$)/;

/**
 * Serves the built web UI: hashed assets with a long cache, and `index.html` for any other GET that asks for
 * HTML (deep links such as /settings/users/3), so the browser router can take over. `/` is the app whatever
 * the client accepts (a monitor or `curl` without `Accept: text/html` gets the app, not a 404).
 */
export async function webUiRoutes(app: FastifyInstance, root = DEFAULT_WEB_ROOT): Promise<void> {
  const built = fs.existsSync(path.join(root, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: path.join(root, 'assets'),
      prefix: '/assets/',
      // one route for every hashed asset (a route per file cost ~45 ms of start-up for ~170 files)
      wildcard: true,
      index: false,
      maxAge: '365d',
      immutable: true,
      // the build writes .br and .gz beside each text asset (web/vite.config.ts): sent as they are to a
      // browser that accepts them, with Vary: Accept-Encoding
      preCompressed: true,
    });
  }
  // files beside index.html (web/public: the favicon) keep their names from build to build, so they are
  // revalidated after an hour rather than cached for a year like the hashed assets
  const unhashed = built ? unhashedFiles(root) : new Set<string>();

  app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    if (unhashed.has(name)) {
      reply.header('cache-control', 'public, max-age=3600');
      return reply.sendFile(name, root, { cacheControl: false });
    }
    if (!wantsAppShell(req)) return reply.callNotFound();
    if (!built) {
      return reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>Rapport</title><p>The web UI has not been built. Run <code>npm run build</code>.</p>',
        );
    }
    return sendShell(reply, root);
  });
}

function unhashedFiles(root: string): Set<string> {
  return new Set(
    fs
      .readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('index.html') && !/\.(br|gz)$/.test(e.name))
      .map((e) => e.name),
  );
}

function wantsAppShell(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (SERVER_PATHS.test(req.url)) return false;
  if (/^\/(\?|$)/.test(req.url)) return true;
  return String(req.headers.accept ?? '').includes('text/html');
}

function sendShell(reply: FastifyReply, root: string): FastifyReply {
  reply.header('cache-control', 'no-cache');
  return reply.sendFile('index.html', root, { cacheControl: false });
}
