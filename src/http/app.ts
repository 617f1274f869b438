import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { accessKeyRoutes } from '../access-keys/access-key.routes.js';
import { currentKeyId, loadKeyForSignIn, noteKeyUse } from '../access-keys/access-key.service.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { authRoutes } from '../auth/auth.routes.js';
import { authenticateRequest } from '../auth/authenticate.js';
import { auditImpersonatedRequest } from '../auth/impersonation-audit.js';
import { refuseSecretRoutesWhileImpersonating } from '../auth/impersonation-guard.js';
import { accountRecoveryRoutes } from '../auth/routes/account-recovery.routes.js';
import { impersonationRoutes } from '../auth/routes/impersonation.routes.js';
import { impersonationConsentRoutes } from '../auth/routes/impersonation-consent.routes.js';
import type { AppContext } from '../context.js';
import { mailRoutes } from '../mail/mail.routes.js';
import { mailroomRoutes } from '../mailroom/mailroom.routes.js';
import { maskingRoutes } from '../masking/masking.routes.js';
import { type Logger, redactUrl, requestLogger } from '../platform/logger.js';
import { RAPPORT_VERSION } from '../platform/version.js';
import { recordRoutes } from '../records/record.routes.js';
import { reportRoutes } from '../reports/report.routes.js';
import { roleRoutes } from '../roles/role.routes.js';
import { settingsRoutes } from '../settings/settings.routes.js';
import { setupChecklistRoutes } from '../setup-checklist/setup-checklist.routes.js';
import { refuseOwnerChangesByOthers } from '../users/owner-guard.js';
import { changePasswordRoutes } from '../users/routes/change-password.js';
import { deleteUserRoutes } from '../users/routes/delete-user.js';
import { emailVerificationRoutes } from '../users/routes/email-verification.js';
import { transferOwnershipRoutes } from '../users/routes/transfer-ownership.js';
import { userRoutes } from '../users/user.routes.js';
import { webhookRoutes } from '../webhooks/webhook.routes.js';
import { wsOperations } from '../webservices/ops/index.js';
import { webserviceRoutes } from '../webservices/webservice.routes.js';
import { installEdgeInputChecks } from './edge-input.js';
import { installErrorHandling } from './error-handler.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { installSecurityHeaders, swaggerUiCsp } from './security-headers.js';
import { fastifyTrustProxy } from './trust-proxy.js';
import type { RegisteredRoute } from './types.js';
import { webUiRoutes } from './web-ui.js';

export type App = FastifyInstance & { registeredRoutes: RegisteredRoute[] };

/**
 * zod validates and serialises every route. Handing Fastify the compilers when it is created (rather than
 * setting them afterwards) keeps it from loading its default Ajv and fast-json-stringify compilers: ~60 ms
 * of start-up for code never used. Fastify's types expect Ajv's factory signature, hence the cast.
 */
const ZOD_COMPILERS = {
  compilersFactory: { buildValidator: () => validatorCompiler, buildSerializer: () => serializerCompiler },
} as unknown as FastifyServerOptions['schemaController'];

