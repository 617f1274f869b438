import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';

// Over real keep-alive connections: the server remembers the digest of the key last presented on each
// connection (key-auth.ts), so every request must still be judged by the key it presents itself.
describeEachDialect('access keys on a keep-alive connection', (h) => {
  it('each request is judged by its own key; a key cleared meanwhile is refused on the same connection', async () => {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const me = (key: string) =>
      new Promise<{ status: number; username?: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, path: '/api/v1/me', agent, headers: { authorization: `Bearer ${key}` } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => {
              body += String(c);
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                username: (JSON.parse(body) as { user?: { username: string } }).user?.username,
              }),
            );
          },
        );
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end();
      });
    try {
      const a = await h.createUser();
      const b = await h.createUser();
      const keyA = await h.accessKey(a.session);
      const keyB = await h.accessKey(b.session);
      expect(await me(keyA)).toEqual({ status: 200, username: a.username });
      expect(await me(keyB)).toEqual({ status: 200, username: b.username });
      expect(await me(keyA)).toEqual({ status: 200, username: a.username });
      // one character changed: a different key, refused
      const wrong = keyA.slice(0, -1) + (keyA.endsWith('A') ? 'B' : 'A');
      expect((await me(wrong)).status).toBe(401);
      expect(await me(keyA)).toEqual({ status: 200, username: a.username });
      const cleared = await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${a.id}/access-key`,
        as: h.admin,
      });
      expectStatus(cleared, 204);
      expect((await me(keyA)).status).toBe(401);
      expect(await me(keyB)).toEqual({ status: 200, username: b.username });
      // all of it went over one connection
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});
