import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

/** Opens a raw socket and collects what the server sends until it closes the connection. */
async function rawSocket(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d) => {
    received += String(d);
  });
  const closed = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(received));
    socket.on('error', () => {});
  });
  return { socket, closed };
}

describe('slow and stuck clients are cut off; connections are capped', () => {
  const h = new Harness('sqlite');
  let port: number;
  beforeAll(async () => {
    await h.start({
      http: {
        requestTimeoutMs: 1500,
        headersTimeoutMs: 1000,
        keepAliveTimeoutMs: 1000,
        idleSocketTimeoutMs: 3000,
        maxConnections: 8,
      },
    });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    port = (h.app.server.address() as { port: number }).port;
  });
  afterAll(() => h.stop());

  it('a body sent half-way is answered 408 and the connection closed', async () => {
    const { socket, closed } = await rawSocket(port);
    socket.write(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"username":"adm',
    );
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
  });

  it('headers sent half-way are answered 408 and the connection closed', async () => {
    const { socket, closed } = await rawSocket(port);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
  });

  it('an idle keep-alive connection is closed after its timeout', async () => {
    const { socket, closed } = await rawSocket(port);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await closed).toMatch(/^HTTP\/1\.1 200[\s\S]*"status":"ok"/);
  });

  it('beyond the connection cap a new connection is closed at once, and the server still serves', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => rawSocket(port)));
    // let the server count them before the next one arrives
    await new Promise((r) => setTimeout(r, 100));
    const extra = await rawSocket(port);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await extra.closed).toBe('');
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });
});
