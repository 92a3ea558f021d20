import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, localAwsEndpoint, testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers';

/** A clean HOME so no developer profile leaks in; the local endpoint gets dummy credentials. */
function cliEnv(): NodeJS.ProcessEnv {
  return { HOME: mkdtempSync(join(tmpdir(), 'awskit-cli-home-')), NODE_NO_WARNINGS: '1' };
}
const at = () => ['--endpoint-url', localAwsEndpoint(), '--region', 'us-east-1'];

/** `awskit kinesis tail --json` of `n` records from `from`; asserts exit 0 and returns the parsed lines. */
function tailJson(stream: string, from: string, n: number, env: NodeJS.ProcessEnv) {
  const tail = runCli(
    [...at(), 'kinesis', 'tail', '--stream', stream, '--from', from, '-n', String(n), '--json'],
    env,
  );
  expect(tail.code, tail.stderr).toBe(0);
  return tail.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { partitionKey: string; data: string });
}

describe('awskit kinesis put | tail (bundled CLI against the local AWS)', () => {
  it('puts NDJSON from stdin and tails exactly those records back, keys from a field', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis, { shardCount: 2 });
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `user-${i % 5}`, n: i }));
    const env = cliEnv();
    const put = runCli(
      [...at(), '--json', 'kinesis', 'put', '--stream', stream, '--key-field', 'id'],
      env,
      `${lines.join('\n')}\n\n`,
    );
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ userRecords: 50, failed: 0 });

    const got = tailJson(stream, 'trim-horizon', 50, env);
    expect(got).toHaveLength(50);
    expect(got.map((r) => r.data).sort()).toEqual([...lines].sort());
    // Per partition key, the tail shows records in put order.
    for (let k = 0; k < 5; k++) {
      const ns = got
        .filter((r) => r.partitionKey === `user-${k}`)
        .map((r) => (JSON.parse(r.data) as { n: number }).n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
  });

  it('--key-field takes strings and numbers and counts a missing field or an object as a failed line (the server rule)', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis);
    const lines = [
      JSON.stringify({ user: { id: 'u-1' } }),
      JSON.stringify({ user: { id: 42 } }),
      JSON.stringify({ user: {} }),
      JSON.stringify({ user: { id: { nested: true } } }),
      'not json',
    ];
    const env = cliEnv();
    const put = runCli(
      [...at(), '--json', 'kinesis', 'put', '--stream', stream, '--key-field', 'user.id'],
      env,
      `${lines.join('\n')}\n`,
    );
    expect(put.code, put.stderr).toBe(3); // partial failure
    expect(JSON.parse(put.stdout)).toMatchObject({ userRecords: 2, failed: 3 });
    expect(put.stderr).toContain('line 3: partition key field user.id is missing, not a string or number');
    expect(put.stderr).toContain('line 4: partition key field user.id is an object, not a string or number');
    expect(put.stderr).toContain('line 5: not JSON, so --key-field user.id cannot be read');
    expect(put.stderr).not.toMatch(/\n\s+at /);

    const keys = tailJson(stream, 'TRIM_HORIZON', 2, env).map((r) => r.partitionKey);
    expect(keys.sort()).toEqual(['42', 'u-1']);
  });

  it('tails several --stream at once, each line naming its stream; with --app as one multi-stream application', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const a = await createTestStream(kinesis, { shardCount: 2 });
    const b = await createTestStream(kinesis);
    const env = cliEnv();
    for (const [stream, n] of [
      [a, 6],
      [b, 4],
    ] as const) {
      const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ s: stream, i }));
      const put = runCli(
        [...at(), 'kinesis', 'put', '--stream', stream, '-k', 'k'],
        env,
        `${lines.join('\n')}\n`,
      );
      expect(put.code, put.stderr).toBe(0);
    }
    const args = [
      'kinesis',
      'tail',
      '--stream',
      a,
      '--stream',
      b,
      '--from',
      'trim-horizon',
      '-n',
      '10',
      '--json',
    ];
    for (const extra of [[], ['--app', uniqueName('tail-ms')]]) {
      const tail = runCli([...at(), ...args, ...extra], env);
      expect(tail.code, tail.stderr).toBe(0);
      const got = tail.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { streamName: string; data: string });
      expect(got).toHaveLength(10);
      // Each record is labelled with the stream it came from.
      for (const r of got) expect(r.streamName).toBe((JSON.parse(r.data) as { s: string }).s);
      expect(got.filter((r) => r.streamName === a)).toHaveLength(6);
    }
  });

  it('refuses a tail without --stream, with a hint (exit 2)', () => {
    const r = runCli([...at(), 'kinesis', 'tail'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--stream is required');
    expect(r.stderr).toContain('hint: Example: awskit kinesis tail --stream orders');
  });

  it('refuses a --from that is no start position, with a hint (exit 2)', () => {
    const r = runCli([...at(), 'kinesis', 'tail', '--stream', 's', '--from', 'yesterday'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from must be latest, trim-horizon or an ISO time, got "yesterday"');
    expect(r.stderr).toContain('hint: Example: --from 2026-01-31T12:00:00Z');
  });

  it('fails clearly for a stream that does not exist (exit 1, no stack trace)', () => {
    const r = runCli(
      [...at(), 'kinesis', 'put', '--stream', uniqueName('missing'), '-k', 'a'],
      cliEnv(),
      'x\n',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error: .*(not found|does not exist)/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('awskit localstack (bundled CLI against the local AWS)', () => {
  it('applies a declaration, then plan shows nothing to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'awskit-decl-'));
    const stream = uniqueName('decl');
    const file = join(dir, 'awskit.local.yaml');
    writeFileSync(
      file,
      `version: 1\nregion: us-east-1\nkinesis:\n  streams:\n    - name: ${stream}\n      shards: 1\n`,
    );
    const env = cliEnv();
    const validate = runCli(['localstack', 'validate', '--config', file], env);
    expect(validate.code, validate.stderr + validate.stdout).toBe(0);
    const apply = runCli(
      ['--endpoint-url', localAwsEndpoint(), 'localstack', 'apply', '--config', file],
      env,
    );
    expect(apply.code, apply.stderr + apply.stdout).toBe(0);
    expect(apply.stdout).toContain(stream);
    const plan = runCli(
      ['--endpoint-url', localAwsEndpoint(), '--json', 'localstack', 'plan', '--config', file],
      env,
    );
    expect(plan.code, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout) as { changes: Array<{ name: string; action: string }> };
    expect(p.changes).toEqual([expect.objectContaining({ name: stream, action: 'no-op' })]);
  });

  it('init pins localstack 4.14.0; init --image latest and validate warn (one line) without LOCALSTACK_AUTH_TOKEN (licence change)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'awskit-decl-'));
    const file = join(dir, 'awskit.local.yaml');
    writeFileSync(file, 'version: 1\nregion: us-east-1\nkinesis:\n  streams:\n    - name: s1\n');
    const env = cliEnv();
    const out = join(dir, 'ls');
    const pinned = runCli(['localstack', 'init', '--config', file, '--out', out], env);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stderr).not.toMatch(/LOCALSTACK_AUTH_TOKEN/);
    const compose = readFileSync(join(out, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('image: localstack/localstack:4.14.0\n');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation
    expect(compose).toContain('LOCALSTACK_AUTH_TOKEN: ${LOCALSTACK_AUTH_TOKEN:-}\n');

    const latest = runCli(['localstack', 'init', '--config', file, '--out', out, '--image', 'latest'], env);
    expect(latest.code, latest.stderr).toBe(0);
    const warned = latest.stderr.split('\n').filter((l) => l.includes('LOCALSTACK_AUTH_TOKEN'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/"localstack\/localstack:latest".*pin localstack\/localstack:4\.14\.0/);
    const withToken = runCli(['localstack', 'init', '--config', file, '--out', out, '--image', 'latest'], {
      ...env,
      LOCALSTACK_AUTH_TOKEN: 'ls-test-token',
    });
    expect(withToken.code, withToken.stderr).toBe(0);
    expect(withToken.stderr).not.toMatch(/LOCALSTACK_AUTH_TOKEN/);
    expect(readFileSync(join(out, 'docker-compose.yml'), 'utf8')).not.toContain('ls-test-token');

    // validate checks the LocalStack image of the compose file init wrote (now latest) and a hand-written one.
    const v = runCli(
      ['localstack', 'validate', '--config', file, '--compose', join(out, 'docker-compose.yml')],
      env,
    );
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(
      /service "localstack": LocalStack image "localstack\/localstack:latest" is "latest"/,
    );
    const fieldNotes = join(dir, 'field-notes.yml');
    writeFileSync(fieldNotes, 'services:\n  localstack:\n    image: localstack/localstack\n');
    const v2 = runCli(['localstack', 'validate', '--config', file, '--compose', fieldNotes], env);
    expect(v2.stderr).toMatch(/has no tag/);
    const v3 = runCli(['localstack', 'validate', '--config', file, '--compose', fieldNotes], {
      ...env,
      LOCALSTACK_AUTH_TOKEN: 'ls-test-token',
    });
    expect(v3.code).toBe(0);
    expect(v3.stderr).toBe('');
    const missing = runCli(
      ['localstack', 'validate', '--config', file, '--compose', join(dir, 'nope.yml')],
      env,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a bad declaration with the field path (exit 2 or 1, no stack trace)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'awskit-decl-'));
    const file = join(dir, 'awskit.local.yaml');
    writeFileSync(
      file,
      'version: 1\nregion: us-east-1\nkinesis:\n  streams:\n    - name: a\n      shards: -1\n',
    );
    const r = runCli(['localstack', 'validate', '--config', file], cliEnv());
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/kinesis\.streams\[0\]\.shards/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
