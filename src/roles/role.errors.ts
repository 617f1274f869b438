import { errorTable } from '../http/errors.js';

export const roleError = errorTable({
  ROLE_NOT_FOUND: 404,
  PROFILE_NOT_FOUND: 404,
  ROLE_IS_ROOT: 409,
  ROLE_HAS_SUBORDINATES: 409,
  ROLE_HAS_USERS: 409,
  ROLE_MOVE_INVALID: 409,
  PROFILE_IN_USE: 409,
  PROFILE_NAME_TAKEN: 409,
});
