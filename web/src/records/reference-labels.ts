import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/api-client';
import { useSession } from '../session/session-context';
import type { RecordPage } from './record-types';

/**
 * Labels of referenced records, fetched in batches: every reference shown in one render (a list page's
 * Organization column, a detail page's links) is asked for in one `filter[id][in]` request per module instead
 * of one request per cell. A record the viewer may not see simply does not come back (no 404 on the console).
 * Labels are kept for a minute, so a renamed record shows its new name soon after.
 */
const TTL_MS = 60_000;
type Entry = { at: number; label: Promise<string | null> };
const cache = new Map<string, Entry>();
const queued = new Map<string, Map<number, (label: string | null) => void>>();
let flushScheduled = false;

function flush(api: ApiClient) {
  flushScheduled = false;
  const batches = [...queued.entries()];
  queued.clear();
  for (const [module, waiting] of batches) {
    const ids = [...waiting.keys()];
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const q = new URLSearchParams({ limit: String(chunk.length), 'filter[id][in]': chunk.join(',') });
      api.get<RecordPage>(`records/${encodeURIComponent(module)}?${q}`).then(
        (page) => {
          const found = new Map(page.items.map((r) => [r.id, r.label] as const));
          for (const id of chunk) waiting.get(id)?.(found.get(id) ?? null);
        },
        () => {
          for (const id of chunk) {
            cache.delete(`${module}:${id}`);
            waiting.get(id)?.(null);
          }
        },
      );
    }
  }
}

export function referenceLabel(api: ApiClient, module: string, id: number): Promise<string | null> {
  const key = `${module}:${id}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.label;
  const label = new Promise<string | null>((resolve) => {
    let waiting = queued.get(module);
    if (!waiting) {
      waiting = new Map();
      queued.set(module, waiting);
    }
    waiting.set(id, resolve);
  });
  cache.set(key, { at: Date.now(), label });
  if (!flushScheduled) {
    flushScheduled = true;
    setTimeout(() => flush(api), 0);
  }
  return label;
}

/** Forgets a record's label (after it was edited here). */
export function forgetReferenceLabel(module: string, id: number): void {
  cache.delete(`${module}:${id}`);
}

/** The label of `module` record `id`: undefined while loading, null when the viewer cannot see it. */
export function useReferenceLabel(module: string, id: number): string | null | undefined {
  const { api } = useSession();
  const [label, setLabel] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    setLabel(undefined);
    if (!(id > 0)) return;
    void referenceLabel(api, module, id).then((l) => {
      if (live) setLabel(l);
    });
    return () => {
      live = false;
    };
  }, [api, module, id]);
  return label;
}
