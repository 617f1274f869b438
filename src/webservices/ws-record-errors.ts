import { AppError } from '../http/errors.js';
import { WS_MESSAGES, WsError } from './ws-errors.js';

/**
 * Refusals of the services behind the operations (records…) in Vtiger's words, mapped from the error's
 * code and structured details, never from its message. Vtiger answers a missing, deleted or hidden record with the
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
    case 'REFERENCE_INVALID':
      return new WsError('REFERENCE_INVALID', `Invalid reference specified for ${err.details?.field ?? ''}`);
    case 'MANDATORY_FIELD_MISSING':
      return new WsError('MANDATORY_FIELDS_MISSING', `${err.details?.field ?? ''} does not have a value`);
    case 'FIELD_MASKED':
      return new WsError('ACCESS_DENIED', err.message);
    case 'LEAD_ALREADY_CONVERTED':
      return new WsError('LEAD_ALREADY_CONVERTED', 'Lead is already converted');
    case 'VERSION_CONFLICT':
      return new WsError('FAILED_TO_UPDATE', err.message);
    default:
      // the record layer's own explanation (a bad value, a bad line item…), in the envelope
      return err.status < 500 ? new WsError('INVALID_REQUEST', err.message) : err;
  }
}
