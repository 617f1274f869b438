import type { UnitOfWork } from '../db/unit-of-work.js';
import type { StoredEvent } from './event.model.js';

/**
 * A consumer of domain events. `inTransaction` runs inside the transaction that wrote the events, so what
 * it writes (a webhook's delivery rows, say) commits or rolls back with the change: nothing is lost between
 * commit and delivery. `afterCommit` runs once the change is durable (wake a sender); it must not throw.
 */
export interface EventSubscriber {
  name: string;
  inTransaction?(uow: UnitOfWork, events: readonly StoredEvent[]): Promise<void>;
  afterCommit?(events: readonly StoredEvent[]): void;
}

/** The subscribers of this process, registered at start-up by the features that consume events. */
export class EventBus {
  private readonly subscribers: EventSubscriber[] = [];

  subscribe(subscriber: EventSubscriber): void {
    this.subscribers.push(subscriber);
  }

  async inTransaction(uow: UnitOfWork, events: readonly StoredEvent[]): Promise<void> {
    for (const s of this.subscribers) await s.inTransaction?.(uow, events);
  }

  afterCommit(events: readonly StoredEvent[]): void {
    for (const s of this.subscribers) s.afterCommit?.(events);
  }
}
