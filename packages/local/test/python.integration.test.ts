import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pythonCandidates } from '../src/emulators';
import { startMotoServer } from '../src/index';

function fakePython(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'awskit-py-'));
  writeFileSync(join(dir, 'python3'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

describe('finding a python with moto', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('lists every python3 on PATH in order, or only AWSKIT_PYTHON when set', () => {
    const a = fakePython('exit 0');
    const b = fakePython('exit 0');
    expect(pythonCandidates({ PATH: `${a}:/nonexistent:${b}` })).toEqual([
      join(a, 'python3'),
      join(b, 'python3'),
    ]);
    expect(pythonCandidates({ PATH: `${a}:${a}` })).toEqual([join(a, 'python3')]);
    expect(pythonCandidates({ PATH: a, AWSKIT_PYTHON: '/opt/py/bin/python3' })).toEqual([
      '/opt/py/bin/python3',
    ]);
    expect(pythonCandidates({ PATH: '/nonexistent' })).toEqual(['python3']);
  });

  // Regression: `pnpm test`/`pnpm start` put /usr/bin (a python3 without moto) ahead of the pyenv shim that has it,
  // and IAM/STS/ECR silently became unavailable.
  it('skips a python3 without moto that comes first on PATH', async () => {
    const broken = fakePython(`echo "ModuleNotFoundError: No module named 'moto'" >&2\nexit 1`);
    process.env.PATH = `${broken}:${savedPath}`;
    const moto = await startMotoServer();
    try {
      const r = await fetch(`${moto.endpoint}/moto-api/reset`, { method: 'POST' });
      expect(r.status).toBe(200);
    } finally {
      await moto.stop();
    }
  });

  it('says which pythons it tried when none has moto', async () => {
    const broken = fakePython(`echo "ModuleNotFoundError: No module named 'moto'" >&2\nexit 1`);
    const err = await startMotoServer({ python: join(broken, 'python3') }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`no python3 with moto found (tried ${join(broken, 'python3')})`);
    expect((err as { hint?: string }).hint).toMatch(/AWSKIT_PYTHON/);
  });
});
