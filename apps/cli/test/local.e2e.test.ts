import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, childPids, runCli, startCli } from './helpers';

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
};

describe('awskit local up', () => {
  it('starts, reports health as JSON, and stops every emulator on Ctrl-C', async () => {
    const run = startCli(
      ['local', 'up', '--port', '0', '--json', '--services', 'kinesis,dynamodb'],
      /"init"/,
    );
    const out = JSON.parse(await run.ready) as { endpoint: string; services: Record<string, string> };
    expect(out.services).toMatchObject({ kinesis: 'running', dynamodb: 'running', iam: 'unavailable' });
    const health = (await (await fetch(`${out.endpoint}/_localstack/health`)).json()) as {
      services: Record<string, string>;
    };
    expect(health.services.kinesis).toBe('running');
    const kids = childPids(run.child.pid!);
    expect(kids.length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(await waitFor(() => kids.every((p) => !alive(p)))).toBe(true);
  });

  it('leaves no orphan emulator when the CLI itself is killed with SIGKILL', async () => {
    const run = startCli(['local', 'up', '--port', '0', '--json', '--services', 'kinesis,iam'], /"init"/);
    await run.ready;
    // moto is spawned in the background once Kinesis runs: wait until both children exist.
    expect(await waitFor(() => childPids(run.child.pid!).length === 2)).toBe(true); // kinesis-local and moto
    const kids = childPids(run.child.pid!);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await waitFor(() => kids.every((p) => !alive(p)))).toBe(true);
  });

  it('explains a busy port without a stack trace (exit 1)', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = runCli(['local', 'up', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: Port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toMatch(/hint: .*--port/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('rejects bad flags as usage errors (exit 2)', () => {
    expect(runCli(['local', 'up', '--port', 'abc']).code).toBe(2);
    const r = runCli(['local', 'up', '--services', 'kinesis,s3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown service "s3"');
  });
});

describe('awskit local up --faults', () => {
  const call = (endpoint: string) =>
    fetch(endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'Kinesis_20131202.ListStreams',
        'content-type': 'application/x-amz-json-1.1',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-date': '20250101T000000Z',
      },
      body: '{}',
    });

  it('starts the fault proxy in front, prints both endpoints and the seed, and reports injected faults on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faults-'));
    const file = join(dir, 'faults.json');
    writeFileSync(
      file,
      JSON.stringify({ seed: 1, rules: [{ kind: 'http503', operation: 'ListStreams', maxTimes: 1 }] }),
    );
    const run = startCli(
      [
        'local',
        'up',
        '--port',
        '0',
        '--json',
        '--services',
        'kinesis',
        '--faults',
        file,
        '--faults-seed',
        '9',
      ],
      /"init"/,
    );
    const out = JSON.parse(await run.ready) as {
      endpoint: string;
      faults: { endpoint: string; seed: number };
    };
    expect(out.faults.seed).toBe(9);
    expect(out.faults.endpoint).not.toBe(out.endpoint);
    expect((await call(out.faults.endpoint)).status).toBe(503);
    expect((await call(out.faults.endpoint)).status).toBe(200);
    expect((await call(out.endpoint)).status).toBe(200);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output().stderr).toContain('faults injected (seed 9): http503=1');
  });

  it('rejects a bad fault file as a usage error listing every problem, without a stack trace (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faults-'));
    const file = join(dir, 'faults.json');
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { kind: 'throttel', probability: 0.5 },
          { kind: 'latency', probabilty: 1 },
        ],
      }),
    );
    const r = runCli(['local', 'up', '--port', '0', '--faults', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Invalid fault file "${file}" (4 problems)`);
    expect(r.stderr).toContain('rules[0].kind must be one of');
    expect(r.stderr).toContain('(did you mean "throttle"?)');
    expect(r.stderr).toContain('rules[1].probabilty is not a rule field (did you mean "probability"?)');
    expect(r.stderr).toContain('rules[1].latencyMs is required');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const missing = runCli(['local', 'up', '--faults', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read the fault file');
  });
});

describe('awskit local up: signals during start-up and exposure (issue 14 items 6-8)', () => {
  it('on SIGTERM while a ready.d hook hangs: kills the hook and its children, runs shutdown.d and exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'awskit-cli-hooks-'));
    const pidFile = join(dir, 'pids');
    const marker = join(dir, 'shutdown-ran');
    mkdirSync(join(dir, 'ready.d'));
    mkdirSync(join(dir, 'shutdown.d'));
    writeFileSync(
      join(dir, 'ready.d', '01-hangs.sh'),
      `#!/usr/bin/env bash\n(trap '' TERM; exec sleep 600) &\necho "$! $$" > ${pidFile}\nsleep 600\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(dir, 'shutdown.d', '01-bye.sh'), `#!/usr/bin/env bash\necho bye > ${marker}\n`, {
      mode: 0o755,
    });
    const run = startCli(
      ['local', 'up', '--port', '0', '--services', 'dynamodb', '--init-dir', dir],
      /never printed/,
    );
    run.ready.catch(() => {});
    expect(
      await waitFor(
        () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split(' ').length === 2,
        30_000,
      ),
    ).toBe(true);
    const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
    try {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(existsSync(marker)).toBe(true);
      expect(await waitFor(() => pids.every((p) => !alive(p) || zombie(p)))).toBe(true);
    } finally {
      for (const p of pids)
        try {
          process.kill(p, 'SIGKILL');
        } catch {}
    }
  });

  it('warns that --host 0.0.0.0 exposes the local AWS to the network', async () => {
    const run = startCli(
      ['local', 'up', '--port', '0', '--host', '0.0.0.0', '--services', 'dynamodb'],
      /Ctrl-C/,
    );
    await run.ready;
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output().stderr).toMatch(/--host 0\.0\.0\.0: the local AWS has no authentication/);
  });
});

function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}
