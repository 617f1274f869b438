import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startBanner } from '../cli/banner.js';
import { createConsoleLogger, createLogger, requestLogger } from './logger.js';

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

describe("a request's logger (Fastify's childLoggerFactory)", () => {
  /** JSON lines written to a fake stdout, parsed */
  const lines = () => {
    const out = fakeStdout(false);
    const read = () =>
      out
        .text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    return { stream: out, read };
  };

  it('builds no child until a line at a written level, then writes it with the request id, redacted', () => {
    const out = lines();
    const parent = createLogger('warn', out.stream);
    let children = 0;
    const child = parent.child;
    // pino's children inherit this property: `this` is whichever logger makes the child
    parent.child = function (this: typeof parent, ...args: Parameters<typeof child>) {
      children++;
      return child.apply(this, args);
    } as typeof parent.child;
    const log = requestLogger(parent, { reqId: 'req-1' }, {});
    log.info({ password: 'hunter2-secret' }, 'not written at warn');
    log.debug('nor this');
    expect(log.level).toBe('warn');
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(children).toBe(0);
    log.warn({ password: 'hunter2-secret' }, 'written');
    log.error(new Error('boom'), 'failed');
    expect(children).toBe(1);
    const written = out.read();
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({ level: 40, reqId: 'req-1', password: '[Redacted]', msg: 'written' });
    expect(written[1]).toMatchObject({ level: 50, reqId: 'req-1', msg: 'failed', err: { message: 'boom' } });
    expect(JSON.stringify(written)).not.toContain('hunter2-secret');
    // its own children carry its bindings too
    log.child({ part: 'x' }).warn('nested');
    expect(out.read()[2]).toMatchObject({ reqId: 'req-1', part: 'x', msg: 'nested' });
  });

  it("a route's own log level makes a real child at once", () => {
    const out = lines();
    const parent = createLogger('warn', out.stream);
    const log = requestLogger(parent, { reqId: 'req-2' }, { level: 'info' });
    log.info('written at the route level');
    expect(out.read()).toEqual([expect.objectContaining({ level: 30, reqId: 'req-2' })]);
  });
});
