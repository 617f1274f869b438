export type Operation = 'created' | 'updated' | 'deleted';

export interface Webhook {
  id: number;
  userId: number;
  url: string;
  module: string;
  operations: Operation[];
  description: string | null;
  enabled: boolean;
  status: 'Active' | 'Inactive';
  disabledReason: string | null;
  failingSince: string | null;
  secretRotatingUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Delivery {
  id: number;
  msgId: string;
  eventType: string;
  recordId: number | null;
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Attempt {
  id: number;
  at: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
  nextAttemptAt: string | null;
}

export const OPERATION_LABELS: Record<Operation, string> = {
  created: 'Create',
  updated: 'Update',
  deleted: 'Delete',
};

export function entityLabel(module: string): string {
  return module === '*' ? 'All modules' : module;
}

export function operationLabel(ops: readonly Operation[]): string {
  return ops.map((o) => OPERATION_LABELS[o]).join(', ');
}
