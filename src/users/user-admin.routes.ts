import type { FastifyInstance } from 'fastify';
import { accountRecoveryRoutes } from '../auth/routes/account-recovery.routes.js';
import { impersonationRoutes } from '../auth/routes/impersonation.routes.js';
import { impersonationConsentRoutes } from '../auth/routes/impersonation-consent.routes.js';
import type { AppContext } from '../context.js';
import { mailRoutes } from '../mail/mail.routes.js';
import { settingsRoutes } from '../settings/settings.routes.js';
import { setupChecklistRoutes } from '../setup-checklist/setup-checklist.routes.js';
import { changePasswordRoutes } from './routes/change-password.js';
import { deleteUserRoutes } from './routes/delete-user.js';
import { emailVerificationRoutes } from './routes/email-verification.js';
import { transferOwnershipRoutes } from './routes/transfer-ownership.js';

/** The user-administration feature's routes (issue 5), registered under /api/v1 by the app. */
export async function userAdminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await changePasswordRoutes(app, ctx);
  await deleteUserRoutes(app, ctx);
  await accountRecoveryRoutes(app, ctx);
  await emailVerificationRoutes(app, ctx);
  await transferOwnershipRoutes(app, ctx);
  await impersonationRoutes(app, ctx);
  await impersonationConsentRoutes(app, ctx);
  await mailRoutes(app, ctx);
  await settingsRoutes(app, ctx);
  await setupChecklistRoutes(app, ctx);
}
