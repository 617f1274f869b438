import type { FastifyInstance } from 'fastify';
import { INT_COLUMN_MAX } from '../db/columns.js';
import { httpError } from './errors.js';

/** Why a value was refused at the edge, and where (`body.roleId`, `query.search`, `element.lastname`). */
export interface HostileInput {
  field: string;
  problem: string;
}

/** Keys that carry an id (`id`, `roleId`, `account_id`, `profileIds`): their numbers must fit an id column. */
const ID_KEY = /^(id|ids)$|Ids?$|_ids?$/;

/**
 * Finds input that no column can hold, before it reaches a driver: a NUL character in any string or key
 * (PostgreSQL text cannot store it; SQLite would cut it), and ids or path/query numbers beyond the 32-bit
 * integer columns. One rule for every route and web-service operation, so both databases answer alike.
 */
export function findHostileInput(
  value: unknown,
  where: string,
  opts: { numbersAreCounts?: boolean; isId?: boolean } = {},
): HostileInput | null {
  return walk(value, where, opts.numbersAreCounts ?? false, opts.isId ?? false, 0);
}

const tooLarge = (field: string): HostileInput => ({
  field,
  problem: `must be a whole number no larger than ${INT_COLUMN_MAX}`,
});

function walk(
  value: unknown,
  where: string,
  numbersAreCounts: boolean,
  isId: boolean,
  depth: number,
): HostileInput | null {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { field: where, problem: 'must not contain a NUL character' };
    if (isId && /^\s*[+-]?\d+\s*$/.test(value) && Math.abs(Number(value)) > INT_COLUMN_MAX)
      return tooLarge(where);
    return null;
  }
  if (typeof value === 'number') {
    if ((isId || numbersAreCounts) && Math.abs(value) > INT_COLUMN_MAX) return tooLarge(where);
    return null;
  }
  if (!value || typeof value !== 'object' || depth > 32) return null;
  // a binary body (a raw email handed to the mailroom) is stored as bytes, NULs and all: walking it as an
  // object visited every byte as a key, minutes for a 40 MB message
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = walk(item, `${where}.${i}`, numbersAreCounts, isId, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return { field: where, problem: 'must not contain a NUL character' };
    const found = walk(item, `${where}.${key}`, numbersAreCounts, ID_KEY.test(key), depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Checks every request once, after the route's schema has parsed it: path and query values are ids,
 * counts or words (every number must fit a 32-bit column); bodies are checked for NUL and for id keys.
 */
export function installEdgeInputChecks(app: FastifyInstance): void {
  app.addHook('preHandler', async (req) => {
    const found =
      findHostileInput(req.params, 'params', { numbersAreCounts: true, isId: true }) ??
      findHostileInput(req.query, 'query', { numbersAreCounts: true }) ??
      findHostileInput(req.body, 'body');
    if (found) {
      throw httpError('VALIDATION_FAILED', `Invalid request: ${found.field}: ${found.problem}`, {
        details: { field: found.field.replace(/^(params|query|body)\./, '') },
      });
    }
  });
}
