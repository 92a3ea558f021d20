/**
 * Regression (issue 14 item 12): the identity cache was keyed by the access key alone, so a real key once used
 * against a local endpoint mapped to the emulator's account for 12 h (and the other way round); and the cached
 * identity held the principal ARN in clear text although the README promised "only as a hash".
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MotoServer, startMotoServer } from '@awskit/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAuthorization, recordingLogger } from './helpers';

/** Two emulators that answer as different accounts, standing in for "local endpoint" and "the real one". */
let first: MotoServer;
let second: MotoServer;
beforeAll(async () => {
  [first, second] = await Promise.all([
    startMotoServer({ env: { MOTO_ACCOUNT_ID: '111122223333' } }),
    startMotoServer({ env: { MOTO_ACCOUNT_ID: '444455556666' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

const credentials = {
  accessKeyId: 'AKIASAMEKEYBOTHENDS1',
  secretAccessKey: 'sameSecretForBothEndpoints0123456789abcd',
};

describe('ECR token/identity cache scope', () => {
  it('keys the cached identity by endpoint too: the same key against another endpoint asks that STS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecr-scope-'));
    const env = { AWSKIT_CACHE_DIR: dir };
    const logger = recordingLogger();
    const at = (endpoint: string) =>
      getAuthorization({ endpoint, region: 'us-east-1', credentials, env, logger });
    const [a] = await at(first.endpoint);
    expect(a!.registryId).toBe('111122223333');
    const [b] = await at(second.endpoint);
    expect(b!.registryId).toBe('444455556666');
    // Each endpoint's mapping is still reused for that endpoint.
    const [a2] = await at(first.endpoint);
    expect(a2!.registryId).toBe('111122223333');
    expect(logger.lines.filter((l) => l.includes('caller identity from STS'))).toHaveLength(2);
    expect(logger.lines.filter((l) => l.includes('caller identity from cache'))).toHaveLength(1);
  });

  it('stores no principal ARN in clear text (only its hash), and no key material', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecr-scope-'));
    await getAuthorization({
      endpoint: first.endpoint,
      region: 'us-east-1',
      credentials,
      env: { AWSKIT_CACHE_DIR: dir },
    });
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = await readFile(join(f.parentPath, f.name), 'utf8');
      for (const s of ['arn:', ':user/', credentials.accessKeyId, credentials.secretAccessKey])
        expect(`${f.name}\n${text}`).not.toContain(s);
    }
  });
});
