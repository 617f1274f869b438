import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { customFieldRoutes } from './routes/add-custom-field.js';
import { describeModuleRoutes } from './routes/describe-module.js';
import { leadConversionRoutes } from './routes/lead-conversion.routes.js';
import { listRecordRoutes } from './routes/list-records.js';
import { recordHistoryRoutes } from './routes/record-history.js';
import { recordItemRoutes } from './routes/record-item.routes.js';
import { relatedRecordRoutes } from './routes/related-records.js';
import { searchRoutes } from './routes/search.routes.js';

export async function recordRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await describeModuleRoutes(app, ctx);
  await listRecordRoutes(app, ctx);
  await recordItemRoutes(app, ctx);
  await recordHistoryRoutes(app, ctx);
  await leadConversionRoutes(app, ctx);
  await searchRoutes(app, ctx);
  await customFieldRoutes(app, ctx);
  await relatedRecordRoutes(app, ctx);
}
