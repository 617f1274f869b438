import { CLI_ACTOR } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { generatePassword, setPassword } from '../users/password.service.js';
import { findUserByUsername } from '../users/user.repository.js';

export class NoSuchUserError extends Error {}

/**
 * `rapport reset-password <username>`: the operator sets a password through the same service as
 * `POST /users/{id}/password` — the organisation's password policy, emailed reset links revoked, every
 * session ended, sign-in failures forgotten, audited as the command line. Without `password` one is
 * generated that the policy accepts.
 */
export async function resetPasswordFromCli(
  ctx: AppContext,
  username: string,
  password?: string,
): Promise<{ username: string; password: string; generated: boolean; sessionsEnded: number }> {
  const user = await findUserByUsername(ctx.db.kysely, username);
  if (!user || user.deletedAt !== null) throw new NoSuchUserError(`There is no user "${username}".`);
  const chosen = password ?? (await generatePassword(ctx, user));
  const { sessionsEnded } = await setPassword(ctx, CLI_ACTOR, user, chosen, {
    by: 'cli',
    clearFailures: true,
  });
  return { username: user.username, password: chosen, generated: password === undefined, sessionsEnded };
}
