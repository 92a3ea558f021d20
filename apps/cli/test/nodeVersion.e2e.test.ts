import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localAwsEndpoint } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers';

// The AWS SDK warns on every process started on Node < 22 ("NodeVersionSupportWarning"); the CLI keeps it off its
// commands and says it once, in `awskit env`. On Node >= 22 neither appears.
const oldNode = Number(process.versions.node.split('.')[0]) < 22;
const env = () => ({
  HOME: mkdtempSync(join(tmpdir(), 'awskit-node-')),
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
});

describe('the SDK Node-version notice', () => {
  it('is not printed by a command that makes AWS calls', () => {
    const r = runCli(
      [
        '--endpoint-url',
        localAwsEndpoint(),
        '--region',
        'us-east-1',
        'kinesis',
        'put',
        '--stream',
        'no-such-stream',
      ],
      env(),
      'x\n',
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error: /m);
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');
    expect(r.stderr).not.toContain('node >=22');
  });

  it('is said once, in one line, by awskit env (only on Node < 22)', () => {
    const r = runCli(['--local', 'env', '--service', 'kinesis'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');
    const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /Node >= ?22/.test(l));
    expect(lines).toHaveLength(oldNode ? 1 : 0);
    if (oldNode) expect(lines[0]).toContain(process.version);
  });
});
