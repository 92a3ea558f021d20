import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SERVE_FLAGS, serveFlagsFor, serveFlagsFromValues, serveParseArgsOptions } from '../src/flags.js';

describe('serve flags (one list for awskit serve, awskit demo and awskit-server)', () => {
  it('declares each flag and each key once', () => {
    expect(new Set(SERVE_FLAGS.map((f) => f.flag)).size).toBe(SERVE_FLAGS.length);
    expect(new Set(SERVE_FLAGS.map((f) => f.key)).size).toBe(SERVE_FLAGS.length);
  });

  it('turns a bin command line into ServeFlags (repeatable, negated and global flags)', () => {
    const { values } = parseArgs({
      args: [
        '--stream',
        'a',
        '--stream',
        'b',
        '--no-load',
        '--demo',
        '--endpoint-url',
        'http://x',
        '--port',
        '0',
      ],
      options: serveParseArgsOptions(),
      strict: true,
    });
    expect(serveFlagsFromValues(values)).toEqual({
      stream: ['a', 'b'],
      load: false,
      demo: true,
      endpointUrl: 'http://x',
      port: '0',
    });
  });

  it('gives awskit demo only the flags the demo uses, without the awskit-wide ones', () => {
    expect(serveFlagsFor('demo', { global: false }).map((f) => f.flag)).toEqual([
      'workers',
      'host',
      'port',
      'token',
      'insecure',
      'no-load',
      'load-rate',
      'aws-port',
    ]);
  });
});
