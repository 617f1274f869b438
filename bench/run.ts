import os from 'node:os';
import { writeResult } from './lib.js';
import { accessKeyAuth } from './scenarios/access-key-auth.js';
import { mailroom } from './scenarios/mailroom.js';
import { masking } from './scenarios/masking.js';
import { performanceTargets } from './scenarios/performance.js';
import { recordPaths } from './scenarios/record-paths.js';
import { reports } from './scenarios/reports.js';
import { restRecordRead } from './scenarios/rest-record-read.js';
import { revocation } from './scenarios/revocation.js';
import { search } from './scenarios/search.js';
import { webhooks } from './scenarios/webhooks.js';
import { webservices } from './scenarios/webservices.js';

/** Every benchmark scenario; later features add theirs here. `npm run bench [name…]` runs some or all. */
const SCENARIOS = [
  accessKeyAuth,
  webservices,
  restRecordRead,
  recordPaths,
  performanceTargets,
  search,
  masking,
  reports,
  mailroom,
  webhooks,
  revocation,
];

const wanted = process.argv.slice(2);
for (const s of SCENARIOS.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
  process.stdout.write(`bench: ${s.name} — ${s.description}\n`);
  const started = new Date().toISOString();
  const result = await s.run();
  const file = writeResult(s.name, {
    scenario: s.name,
    description: s.description,
    startedAt: started,
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
    ...result,
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
}
