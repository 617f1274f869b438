import { createHash } from 'node:crypto';
import { load, type Scenario, signIn, startRapport } from '../lib.js';

/** Vtiger 8.2 on this machine class, 50 connections over 200 sessions (shared/reference/vtiger-peer.md). */
const VTIGER = { retrieve: 160.0, query: 142.9 };
const TARGET_RATIO = 20;

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

async function ws(url: string, params: Record<string, string>, post = false) {
  const body = new URLSearchParams(params);
  const res = post
    ? await fetch(`${url}/webservice.php`, { method: 'POST', body })
    : await fetch(`${url}/webservice.php?${body}`);
  const json = (await res.json()) as { success: boolean; result: Record<string, string> };
  if (!json.success) throw new Error(`webservice ${params.operation} failed: ${JSON.stringify(json)}`);
  return json.result;
}

/** Issue 4's target: web-services retrieve and query at ≥ 20× a real Vtiger 8 on the same machine. */
export const webservices: Scenario = {
  name: 'webservices',
  description:
    'Vtiger web services: retrieve one Contact and query 10 Contacts, 1000 Contacts, 50 connections',
  async run() {
    const rapport = await startRapport();
    try {
      const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
      const keyRes = await fetch(`${rapport.url}/api/v1/users/me/access-key`, {
        headers: { cookie: session.cookie },
      });
      const { accessKey } = (await keyRes.json()) as { accessKey: string };
      const { token } = await ws(rapport.url, { operation: 'getchallenge', username: 'admin' });
      const { sessionName } = await ws(
        rapport.url,
        { operation: 'login', username: 'admin', accessKey: md5(token! + accessKey) },
        true,
      );
      let id = '';
      for (let i = 0; i < 1000; i++) {
        const element = JSON.stringify({
          lastname: `Bench ${i}`,
          firstname: 'Ada',
          email: `c${i}@example.com`,
        });
        const rec = await ws(
          rapport.url,
          { operation: 'create', sessionName: sessionName!, elementType: 'Contacts', element },
          true,
        );
        if (i === 500) id = rec.id!;
      }
      const retrieve = await load(
        `${rapport.url}/webservice.php?${new URLSearchParams({ operation: 'retrieve', sessionName: sessionName!, id })}`,
      );
      const query = await load(
        `${rapport.url}/webservice.php?${new URLSearchParams({ operation: 'query', sessionName: sessionName!, query: 'SELECT * FROM Contacts LIMIT 10;' })}`,
      );
      const ratios = {
        retrieve: Number((retrieve.requestsPerSecond / VTIGER.retrieve).toFixed(1)),
        query: Number((query.requestsPerSecond / VTIGER.query).toFixed(1)),
      };
      return {
        retrieve: { name: 'GET retrieve 12xN', ...retrieve },
        query: { name: 'GET query SELECT * FROM Contacts LIMIT 10;', ...query },
        vtigerRequestsPerSecond: VTIGER,
        ratios,
        targets: { ratio: TARGET_RATIO },
        met:
          ratios.retrieve >= TARGET_RATIO &&
          ratios.query >= TARGET_RATIO &&
          retrieve.non2xx + query.non2xx === 0,
      };
    } finally {
      await rapport.stop();
    }
  },
};
