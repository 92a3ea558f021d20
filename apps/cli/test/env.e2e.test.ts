import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers';

function home(config: string, credentials = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'awskit-home-'));
  writeFileSync(join(dir, 'config'), config);
  writeFileSync(join(dir, 'credentials'), credentials);
  return dir;
}

describe('awskit env', () => {
  it('shows per-service endpoints with their source, from env and the profile services section', () => {
    const dir = home(
      '[profile dev]\nregion = eu-west-1\nservices = devsvc\n[services devsvc]\ndynamodb =\n  endpoint_url = http://127.0.0.1:8000\n',
      '[dev]\naws_access_key_id = AKIAEXAMPLE0000000001\naws_secret_access_key = not-printed-secret\n',
    );
    const r = runCli(['env', '--json', '--profile', 'dev'], {
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:4568',
    });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, string>>;
    const by = Object.fromEntries(rows.map((x) => [x.service, x]));
    expect(by.kinesis).toMatchObject({
      endpoint: 'http://127.0.0.1:4568',
      endpointReason: 'AWS_ENDPOINT_URL_KINESIS',
      region: 'eu-west-1',
    });
    expect(by.dynamodb).toMatchObject({
      endpoint: 'http://127.0.0.1:8000',
      endpointSource: 'profile:services',
    });
    expect(by.sts).toMatchObject({
      endpointSource: 'aws',
      credentials: 'profile:dev',
      regionSource: 'profile',
    });
    expect(r.stdout + r.stderr).not.toContain('not-printed-secret');
  });

  it('uses the local AWS with dummy credentials under AWSKIT_LOCAL=1', () => {
    const r = runCli(['env', '--service', 'kinesis'], {
      AWSKIT_LOCAL: '1',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/endpoint\s+http:\/\/127\.0\.0\.1:4566\s+\[AWSKIT_LOCAL=1\]/);
    expect(r.stdout).toMatch(/credentials\s+local-dummy/);
  });

  it('says how to fix a missing region for real AWS (exit 1, no stack trace)', () => {
    const r = runCli(['env', '--service', 'kinesis'], {
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: No AWS region configured/);
    expect(r.stderr).toMatch(/hint: Pass --region/);
  });
});
