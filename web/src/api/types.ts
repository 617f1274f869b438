/** Shapes of the API responses the UI reads (see /api/openapi.json). */
export interface UserView {
  id: number;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  status: 'Active' | 'Inactive';
  isAdmin: boolean;
  /** the account owner: only they may change their own account (docs/operations.md) */
  isOwner?: boolean;
  roleId: number;
  roleName: string | null;
  timeZone: string;
  dateFormat: string;
  language: string;
  createdAt: string;
  updatedAt: string;
  emailVerified?: boolean;
  deletedAt?: string | null;
}

export interface Grants {
  view: boolean;
  create: boolean;
  edit: boolean;
  delete: boolean;
}

export interface ImpersonatorView {
  id: number;
  username: string;
  firstName?: string;
  lastName?: string;
}

export interface Me {
  user: UserView;
  authMethod: 'session' | 'access-key';
  csrfToken: string | null;
  permissions: Record<string, Grants>;
  impersonatedBy?: ImpersonatorView | null;
}

export interface Page<T> {
  items: T[];
  total?: number;
  limit?: number;
  offset?: number;
  nextCursor?: number | string | null;
}

export type Timestamp = string | number | null | undefined;

export interface AccessKeyView {
  /** null when the key was cleared, or when only its status was asked for */
  accessKey: string | null;
  hasKey: boolean;
  hint: string | null;
  apiAccess: boolean;
  createdAt: Timestamp;
  lastUsedAt: Timestamp;
  lastUsedIp?: string | null;
  reminder?: string;
}

export interface ApiAccessUser {
  user: { id: number; username: string; firstName: string; lastName: string; email: string };
  keyCreatedAt: Timestamp;
  lastUsedAt: Timestamp;
  lastUsedIp: string | null;
  requestsLast24h?: number;
}

export interface Role {
  id: number;
  name: string;
  parentId: number | null;
  depth: number;
  profileIds: number[];
  userCount: number;
}

export interface ModuleGrants {
  view: boolean;
  create: boolean;
  edit: boolean;
  delete: boolean;
}

export interface Profile {
  id: number;
  name: string;
  description: string;
  permissions: Partial<Record<string, ModuleGrants>>;
}

export type SharingAccess = 'private' | 'public_read' | 'public_read_write';

export interface AuditPerson {
  userId: number | null;
  username: string | null;
  name?: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  action: string;
  outcome: 'success' | 'failure';
  actor: AuditPerson;
  /** the user the actor (an administrator) was logged in as */
  actingAs?: AuditPerson | null;
  target: { type: string; id: string; label?: string | null } | null;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}
