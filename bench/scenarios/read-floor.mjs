// The floor under a REST record read on SQLite: a bare Fastify serving one record by id from Rapport's own
// database file with one prepared better-sqlite3 statement (the record's entity row and its module row, by
// primary key), answered as JSON with no authentication, permissions, presenter or hooks. What no read of
// that record can go below on this machine, measured in the same run as the hello-world and Rapport's read.
import path from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const db = new Database(path.join(process.env.DATA_DIR, 'rapport.db'), {
  readonly: true,
  fileMustExist: true,
});
const byId = db.prepare(
  'select m.*, e.* from crm_entities e join crm_contacts m on m.id = e.id where e.id = ? and e.deleted_at is null',
);
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/contacts/:id', async (req, reply) => {
  const row = byId.get(Number(req.params.id));
  if (!row) return reply.code(404).send({ error: 'not found' });
  return row;
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
