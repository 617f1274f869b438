import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Symmetric protection for secrets at rest, derived from one 32-byte master key:
 * AES-256-GCM for values that must be readable again, and a keyed digest (HMAC-SHA256) for lookups,
 * so a database dump alone reveals neither the values nor a way to test guesses offline.
 */
export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(sealed: string): string;
  digest(value: string): string;
}

export function createSecretBox(masterKey: Buffer): SecretBox {
  if (masterKey.length !== 32) throw new Error('the master key must be 32 bytes');
  const encKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'rapport/encryption/v1', 32));
  const macKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'rapport/digest/v1', 32));
  return {
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`;
    },
    decrypt(sealed) {
      if (!sealed.startsWith('v1.')) throw new Error('unknown sealed-secret version');
      const raw = Buffer.from(sealed.slice(3), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
    digest(value) {
      return createHmac('sha256', macKey).update(value).digest('hex');
    },
  };
}

export const MASTER_KEY_FILE = 'secret.key';

/**
 * The master key comes from RAPPORT_SECRET_KEY; without it, from `<DATA_DIR>/secret.key`, created on first
 * start with mode 0600. Replicas on one PostgreSQL must share it (set RAPPORT_SECRET_KEY on each).
 */
export function loadMasterKey(
  secretKeyHex: string | undefined,
  dataDir: string,
): { key: Buffer; source: 'env' | 'file' | 'generated' } {
  if (secretKeyHex) return { key: Buffer.from(secretKeyHex, 'hex'), source: 'env' };
  const file = path.join(dataDir, MASTER_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return { key: readKeyFile(file), source: 'generated' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: readKeyFile(file), source: 'file' };
  }
}

function readKeyFile(file: string): Buffer {
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file} does not hold a 64-hex-character key`);
  return Buffer.from(hex, 'hex');
}
