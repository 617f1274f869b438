import { errorTable } from '../http/errors.js';

export const mailError = errorTable({
  SENDER_UNVERIFIED: 409,
});
