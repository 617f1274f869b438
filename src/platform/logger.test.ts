import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startBanner } from '../cli/banner.js';
import { createConsoleLogger } from './logger.js';

/** A stand-in for process.stdout that says whether it is a terminal and keeps what is written. */
function fakeStdout(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(stream, { isTTY, text: () => chunks.join('') });
  return stream;
}

describe('console logging', () => {
  it('a terminal gets readable single lines, with secrets still redacted', () => {
    const out = fakeStdout(true);
    const log = createConsoleLogger({ logLevel: 'info', logFormat: 'auto' }, out);
    log.info({ password: 'hunter2-secret' }, 'Rapport is listening');
    const text = out.text();
    expect(text).toContain('Rapport is listening');
    expect(text).toContain('INFO');
    expect(text).not.toContain('hunter2-secret');
    expect(() => JSON.parse(text)).toThrow();
    expect(text.trim().split('\n')).toHaveLength(1);
  });

  it('LOG_FORMAT=json keeps JSON lines even on a terminal (and so does a pipe with auto)', () => {
    const out = fakeStdout(true);
    const log = createConsoleLogger({ logLevel: 'info', logFormat: 'json' }, out);
    log.info('Rapport is listening');
    expect(JSON.parse(out.text())).toMatchObject({ level: 30, msg: 'Rapport is listening' });
  });

  it('the start banner frames the address and the one-time password on a terminal', () => {
    const framed = startBanner({
      address: 'http://127.0.0.1:8080',
      readable: true,
      generatedPassword: 'pw123',
    });
    expect(framed).toMatch(/\+-+\+/);
    expect(framed).toContain('http://127.0.0.1:8080');
    expect(framed).toContain('password: pw123');
    const plain = startBanner({ address: 'http://x:1', readable: false, generatedPassword: 'pw123' });
    expect(plain).toContain('password: pw123');
    expect(plain).not.toContain('\u001b[');
    expect(startBanner({ address: 'http://x:1', readable: false, generatedPassword: undefined })).toBe('');
  });
});
