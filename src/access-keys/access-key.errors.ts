import { errorTable } from '../http/errors.js';

/** Each way a presented key can fail has its own code, so an integration developer knows what to fix. */
export const keyError = errorTable({
  UNSUPPORTED_AUTH_SCHEME: 401,
  ACCESS_KEY_WHITESPACE: 401,
  ACCESS_KEY_MALFORMED: 401,
  ACCESS_KEY_CHECKSUM_MISMATCH: 401,
  ACCESS_KEY_INVALID: 401,
  API_ACCESS_DISABLED: 403,
  ACCOUNT_INACTIVE: 403,
  PERMISSION_DENIED: 403,
  IMPERSONATION_FORBIDDEN: 403,
  USER_NOT_FOUND: 404,
  ACCESS_KEY_RATE_LIMITED: 429,
  TOO_MANY_KEY_FAILURES: 429,
});

export type KeyFailure =
  | 'ACCESS_KEY_WHITESPACE'
  | 'ACCESS_KEY_MALFORMED'
  | 'ACCESS_KEY_CHECKSUM_MISMATCH'
  | 'ACCESS_KEY_INVALID'
  | 'API_ACCESS_DISABLED'
  | 'ACCOUNT_INACTIVE';

export const KEY_FAILURE_MESSAGES: Record<KeyFailure, string> = {
  ACCESS_KEY_WHITESPACE:
    'The access key has a space or line break at its start or end. Copy it again without spaces and retry.',
  ACCESS_KEY_MALFORMED:
    'This is not a Rapport access key: keys start with "rpk_" and are 43 characters long.',
  ACCESS_KEY_CHECKSUM_MISMATCH: 'The access key is mistyped (its checksum does not match). Copy it again.',
  ACCESS_KEY_INVALID: 'The access key is not valid: it is unknown, or it was regenerated or cleared.',
  API_ACCESS_DISABLED:
    'API access is turned off for this user. Turn it on in My Preferences or ask an administrator.',
  ACCOUNT_INACTIVE: 'This user is inactive, so their access key cannot be used.',
};
