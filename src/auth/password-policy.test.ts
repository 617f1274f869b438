import { describe, expect, it } from 'vitest';
import { loadCommonPasswords } from './common-passwords.js';
import { isCommonPassword, passwordProblem } from './password-policy.js';

const list = loadCommonPasswords();

describe('password policy (NIST SP 800-63B)', () => {
  it('ships a list of several thousand common passwords', () => {
    expect(list.size).toBeGreaterThan(3000);
    expect(list.has('password')).toBe(true);
  });

  it.each([
    ['short', /at least 12/],
    ['x'.repeat(129), /at most 128/],
    ['passwordpassword', /too common/],
    ['PASSWORD123456', /too common/],
    ['Baseball2024!!', /too common/],
    ['monkeymonkeymonkey', /too common/],
    ['123456789012', /too common/],
    ['abababababababab', /too common/],
  ])('refuses %j', (pw, why) => {
    expect(passwordProblem(pw, { commonPasswords: list })).toMatch(why);
  });

  it.each([
    'correct horse battery',
    'a-long-enough-password',
    'ÄÖÜ-umlauts-are-fine',
    'only lowercase letters here',
  ])('accepts %j with no composition rules', (pw) => {
    expect(passwordProblem(pw, { commonPasswords: list })).toBeNull();
  });

  it('counts characters, not bytes', () => {
    expect(passwordProblem('ééééééééééé')).toMatch(/at least 12/);
    expect(passwordProblem('éééééééééééé')).toBeNull();
  });

  it('a raised minimum length applies, a lowered one does not', () => {
    expect(passwordProblem('thirteen-char', { policy: { minLength: 16, rejectUserDetails: false } })).toMatch(
      /16/,
    );
    expect(
      passwordProblem('twelve-chars', { policy: { minLength: 8, rejectUserDetails: false } }),
    ).toBeNull();
  });

  it('refuses passwords made of the user own details when the policy says so', () => {
    const opts = {
      userDetails: ['jane.doe', 'jane.doe@example.com'],
      policy: { minLength: 12, rejectUserDetails: true },
    };
    expect(passwordProblem('my-name-is-jane-x', opts)).toMatch(/username, name or email/);
    expect(
      passwordProblem('my-name-is-jane-x', { ...opts, policy: { minLength: 12, rejectUserDetails: false } }),
    ).toBeNull();
  });

  it('checks the list case-insensitively', () => {
    expect(isCommonPassword('QWERTYUIOP123', list)).toBe(true);
  });
});
