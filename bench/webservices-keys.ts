import Fastify, { type FastifyInstance } from 'fastify';
import type { AppContext } from '../src/context.js';
import { wsOperations } from '../src/webservices/ops/index.js';
import { webserviceRoutes } from '../src/webservices/webservice.routes.js';
import { FakeKeys } from '../test/ws-kit.js';

/**
 * Until the access-key service is merged, the bench serves /webservice.php with the in-memory key store
 * (the key checks it replaces are one indexed query each). After the merge: the real app and real keys.
 */
export async function benchKeys(
  ctx: AppContext,
  _buildApp: unknown,
): Promise<{ app: FastifyInstance; keys: (userId: number) => Promise<string> }> {
  const fake = new FakeKeys();
  const app = Fastify({ logger: false });
  await webserviceRoutes(app, ctx, { keys: fake }, wsOperations());
  return { app, keys: async (id) => fake.key(id) };
}
