import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config.js';

describe('mail and link configuration', () => {
  it('defaults to the outbox and to links on http://HOST:PORT', () => {
    const c = parseConfig({ HOST: '0.0.0.0', PORT: '9000' });
    expect(c.mail.smtpUrl).toBeUndefined();
    expect(c.publicUrl).toBe('http://0.0.0.0:9000');
    expect(c.mail.from).toMatch(/rapport/i);
  });

  it('takes SMTP_URL, MAIL_FROM and PUBLIC_URL (without a trailing slash)', () => {
    const c = parseConfig({
      SMTP_URL: 'smtps://u:p@mail.example.com:465',
      MAIL_FROM: 'CRM <crm@example.com>',
      PUBLIC_URL: 'https://crm.example.com/',
    });
    expect(c.mail).toEqual({ smtpUrl: 'smtps://u:p@mail.example.com:465', from: 'CRM <crm@example.com>' });
    expect(c.publicUrl).toBe('https://crm.example.com');
  });

  it.each([{ SMTP_URL: 'http://mail' }, { PUBLIC_URL: 'crm.example.com' }])(
    'names the bad variable in %j',
    (env) => {
      expect(() => parseConfig(env)).toThrow(ConfigError);
      expect(() => parseConfig(env)).toThrow(Object.keys(env)[0]!);
    },
  );
});
