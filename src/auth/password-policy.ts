/** NIST SP 800-63B: length is what matters; no composition rules; refuse known-common passwords. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** The organisation's knobs (Settings → password policy). They can only make the policy stricter. */
export interface PasswordPolicy {
  /** at least PASSWORD_MIN_LENGTH */
  minLength: number;
  /** refuse passwords built from the user's own username, name or email */
  rejectUserDetails: boolean;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  minLength: PASSWORD_MIN_LENGTH,
  rejectUserDetails: false,
};

export interface PasswordCheckOptions {
  policy?: PasswordPolicy;
  /** lower-cased list (see `loadCommonPasswords`); without it only length is checked */
  commonPasswords?: ReadonlySet<string>;
  /** the user's username, names and email, for `rejectUserDetails` */
  userDetails?: string[];
}

/** Why the password is refused, in words for the user; null when it is acceptable. */
export function passwordProblem(password: string, options: PasswordCheckOptions = {}): string | null {
  const policy = options.policy ?? DEFAULT_PASSWORD_POLICY;
  const minLength = Math.max(PASSWORD_MIN_LENGTH, policy.minLength);
  const length = [...password].length;
  if (length < minLength) return `The password must be at least ${minLength} characters long.`;
  if (length > PASSWORD_MAX_LENGTH)
    return `The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`;
  if (options.commonPasswords && isCommonPassword(password, options.commonPasswords))
    return 'This password is too common: it appears on lists of passwords attackers try first. Choose another.';
  if (policy.rejectUserDetails && options.userDetails && containsUserDetail(password, options.userDetails))
    return 'The password must not be built from your username, name or email address.';
  return null;
}

/**
 * On the list as typed (case-insensitively), or a listed password padded with digits or symbols
 * ("baseball2024!") or repeated ("monkeymonkey"): the variations attackers try right after the list.
 */
export function isCommonPassword(password: string, list: ReadonlySet<string>): boolean {
  const p = password.toLowerCase();
  if (list.has(p)) return true;
  const core = p.replace(/^[^\p{L}]+/u, '').replace(/[^\p{L}]+$/u, '');
  if (core.length >= 4 && list.has(core)) return true;
  for (let size = 1; size <= p.length / 2; size++) {
    if (p.length % size === 0 && p.slice(0, size).repeat(p.length / size) === p)
      return list.has(p.slice(0, size)) || size <= 3;
  }
  return false;
}

function containsUserDetail(password: string, details: string[]): boolean {
  const p = password.toLowerCase();
  const words = details
    .flatMap((d) => d.toLowerCase().split(/[@\s._-]+/))
    .filter((w) => w.length >= 4 && !['example', 'localhost'].includes(w));
  return words.some((w) => p.includes(w));
}
