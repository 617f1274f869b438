import fs from 'node:fs';

/** `assets/common-passwords.txt`, relative to this module in src/ and in dist/ alike. */
const LIST_URL = new URL('../../assets/common-passwords.txt', import.meta.url);

/** The common-password list, lower-cased, for the NIST SP 800-63B blocklist check. Read once at start. */
export function loadCommonPasswords(file: URL | string = LIST_URL): ReadonlySet<string> {
  const text = fs.readFileSync(file, 'utf8');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const p = line.trim().toLowerCase();
    if (p) out.add(p);
  }
  return out;
}
