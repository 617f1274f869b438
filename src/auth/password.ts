import { hash, verify } from '@node-rs/argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Without a hash (no such user) it still spends the time of a real verification and answers false,
   * so response timing does not reveal which usernames exist.
   */
  verify(hash: string | undefined, password: string): Promise<boolean>;
}

/** argon2id (the library's default algorithm) with OWASP's parameters; `fast` lowers the cost for tests only. */
export function createPasswordHasher(fast = false): PasswordHasher {
  const options = fast
    ? { memoryCost: 1024, timeCost: 1, parallelism: 1 }
    : { memoryCost: 19456, timeCost: 2, parallelism: 1 };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, options),
    verify: async (h, password) => {
      if (h === undefined) {
        dummy ??= hash('rapport-timing-equaliser', options);
        await verify(await dummy, password).catch(() => false);
        return false;
      }
      try {
        return await verify(h, password);
      } catch {
        return false;
      }
    },
  };
}
