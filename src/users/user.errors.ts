import { errorTable } from '../http/errors.js';

export const userError = errorTable({
  USER_NOT_FOUND: 404,
  ROLE_NOT_FOUND: 400,
  PASSWORD_TOO_WEAK: 400,
  USERNAME_TAKEN: 409,
  LAST_ADMIN: 409,
  CANNOT_CHANGE_OWN_ACCESS: 409,
  PERMISSION_DENIED: 403,
});
