// The webhooks bench's receiver, in a process of its own: answers 200 at once and keeps each delivery's
// arrival time and commit-to-arrival lag. In the load generator's process its work (a request and a JSON
// body per delivery, thousands a second while the sender catches up) slowed the clients exactly while
// deliveries flowed, so the creates measured with webhooks paid for the receiver's event loop as well.
// The bench asks for what it needs over IPC: { id, op: 'count' } and { id, op: 'since', from }.
import http from 'node:http';

const arrivals = [];
const lagMs = [];
const ids = new Set();
let duplicates = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    res.writeHead(200).end();
    const id = String(req.headers['webhook-id']);
    if (ids.has(id)) duplicates++;
    ids.add(id);
    arrivals.push(now);
    // the payload's timestamp is the commit's clock reading (set in the writing transaction)
    const { timestamp } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    lagMs.push(now - Date.parse(timestamp));
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m.op === 'count') process.send({ id: m.id, count: arrivals.length, duplicates });
  else if (m.op === 'since')
    process.send({ id: m.id, arrivals: arrivals.slice(m.from), lagMs: lagMs.slice(m.from) });
});
// the bench ends: so does the receiver
process.on('disconnect', () => process.exit(0));
