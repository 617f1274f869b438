import type { AuditActor } from '../audit/audit.repository.js';
import type { Principal } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';

/** Where a change came from: the web UI, the REST API, /webservice.php, the mailroom, or Rapport itself. */
export type ChangeChannel = 'web' | 'api' | 'webservice' | 'mailroom' | 'system';

/** Who made a change and through what, as history and events tell it. */
export interface ChangeAuthor {
  actor: AuditActor;
  channel: ChangeChannel;
  /** what made the change when it was not the actor's own edit, in words: "Mailroom rule Web leads" */
  source?: string;
}

/** Who writes a record, from where: permissions come from `principal`, history and audit from the rest. */
export interface RecordWriter extends ChangeAuthor {
  principal: Principal;
  /**
   * The principal is the user this request authenticated, so an active user who is not deleted (as the auth
   * cache knows it): a record they assign to themselves needs no owner lookup. Unset for writers acting for
   * someone (the mailroom, ownership transfers), whose user is looked up.
   */
  signedIn?: boolean;
}

export type RecordAction = 'created' | 'updated' | 'deleted';

/** `{field: [old, new]}`; `lineItems` holds the quote's lines before and after when they changed. */
export type FieldChanges = Record<string, [unknown, unknown]>;

export const sameValue = (a: FieldValue | undefined, b: FieldValue | undefined): boolean =>
  Array.isArray(a) || Array.isArray(b)
    ? JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
    : (a ?? null) === (b ?? null);