export async function buildApp(ctx: AppContext): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: ctx.config.bodyLimit,
    // Fastify's overloads need one member of the union; every form is one it accepts
    trustProxy: fastifyTrustProxy(ctx.config.trustProxy) as boolean,
    genReqId: () => randomUUID(),
    // each request's logger is built when it first writes a line (see requestLogger)
    childLoggerFactory: (logger, bindings, options) => requestLogger(logger as Logger, bindings, options),
    routerOptions: { ignoreTrailingSlash: true },
    schemaController: ZOD_COMPILERS,
    // one line per request, written below (Fastify's own logging writes two)
    logController: new LogController({ disableRequestLogging: true }),
    // slow or stuck clients (issue 14, finding 5): whole request, headers, idle keep-alive, idle socket
    requestTimeout: ctx.config.http.requestTimeoutMs,
    keepAliveTimeout: ctx.config.http.keepAliveTimeoutMs,
    connectionTimeout: ctx.config.http.idleSocketTimeoutMs,
    http: {
      headersTimeout: ctx.config.http.headersTimeoutMs,
      // how often Node looks for requests past their timeouts (default 30 s would let them overstay)
      connectionsCheckingInterval: Math.min(1000, ctx.config.http.headersTimeoutMs),
    },
  }).withTypeProvider<ZodTypeProvider>();
  // beyond this many open sockets new connections are closed at once, before they can use a descriptor
  app.server.maxConnections = ctx.config.http.maxConnections;

  app.decorateRequest('auth', null);

  const registeredRoutes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (route.url.startsWith('/api/v1/') && !access) {
      throw new Error(`Route ${route.method} ${route.url} does not declare config.access`);
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method !== 'HEAD' && access) registeredRoutes.push({ method, url: route.url, access });
    }
  });

  await app.register(fastifyCookie);
  await installSecurityHeaders(app);
  installErrorHandling(app);
  installEdgeInputChecks(app);
  const ownerGuard = refuseOwnerChangesByOthers(ctx);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    await authenticateRequest(ctx, req);
    await refuseSecretRoutesWhileImpersonating(req);
    await ownerGuard(req);
  });
  app.addHook('onSend', auditImpersonatedRequest(ctx));
  app.addHook('onResponse', async (_req, reply) => ctx.load.requestDone(reply.elapsedTime));
  // only when the lines are written: at LOG_LEVEL=warn building their text was ~1.5 % of a read's CPU
  if (ctx.config.logRequests && ctx.logger.isLevelEnabled('info')) {
    app.addHook('onResponse', async (req, reply) => {
      const ms = Math.round(reply.elapsedTime);
      req.log.info(
        { req, res: { statusCode: reply.statusCode }, responseTime: ms },
        `${req.method} ${redactUrl(req.url)} ${reply.statusCode} ${ms} ms`,
      );
    });
  }

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rapport API',
        version: RAPPORT_VERSION,
        description:
          'Rapport CRM REST API. Authenticate with a session cookie (browser), `Authorization: Bearer <accessKey>`, ' +
          'or HTTP Basic `username:accessKey`. Errors are `{"error":{"code","message","requestId"}}`.',
      },
      components: {
        securitySchemes: {
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'rapport_session' },
          bearerKey: { type: 'http', scheme: 'bearer' },
          basicKey: { type: 'http', scheme: 'basic' },
        },
      },
      security: [{ sessionCookie: [] }, { bearerKey: [] }, { basicKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    staticCSP: true,
    transformStaticCSP: swaggerUiCsp,
    // no call to validator.swagger.io from the reader's browser
    uiConfig: { validatorUrl: null },
  });

  await healthRoutes(app, ctx);
  await metricsRoutes(app, ctx);
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  // every feature's routes, in one place (each feature registers only its own)
  await app.register(
    async (api) => {
      await authRoutes(api, ctx); // auth: sign-in, sessions, /me
      await userRoutes(api, ctx); // users: list, create, read, change
      await roleRoutes(api, ctx); // roles: roles, profiles, sharing defaults
      await auditRoutes(api, ctx); // audit: the audit log
      await recordRoutes(api, ctx); // records: modules, records, history, custom fields
      await accessKeyRoutes(api, ctx); // access-keys: keys, API access, API Management
      await changePasswordRoutes(api, ctx); // users: passwords
      await deleteUserRoutes(api, ctx); // users: deletion, restore
      await accountRecoveryRoutes(api, ctx); // auth: forgot and reset password
      await emailVerificationRoutes(api, ctx); // users: email verification
      await transferOwnershipRoutes(api, ctx); // users: hand the owner account over
      await impersonationRoutes(api, ctx); // auth: "log in as"
      await impersonationConsentRoutes(api, ctx); // auth: consent to "log in as"
      await mailRoutes(api, ctx); // mail: outbox
      await settingsRoutes(api, ctx); // settings
      await setupChecklistRoutes(api, ctx); // setup-checklist
      await maskingRoutes(api, ctx); // masking: rules, Unmask permission, reveal
      await webhookRoutes(api, ctx); // webhooks: subscriptions, deliveries
      await mailroomRoutes(api, ctx); // mailroom: mailboxes, rules, processed mail
      await reportRoutes(api, ctx); // reports: saved reports, runs, CSV, schedules
    },
    { prefix: '/api/v1' },
  );
  await webserviceRoutes(app, ctx, { keys: { loadKeyForSignIn, currentKeyId, noteKeyUse } }, wsOperations());
  await webUiRoutes(app);

  return Object.assign(app, { registeredRoutes }) as unknown as App;
}
