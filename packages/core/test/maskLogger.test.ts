import { describe, expect, it } from 'vitest';
import { createConsoleLogger, type LogLevel, maskKeyId, noopLogger } from '../src/index';

describe('maskKeyId', () => {
  it('keeps the first and last four characters', () => {
    expect(maskKeyId('AKIAABCDEFGHIJKLWXYZ')).toBe('AKIA…WXYZ');
    expect(maskKeyId('ASIA0000000000001234')).toBe('ASIA…1234');
  });

  it('never shows the middle', () => {
    const masked = maskKeyId('AKIAABCDEFGHIJKLWXYZ');
    expect(masked).not.toContain('ABCDEFGHIJKL');
    expect(masked.length).toBeLessThan(10);
  });

  it('fully masks short values', () => {
    expect(maskKeyId('test')).toBe('…');
    expect(maskKeyId('12345678')).toBe('…');
    expect(maskKeyId('')).toBe('…');
  });
});

function capture(level?: LogLevel, prefix?: string) {
  const lines: string[] = [];
  const logger = createConsoleLogger({
    ...(level ? { level } : {}),
    ...(prefix ? { prefix } : {}),
    stream: { write: (chunk: string) => lines.push(chunk) },
  });
  const all = () => {
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
  };
  return { lines, logger, all };
}

describe('createConsoleLogger', () => {
  it.each([
    ['debug', ['debug: d\n', 'i\n', 'warn: w\n', 'error: e\n']],
    ['info', ['i\n', 'warn: w\n', 'error: e\n']],
    ['warn', ['warn: w\n', 'error: e\n']],
    ['error', ['error: e\n']],
    ['silent', []],
  ] as const)('level %s writes only that level and above', (level, expected) => {
    const { lines, all } = capture(level);
    all();
    expect(lines).toEqual(expected);
  });

  it('defaults to info', () => {
    const { lines, all } = capture();
    all();
    expect(lines).toEqual(['i\n', 'warn: w\n', 'error: e\n']);
  });

  it('writes a prefix and key=value fields, skipping undefined ones', () => {
    const { lines, logger } = capture('debug', '[awskit]');
    logger.warn('retrying', { shard: 'shardId-0', attempt: 2, ok: false, gone: undefined, obj: { a: 1 } });
    expect(lines).toEqual(['[awskit] warn: retrying shard=shardId-0 attempt=2 ok=false obj={"a":1}\n']);
  });

  // Regression: an Error in the fields was written as `error={}` (JSON.stringify drops its properties).
  it('writes an Error field as its message', () => {
    const { lines, logger } = capture();
    logger.error('put failed', { error: new TypeError('socket hang up') });
    expect(lines).toEqual(['error: put failed error=socket hang up\n']);
  });

  it('survives fields that JSON cannot encode', () => {
    const { lines, logger } = capture();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    logger.info('odd', { circular, big: 10n });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^odd circular=.* big=10\n$/);
  });
});

describe('noopLogger', () => {
  it('drops everything', () => {
    expect(() => {
      noopLogger.debug('a');
      noopLogger.info('b', { x: 1 });
      noopLogger.warn('c');
      noopLogger.error('d');
    }).not.toThrow();
    expect(Object.isFrozen(noopLogger)).toBe(true);
  });
});
