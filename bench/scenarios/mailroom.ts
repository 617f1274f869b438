import { type Scenario, signIn, startRapport } from '../lib.js';

const DURATION_MS = 8_000;
const CONCURRENCY = 8;

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

/** Sends `make(i)` requests from CONCURRENCY workers for DURATION_MS; answers requests per second. */
async function pump(send: (i: number) => Promise<void>): Promise<{ perSecond: number; total: number }> {
  let i = 0;
  const until = Date.now() + DURATION_MS;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) await send(i++);
    }),
  );
  return { perSecond: Math.round((i * 1000) / (Date.now() - started)), total: i };
}

const webForm = (i: number) =>
  Buffer.from(
    [
      'From: Website Forms <forms@acme-web.example>',
      'To: crm@rapport.example',
      `Subject: New enquiry ${i}`,
      `Message-ID: <bench-${i}-${Date.now()}@acme-web.example>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'First Name: Jane',
      `Last Name: Doe ${i}`,
      `Email: jane${i}@example.org`,
      'Phone: 555-1234',
      'Company: Doe Industries',
      'Lead Source: web site',
      'Annual Revenue: $1,250,000.00',
      '',
    ].join('\r\n'),
  );

/**
 * Issue 12's target: at least 300 emails/s parsed, matched and turned into records on SQLite through the
 * intake endpoint, with the REST record create rate measured in the same run as the baseline.
 */
export const mailroom: Scenario = {
  name: 'mailroom',
  description:
    'emails/s through POST /api/v1/mailroom/messages (parse, rule, autofill, create Lead) vs REST create',
  async run() {
    const rapport = await startRapport();
    try {
      const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
      const { accessKey } = (await json(`${rapport.url}/api/v1/users/me/access-key`, {
        headers: { cookie: session.cookie },
      })) as { accessKey: string };
      const auth = { authorization: `Bearer ${accessKey}` };
      const me = (await json(`${rapport.url}/api/v1/me`, { headers: auth })) as { user: { id: number } };
      await json(`${rapport.url}/api/v1/mailroom/rules`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Web leads',
          conditions: [{ field: 'from', op: 'contains', value: 'acme-web.example' }],
          action: 'create',
          module: 'Leads',
          assignedUserId: me.user.id,
          autofill: {
            delimiter: ':',
            mappings: [
              { label: 'First Name', field: 'firstname' },
              { label: 'Last Name', field: 'lastname' },
              { label: 'Email', field: 'email' },
              { label: 'Phone', field: 'phone' },
              { label: 'Company', field: 'company' },
              { label: 'Lead Source', field: 'leadsource' },
              { label: 'Annual Revenue', field: 'annualrevenue' },
            ],
          },
        }),
      });
      let failed = 0;
      const rest = await pump(async (i) => {
        const res = await fetch(`${rapport.url}/api/v1/records/Leads`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            lastname: `Doe ${i}`,
            firstname: 'Jane',
            company: 'Doe Industries',
            email: `r${i}@example.org`,
          }),
        });
        if (res.status !== 201) failed++;
        await res.arrayBuffer();
      });
      const mail = await pump(async (i) => {
        const res = await fetch(`${rapport.url}/api/v1/mailroom/messages`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'message/rfc822' },
          body: webForm(i),
        });
        const out = (await res.json()) as { status?: string };
        if (res.status !== 200 || out.status !== 'processed') failed++;
      });
      return {
        concurrency: CONCURRENCY,
        durationSeconds: DURATION_MS / 1000,
        restCreatePerSecond: rest.perSecond,
        emailsPerSecond: mail.perSecond,
        emails: mail.total,
        failed,
        target: '>= 300 emails/s on SQLite',
        met: mail.perSecond >= 300 && failed === 0,
      };
    } finally {
      await rapport.stop();
    }
  },
};
