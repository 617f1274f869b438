import { z } from 'zod';
import type { UserRow } from './user.table.js';

export interface User {
  id: number;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  status: 'Active' | 'Inactive';
  isAdmin: boolean;
  isOwner: boolean;
  roleId: number;
  roleName: string | null;
  timeZone: string;
  dateFormat: string;
  language: string;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  apiAccess: boolean;
  emailVerifiedAt: number | null;
}

export function toUser(row: UserRow & { role_name?: string | null }): User {
  return {
    id: row.id,
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    status: row.status,
    isAdmin: Boolean(row.is_admin),
    isOwner: Boolean(row.is_owner),
    roleId: row.role_id,
    roleName: row.role_name ?? null,
    timeZone: row.time_zone,
    dateFormat: row.date_format,
    language: row.language,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    apiAccess: Boolean(row.api_access),
    emailVerifiedAt: row.email_verified_at,
  };
}

export const DATE_FORMATS = ['yyyy-mm-dd', 'mm-dd-yyyy', 'dd-mm-yyyy'] as const;
export const LANGUAGES = ['en_us', 'en_gb', 'de_de', 'fr_fr', 'es_es', 'pt_br'] as const;

export const usernameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9._@-]+$/, 'may contain only letters, digits and . _ @ -');

export const timeZoneSchema = z
  .string()
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz.length <= 64;
  } catch {
    return false;
  }
}

/** What the API shows of a user: never a password hash, never a key. */
export const userViewSchema = z
  .object({
    id: z.number().int(),
    username: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    email: z.string(),
    emailVerified: z.boolean().describe('false until the user follows the link mailed to this address'),
    emailVerifiedAt: z.string().nullable(),
    status: z.enum(['Active', 'Inactive']),
    isAdmin: z.boolean(),
    isOwner: z
      .boolean()
      .describe(
        'the account owner: only they change this account; ownership moves by POST /users/{id}/ownership',
      ),
    apiAccess: z.boolean().describe("whether the user's access key may be used"),
    roleId: z.number().int(),
    roleName: z.string().nullable(),
    timeZone: z.string(),
    dateFormat: z.string(),
    language: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deletedAt: z.string().nullable().describe('set for a deleted user, who can be restored'),
  })
  .meta({ id: 'User' });

export type UserView = z.infer<typeof userViewSchema>;

export function userView(u: User): UserView {
  return {
    id: u.id,
    username: u.username,
    firstName: u.firstName,
    lastName: u.lastName,
    email: u.email,
    emailVerified: u.emailVerifiedAt !== null,
    emailVerifiedAt: u.emailVerifiedAt === null ? null : new Date(u.emailVerifiedAt).toISOString(),
    status: u.status,
    isAdmin: u.isAdmin,
    isOwner: u.isOwner,
    apiAccess: u.apiAccess,
    roleId: u.roleId,
    roleName: u.roleName,
    timeZone: u.timeZone,
    dateFormat: u.dateFormat,
    language: u.language,
    createdAt: new Date(u.createdAt).toISOString(),
    updatedAt: new Date(u.updatedAt).toISOString(),
    deletedAt: u.deletedAt === null ? null : new Date(u.deletedAt).toISOString(),
  };
}
