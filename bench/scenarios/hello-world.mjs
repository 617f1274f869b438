// The baseline: a bare Fastify hello-world on the same machine, measured in the same run.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/hello', async () => ({ hello: 'world' }));
// The same answer after spending `us` microseconds of CPU (at most 1,000): what a handler's own work costs
// against hello-world on this machine (performance.ts, "calibration")
app.get('/busy/:us', async (request) => {
  const us = Math.min(1000, Number(request.params.us) || 0);
  const until = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  while (process.hrtime.bigint() < until);
  return { hello: 'world' };
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
