import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { mailRoutes } from '../mail/mail.routes.js';
import { changePasswordRoutes } from './routes/change-password.js';

/** The user-administration feature's routes (issue 5), registered under /api/v1 by the app. */
export async function userAdminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await changePasswordRoutes(app, ctx);
  await mailRoutes(app, ctx);
}
