import { errorTable } from '../http/errors.js';

/** Report errors; `details.path` names the part of the definition at fault (`columns[3]`, `filter.and[1]`). */
export const reportError = errorTable({
  REPORT_INVALID: 400,
  REPORT_NOT_FOUND: 404,
  REPORT_PERMISSION_DENIED: 403,
  REPORT_FIELD_MISSING: 409,
  REPORT_TOO_SLOW: 503,
});
