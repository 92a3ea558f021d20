import { createServer } from 'node:net';
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
    const kids = childPids(run.child.pid!);
    expect(kids.length).toBe(2); // kinesis-local and moto
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
