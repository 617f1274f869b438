import { errorTable } from '../http/errors.js';

export const mailroomError = errorTable({
  MAILROOM_RULE_NOT_FOUND: 404,
  MAILROOM_RULE_INVALID: 400,
  MAILROOM_MAILBOX_NOT_FOUND: 404,
  MAILROOM_MAILBOX_INVALID: 400,
  MAILROOM_MESSAGE_NOT_FOUND: 404,
  MAILROOM_MESSAGE_EMPTY: 400,
  MAILROOM_MESSAGE_TOO_LARGE: 413,
  MAILROOM_MESSAGE_NOT_RERUNNABLE: 409,
  /** another process took the message over while this one worked on it: its record write is rolled back */
  MAILROOM_LEASE_LOST: 409,
});
