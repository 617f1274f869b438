/** A fact about a change, written in the change's transaction and handed to subscribers. */
export interface DomainEventInput {
  type: string;
  module?: string;
  recordId?: number;
  actorUserId?: number | null;
  /** plain JSON data; never a secret */
  payload: Record<string, unknown>;
}

export interface StoredEvent extends DomainEventInput {
  createdAt: number;
}
