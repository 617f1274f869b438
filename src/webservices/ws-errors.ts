/**
 * Vtiger's web-service error codes and the literal messages Vtiger 8.2 sends (typos included: clients
 * match on them). A handler throws `WsError`; the endpoint turns it into the `{success:false}` envelope.
 */
export const WS_MESSAGES = {
  AUTH_REQUIRED: 'Authencation required',
  INVALID_SESSION: 'Session Identifier provided is Invalid',
  SESSION_EXPIRED: 'Session has life span over please login again',
  SESSION_IDLE: 'Session has been invalidated to due lack activity',
  INVALID_CREDENTIALS: 'Invalid username or password',
  INVALID_TOKEN: 'Specified token is invalid or expired',
  ACCESSKEY_UNDEFINED: 'Access key for the user is undefined',
  NO_USERNAME: 'No username given',
  NO_SUCH_USER: 'username does not exists',
  PERMISSION_DENIED: 'Permission to perform the operation is denied',
  PERMISSION_DENIED_FOR_ID: 'Permission to perform the operation is denied for id',
  READ_DENIED: 'Permission to read given object is denied',
  WRITE_DENIED: 'Permission to write is denied',
  ASSIGN_DENIED: 'Cannot assign record to the given user',
  INVALID_ID: 'Id specified is incorrect',
  RECORD_NOT_FOUND: 'Record you are trying to access is not found',
  UNKNOWN_OPERATION: 'Unknown operation requested',
  INTERNAL: 'Unknown Error while processing request',
  UNKNOWN_RELATION: 'Relation specified is incorrect',
  AUTH_FAILURE: 'Authencation Failed',
} as const;

export type WsErrorCode =
  | 'AUTHENTICATION_REQUIRED'
  | 'INVALID_SESSIONID'
  | 'SESSION_EXPIRED'
  | 'SESSION_LEFT_IDLE'
  | 'INVALID_USER_CREDENTIALS'
  | 'INVALID_AUTH_TOKEN'
  | 'ACCESSKEY_UNDEFINED'
  | 'ACCESS_DENIED'
  | 'INVALID_ID_ATTRIBUTE'
  | 'RECORD_NOT_FOUND'
  | 'MANDATORY_FIELDS_MISSING'
  | 'REFERENCE_INVALID'
  | 'QUERY_SYNTAX_ERROR'
  | 'DATABASE_QUERY_ERROR'
  | 'UNKNOWN_OPERATION'
  | 'INTERNAL_SERVER_ERROR'
  | 'OPERATION_NOT_SUPPORTED'
  | 'UNKOWN_ENTITY'
  | 'FAILED_TO_CREATE_RELATION'
  | 'FAILED_TO_UPDATE'
  | 'LEAD_ALREADY_CONVERTED'
  | 'AUTHENTICATION_FAILURE'
  | 'INVALID_REQUEST'
  | 'TOO_MANY_ATTEMPTS'
  | 'DATABASE_UNAVAILABLE';

export class WsError extends Error {
  constructor(
    readonly code: WsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WsError';
  }
}

export const wsError = (code: WsErrorCode, message: string): WsError => new WsError(code, message);

/** The generic refusal Vtiger gives for unknown modules, missing rights and ids that do not resolve. */
export const permissionDenied = (): WsError => wsError('ACCESS_DENIED', WS_MESSAGES.PERMISSION_DENIED);
