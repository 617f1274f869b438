import { call, wsCreate } from './replica-kit.js';

export interface Acked {
  via: 'rest' | 'ws';
  id: number;
  marker: string;
  at: number;
}

/**
 * A client that keeps writing Contacts — REST creates with an access key and web-service creates, in
 * turn — and remembers every write the server acknowledged (201 / success: true). Refused or cut writes
 * (a replica killed mid-request, a 502, connection refused) are counted but promise nothing.
 */
export class WriteStream {
  readonly acked: Acked[] = [];
  unacknowledged = 0;
  private running = false;
  private workers: Promise<void>[] = [];
  private seq = 0;

  constructor(
    private readonly base: () => string,
    private readonly key: string,
    private readonly sessionName: string,
    private readonly pauseMs = 40,
  ) {}

  start(workers = 3): void {
    this.running = true;
    for (let w = 0; w < workers; w++) this.workers.push(this.work(w));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Acknowledged writes since `since` (ms since epoch). */
  ackedSince(since: number): number {
    return this.acked.filter((a) => a.at >= since).length;
  }

  private async work(w: number): Promise<void> {
    while (this.running) {
      const n = this.seq++;
      const marker = `chaos-${w}-${n}`;
      try {
        if (n % 2 === 0) {
          const res = await call(this.base(), '/api/v1/records/Contacts', {
            key: this.key,
            body: { lastname: marker },
          });
          if (res.status === 201) this.acked.push({ via: 'rest', id: res.json.id, marker, at: Date.now() });
          else this.unacknowledged++;
        } else {
          const res = await wsCreate(this.base(), this.sessionName, { lastname: marker });
          if (res.json?.success === true) {
            const id = Number(String(res.json.result.id).split('x')[1]);
            this.acked.push({ via: 'ws', id, marker, at: Date.now() });
          } else this.unacknowledged++;
        }
      } catch {
        this.unacknowledged++;
      }
      await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }
}

/** Reads every acknowledged write back; returns the ones missing or changed. */
export async function missingWrites(base: string, key: string, acked: Acked[]): Promise<string[]> {
  const missing: string[] = [];
  let next = 0;
  const reader = async () => {
    while (next < acked.length) {
      const a = acked[next++]!;
      const res = await call(base, `/api/v1/records/Contacts/${a.id}`, { key });
      if (res.status !== 200 || res.json.lastname !== a.marker)
        missing.push(`${a.via} ${a.id} ${a.marker}: ${res.status} ${res.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: 6 }, reader));
  return missing;
}
