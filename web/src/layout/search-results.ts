/** One hit of `GET /api/v1/search`, best first. */
export interface SearchHit {
  module: string;
  id: number;
  label: string;
  matched: Array<{ field: string; label: string; value: unknown }>;
  modifiedAt: string;
}

export interface HitGroup {
  module: string;
  label: string;
  /** each hit with its position in the server's ranking (the keyboard walks that order, group by group) */
  hits: Array<SearchHit & { index: number }>;
}

/**
 * Groups ranked hits by module, the group holding the best hit first, and numbers them in the order they are
 * shown so arrow keys move down the screen.
 */
export function groupHits(hits: SearchHit[], moduleLabel: (module: string) => string): HitGroup[] {
  const groups = new Map<string, HitGroup>();
  for (const hit of hits) {
    let g = groups.get(hit.module);
    if (!g) {
      g = { module: hit.module, label: moduleLabel(hit.module), hits: [] };
      groups.set(hit.module, g);
    }
    g.hits.push({ ...hit, index: 0 });
  }
  let i = 0;
  const out = [...groups.values()];
  for (const g of out) for (const h of g.hits) h.index = i++;
  return out;
}

/** What matched, as a short line under the label ("Email: jane@example.com"); the label itself is skipped. */
export function matchedLine(hit: SearchHit): string {
  return hit.matched
    .filter((m) => m.value !== null && m.value !== '' && String(m.value) !== hit.label)
    .map((m) => `${m.label}: ${String(m.value)}`)
    .join(' · ');
}
