import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  UpdateAccountPasswordPolicyCommand,
} from '@aws-sdk/client-iam';
import { createClient } from '@awskit/core';
import { type MotoServer, startMotoServer } from '@awskit/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers';

let moto: MotoServer;
let admin: IAMClient;
beforeAll(async () => {
  moto = await startMotoServer();
  admin = await createClient(IAMClient, {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAADMIN00000000000', secretAccessKey: 'x' },
    env: {},
  });
});
afterAll(async () => {
  await moto?.stop();
});

let n = 0;
/** A user with one key, in a fresh credentials file under profile "work". */
async function setup() {
  const userName = `cli-${process.pid}-${n++}`;
  await admin.send(new CreateUserCommand({ UserName: userName }));
  const k = (await admin.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
  const dir = mkdtempSync(join(tmpdir(), 'awskit-iam-cli-'));
  const credentials = join(dir, 'credentials');
  const text = `# keep me\n[work]\naws_access_key_id = ${k.AccessKeyId}\naws_secret_access_key = ${k.SecretAccessKey}\n`;
  writeFileSync(credentials, text);
  chmodSync(credentials, 0o600);
  writeFileSync(join(dir, 'config'), '');
  const env = { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: join(dir, 'config'), HOME: dir };
  const iam = (args: string[], input?: string) =>
    runCli(
      ['iam', ...args, '--profile', 'work', '--endpoint-url', moto.endpoint, '--region', 'us-east-1'],
      env,
      input,
    );
  return { userName, secret: k.SecretAccessKey!, keyId: k.AccessKeyId!, credentials, text, iam };
}

describe('awskit iam rotate-key', () => {
  it('refuses on a non-terminal without --yes (exit 2) and changes nothing', async () => {
    const s = await setup();
    const r = s.iam(['rotate-key'], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('stdin is not a terminal');
    expect(r.stderr).toContain('--yes');
    expect(readFileSync(s.credentials, 'utf8')).toBe(s.text);
  });

  it('--dry-run --json prints the plan and changes nothing', async () => {
    const s = await setup();
    const r = s.iam(['rotate-key', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      dryRun: true,
      plan: { profile: 'work', oldKeyAction: 'deactivate', changedLines: [3, 4] },
    });
    expect(out.plan.user).toMatch(new RegExp(`:user/${s.userName}$`));
    expect(readFileSync(s.credentials, 'utf8')).toBe(s.text);
  });

  it('--yes rotates; no secret is printed unless --show-secret', async () => {
    const s = await setup();
    const r = s.iam(['rotate-key', '--yes', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      dryRun: false,
      oldKeyStatus: 'Inactive',
      newAccessKeyId: expect.stringMatching(/^AKIA…/),
    });
    const after = readFileSync(s.credentials, 'utf8');
    const newSecret = /aws_secret_access_key = (\S+)/.exec(after)![1]!;
    expect(newSecret).not.toBe(s.secret);
    for (const secret of [s.secret, newSecret]) expect(r.stdout + r.stderr).not.toContain(secret);

    const s2 = await setup();
    const shown = s2.iam(['rotate-key', '--yes', '--show-secret']);
    expect(shown.code).toBe(0);
    const secret2 = /aws_secret_access_key = (\S+)/.exec(readFileSync(s2.credentials, 'utf8'))![1]!;
    expect(shown.stdout).toContain(secret2);
  });

  // Issue 14: the resume/rollback paths (debug logging on) print no secret either.
  it('--resume and --rollback of an interrupted rotation print no secret, even with --verbose', async () => {
    /** An interrupted rotation: a new key exists and is journaled ('created'), the file still holds the old one. */
    const interrupted = async () => {
      const s = await setup();
      const k = (await admin.send(new CreateAccessKeyCommand({ UserName: s.userName }))).AccessKey!;
      const backupFile = `${s.credentials}.awskit-backup.work`;
      writeFileSync(backupFile, s.text, { mode: 0o600 });
      const journal = {
        version: 1,
        state: 'created',
        profile: 'work',
        credentialsFile: s.credentials,
        backupFile,
        startedAt: new Date().toISOString(),
        userName: s.userName,
        userArn: `arn:aws:iam::123456789012:user/${s.userName}`,
        oldAccessKeyId: s.keyId,
        keyIdsBefore: [s.keyId],
        oldKeyAction: 'deactivate',
        newAccessKeyId: k.AccessKeyId!,
        newSecretAccessKey: k.SecretAccessKey!,
      };
      writeFileSync(`${s.credentials}.awskit-rotate.work.json`, JSON.stringify(journal), { mode: 0o600 });
      return { ...s, newSecret: k.SecretAccessKey! };
    };
    const r = await interrupted();
    const rolledBack = r.iam(['rotate-key', '--rollback', '--verbose']);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(rolledBack.stdout).toContain('Rolled back');
    expect(readFileSync(r.credentials, 'utf8')).toBe(r.text);
    for (const secret of [r.secret, r.newSecret])
      expect(rolledBack.stdout + rolledBack.stderr).not.toContain(secret);

    const f = await interrupted();
    const resumed = f.iam(['rotate-key', '--resume', '--verbose', '--verify-delay-ms', '10']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Finished the rotation');
    expect(readFileSync(f.credentials, 'utf8')).toContain(f.newSecret);
    for (const secret of [f.secret, f.newSecret])
      expect(resumed.stdout + resumed.stderr).not.toContain(secret);
  });

  it('--mfa-code signs with an MFA session; --mfa without a terminal is a usage error', async () => {
    const s = await setup();
    expect(s.iam(['rotate-key', '--yes', '--mfa'], '').code).toBe(2);
    const r = s.iam([
      'rotate-key',
      '--yes',
      '--json',
      '--mfa-code',
      '123456',
      '--mfa-serial',
      'arn:aws:iam::123456789012:mfa/u',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).plan.steps[0]).toContain('MFA session');
  });

  it('two keys: exit 1 with an explanation and a hint', async () => {
    const s = await setup();
    await admin.send(new CreateAccessKeyCommand({ UserName: s.userName }));
    const r = s.iam(['rotate-key', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: User .* already has two access keys/);
    expect(r.stderr).toMatch(/hint: An active key is never deleted implicitly/);
    expect(readFileSync(s.credentials, 'utf8')).toBe(s.text);
  });
});

describe('awskit iam keys', () => {
  it('lists keys (exit 0) and exits 4 when a key is older than --max-age-days', async () => {
    const s = await setup();
    const ok = s.iam(['keys']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/AKIA…\w{4}\s+Active.*\(profile work\)/);
    expect(ok.stdout).not.toContain(s.keyId);
    const stale = s.iam(['keys', '--max-age-days', '0', '--json']);
    expect(stale.code).toBe(4);
    expect(JSON.parse(stale.stdout).keys[0]).toMatchObject({
      status: 'Active',
      tooOld: true,
      inProfile: true,
    });
    expect(s.iam(['keys', '--max-age-days', 'x']).code).toBe(2);
  });
});

describe('awskit iam change-password', () => {
  it('refuses to prompt on a non-terminal (exit 2) and never takes a password from argv', async () => {
    const s = await setup();
    const r = s.iam(['change-password'], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--password-stdin');
    expect(s.iam(['change-password', '--password', 'x']).code).toBe(2);
  });

  it('--password-stdin: policy violations are listed plainly and the passwords never echoed', async () => {
    const s = await setup();
    await admin.send(
      new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 20, RequireSymbols: true }),
    );
    const r = s.iam(['change-password', '--password-stdin'], 'Old-Password-1\nshortpass\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: The new password breaks the account password policy: it must be at least 20 characters/,
    );
    expect(r.stderr).toMatch(/hint: The policy requires at least 20 characters, a symbol/);
    expect(r.stdout + r.stderr).not.toMatch(/shortpass|Old-Password-1/);
  });
});
