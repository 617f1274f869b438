import { AppError } from '../http/errors.js';
import { WS_MESSAGES, WsError } from './ws-errors.js';

/**
 * Record-layer refusals in Vtiger's words. Vtiger answers a missing, deleted or hidden record with the
 * same generic ACCESS_DENIED (it never says RECORD_NOT_FOUND), so we do too: existence does not leak.
 */
export function toWsError(err: unknown): unknown {
  if (!(err instanceof AppError)) return err;
  switch (err.code) {
    case 'MODULE_NOT_FOUND':
    case 'MODULE_PERMISSION_DENIED':
    case 'RECORD_NOT_FOUND':
    case 'RECORD_PERMISSION_DENIED':
      return new WsError('ACCESS_DENIED', WS_MESSAGES.PERMISSION_DENIED);
    case 'OWNER_INVALID':
      return new WsError('ACCESS_DENIED', WS_MESSAGES.ASSIGN_DENIED);
    case 'REFERENCE_INVALID': {
      const field = /^(\w+)/.exec(err.message)?.[1] ?? '';
      return new WsError('REFERENCE_INVALID', `Invalid reference specified for ${field}`);
    }
    case 'MANDATORY_FIELD_MISSING': {
      const field = /(\w+) \(/.exec(err.message)?.[1] ?? /: (\w+)/.exec(err.message)?.[1] ?? '';
      return new WsError('MANDATORY_FIELDS_MISSING', `${field} does not have a value`);
    }
    case 'VERSION_CONFLICT':
      return new WsError('FAILED_TO_UPDATE', err.message);
    default:
      // the record layer's own explanation (a bad value, a bad line item…), in the envelope
      return err.status < 500 ? new WsError('INVALID_REQUEST', err.message) : err;
  }
}

/** Runs a record-layer call, translating its refusals. */
export async function wsRecords<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toWsError(err);
  }
}
