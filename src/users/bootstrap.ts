import { CLI_ACTOR } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import { randomToken } from '../platform/crypto.js';
import { countUsers } from './user.repository.js';
import { createUser } from './user.service.js';

export interface BootstrapResult {
  created: boolean;
  /** set only when the password was generated: the caller prints it once and it is never stored in clear */
  generatedPassword?: string;
}

/** On the very first start, create the account owner `admin`. */
export async function ensureInitialAdmin(ctx: AppContext): Promise<BootstrapResult> {
  if ((await countUsers(ctx.db.kysely)) > 0) return { created: false };
  const generatedPassword = ctx.config.adminPassword ? undefined : randomToken(18);
  try {
    await transaction(ctx.db.kysely, (trx) =>
      createUser(
        ctx,
        trx,
        {
          username: 'admin',
          password: ctx.config.adminPassword ?? generatedPassword!,
          firstName: '',
          lastName: 'Administrator',
          email: 'admin@localhost',
          isAdmin: true,
          isOwner: true,
        },
        { ...CLI_ACTOR, username: 'system' },
        { sendVerificationMail: false },
      ),
    );
  } catch (err) {
    // another replica starting at the same moment created it first
    if ((await countUsers(ctx.db.kysely)) > 0) return { created: false };
    throw err;
  }
  return { created: true, generatedPassword };
}
