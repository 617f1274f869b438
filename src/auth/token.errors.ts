import { errorTable } from '../http/errors.js';

export const tokenError = errorTable({
  TOKEN_INVALID: 400,
  TOKEN_EXPIRED: 400,
  TOKEN_USED: 400,
  EMAIL_ALREADY_VERIFIED: 409,
  TOO_MANY_REQUESTS: 429,
});

/** The same words for every way a link can fail, except the cases the user can act on. */
export function tokenFailure(reason: 'unknown' | 'expired' | 'used' | 'stale', what: string) {
  if (reason === 'expired')
    return tokenError('TOKEN_EXPIRED', `This ${what} link has expired. Ask for a new one.`);
  if (reason === 'used')
    return tokenError('TOKEN_USED', `This ${what} link has already been used. Ask for a new one.`);
  return tokenError('TOKEN_INVALID', `This ${what} link is not valid. Ask for a new one.`);
}
