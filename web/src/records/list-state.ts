import { useCallback, useMemo } from 'react';
import { useLocation, useSearchParams } from 'react-router';

/** One filter of a list: `field op value`, kept in the URL as `f=field:op:value`. */
export interface ListFilter {
  field: string;
  op: string;
  value: string;
}

/** Everything that decides what a list shows; lives in the URL so Back, reload and shared links keep it. */
export interface ListState {
  q: string;
  sort: string;
  /** '' (anyone), 'me' or a user id */
  owner: string;
  filters: ListFilter[];
  /** keyset cursors of the pages before this one */
  cursors: string[];
}

export const DEFAULT_SORT = '-modifiedtime';

export function parseFilter(raw: string): ListFilter | null {
  const a = raw.indexOf(':');
  const b = a < 0 ? -1 : raw.indexOf(':', a + 1);
  if (a <= 0 || b < 0) return null;
  return { field: raw.slice(0, a), op: raw.slice(a + 1, b), value: raw.slice(b + 1) };
}

export const formatFilter = (f: ListFilter) => `${f.field}:${f.op}:${f.value}`;

function stateOf(params: URLSearchParams): ListState {
  return {
    q: params.get('q') ?? '',
    sort: params.get('sort') || DEFAULT_SORT,
    owner: params.get('owner') ?? '',
    filters: params
      .getAll('f')
      .map(parseFilter)
      .filter((f): f is ListFilter => f !== null),
    cursors: params.getAll('c'),
  };
}

export function useListState(): [
  ListState,
  (change: Partial<ListState>, opts?: { replace?: boolean }) => void,
] {
  const [params, setParams] = useSearchParams();
  const { pathname } = useLocation();
  const state = useMemo(() => stateOf(params), [params]);
  const update = useCallback(
    (change: Partial<ListState>, opts: { replace?: boolean } = {}) => {
      // The list's own URL only: a change that comes late (the search box's, once typing pauses) after the
      // user opened a record would otherwise navigate back to the list, over the record they opened.
      if (window.location.pathname !== pathname) return;
      // built from the URL as it is now (never from a render's stale copy); any change but paging starts
      // again at the first page
      setParams(
        (prev) => {
          const current = stateOf(prev);
          const next: ListState = { ...current, cursors: [], ...change };
          if (JSON.stringify(next) === JSON.stringify(current)) return prev;
          const p = new URLSearchParams();
          if (next.q) p.set('q', next.q);
          if (next.sort !== DEFAULT_SORT) p.set('sort', next.sort);
          if (next.owner) p.set('owner', next.owner);
          for (const f of next.filters) p.append('f', formatFilter(f));
          for (const c of next.cursors) p.append('c', c);
          return p;
        },
        { replace: opts.replace ?? false },
      );
    },
    [setParams, pathname],
  );
  return [state, update];
}

/**
 * How many records each list state matched when its first page was read, by `countKey`. A count reads every
 * record the filters match (its cost grows with the module), and neither the sort nor the page changes it:
 * later pages show the first page's count instead of asking again. Opening the first page counts afresh.
 */
const totals = new Map<string, number>();
const MAX_TOTALS = 100;

/** What a list's count depends on: the module, the viewer and the filters, not the sort or the page. */
function countKey(module: string, meId: number, state: ListState): string {
  return JSON.stringify([module, meId, state.q.trim(), state.owner, state.filters]);
}

/** Remembers the count a page of a list state answered with. */
export function rememberTotal(module: string, meId: number, state: ListState, total: number): void {
  const key = countKey(module, meId, state);
  totals.delete(key);
  totals.set(key, total);
  if (totals.size > MAX_TOTALS) totals.delete(totals.keys().next().value!);
}

/** The count a page of this list state answered with last, if any was read here. */
export const rememberedTotal = (module: string, meId: number, state: ListState): number | undefined =>
  totals.get(countKey(module, meId, state));

/** The API query of a list state (`me` resolved to the signed-in user). */
export function listQuery(module: string, state: ListState, meId: number, pageSize: number): URLSearchParams {
  const q = new URLSearchParams({ limit: String(pageSize), sort: state.sort });
  const cursor = state.cursors.at(-1);
  // the first page counts; a later one asks only when its first page was not read here (a shared link)
  if (!cursor || !totals.has(countKey(module, meId, state))) q.set('count', 'true');
  if (state.q.trim()) q.set('q', state.q.trim());
  if (state.owner)
    q.append('filter[assigned_user_id][eq]', state.owner === 'me' ? String(meId) : state.owner);
  for (const f of state.filters) q.append(`filter[${f.field}][${f.op}]`, f.value);
  if (cursor) q.set('cursor', cursor);
  return q;
}
