import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readProfileKeys } from '../src/credentialsFile.js';
import { journalPaths } from '../src/journal.js';
import { resumeRotation } from '../src/resumeRotation.js';
import { rotateAccessKey } from '../src/rotateAccessKey.js';
import type { RotateAccessKeyOptions, StaticCredentials } from '../src/types.js';
import {
  createUserWithFixtureProfile,
  createUserWithKey,
  createUserWithProfile,
  deactivateKey,
  exists,
  fileMode,
  keyStatuses,
  makeAwsDir,
  realRotationSteps,
  recordingLogger,
  useEnforcingMoto,
  whoAmI,
  workProfileText,
  workRotationOptions,
} from './helpers.js';

const run = promisify(execFile);
const moto = useEnforcingMoto();

/** Options every rotation in this file uses: the private moto, fast verification, an empty environment. */
const rotationOptions = (
  aws: { credentialsFile: string; configFile: string },
  extra: RotateAccessKeyOptions = {},
) => workRotationOptions(moto, aws, extra);

describe('rotateAccessKey end to end (moto enforcing credentials)', () => {
  it('puts a working new key in the profile, deactivates the old one, and leaves every other byte alone', async () => {
    const { admin, userName, old, credentials: before, aws } = await createUserWithFixtureProfile(moto);
    const logger = recordingLogger();
    try {
      const result = await rotateAccessKey(rotationOptions(aws, { logger }));
      const after = await readFile(aws.credentialsFile, 'utf8');
      const newKey = result.newKey!;
      expect(readProfileKeys(after, 'work')).toMatchObject({
        accessKeyId: newKey.accessKeyId,
        secretAccessKey: newKey.secretAccessKey,
      });
      // Byte-identical except the two values and the removed stale token line.
      const expected = before
        .replace(old.accessKeyId, newKey.accessKeyId)
        .replace(old.secretAccessKey, newKey.secretAccessKey)
        .replace('aws_session_token = stale-token-from-last-week\r\n', '');
      expect(after).toBe(expected);
      expect(await fileMode(aws.credentialsFile)).toBe(0o600);

      expect(await keyStatuses(admin, userName)).toEqual({
        [old.accessKeyId]: 'Inactive',
        [newKey.accessKeyId]: 'Active',
      });
      const me = await whoAmI(moto, newKey);
      expect(me.arn).toMatch(new RegExp(`:user/${userName}$`));
      expect(result).toMatchObject({ dryRun: false, oldKeyStatus: 'Inactive', verifyAttempts: 1 });
      expect(result.plan.removesSessionToken).toBe(true);

      const { journalFile, backupFile } = journalPaths(aws.credentialsFile, 'work');
      expect(await exists(journalFile)).toBe(false);
      expect(await exists(backupFile)).toBe(false);
      // No secret in any log line or in the plan.
      const logs = logger.entries.join('\n') + JSON.stringify(result.plan);
      for (const secret of [old.secretAccessKey, newKey.secretAccessKey]) expect(logs).not.toContain(secret);
      expect(logs).not.toContain(newKey.accessKeyId); // ids are masked
    } finally {
      await aws.cleanup();
    }
  });

  it('deletes the old key with deleteOld, and the deleted key is really rejected', async () => {
    const { admin, userName, old, aws } = await createUserWithProfile(moto);
    try {
      const result = await rotateAccessKey(rotationOptions(aws, { deleteOld: true }));
      expect(result.oldKeyStatus).toBe('deleted');
      expect(await keyStatuses(admin, userName)).toEqual({ [result.newKey!.accessKeyId]: 'Active' });
      expect(await whoAmI(moto, old)).toEqual({ error: 'InvalidClientTokenId' });
    } finally {
      await aws.cleanup();
    }
  });

  it('the aws CLI works with the rotated profile', async () => {
    const { userName, aws } = await createUserWithProfile(moto, {
      config: '[profile work]\nregion = us-east-1\noutput = json\n',
    });
    try {
      // deleteOld: with enforcement on, only the new key can make the CLI call succeed.
      await rotateAccessKey(rotationOptions(aws, { deleteOld: true }));
      const { stdout } = await run(
        'aws',
        ['sts', 'get-caller-identity', '--endpoint-url', moto.endpoint, '--output', 'json'],
        {
          env: {
            PATH: process.env.PATH,
            HOME: aws.dir,
            AWS_SHARED_CREDENTIALS_FILE: aws.credentialsFile,
            AWS_CONFIG_FILE: aws.configFile,
            AWS_PROFILE: 'work',
          },
        },
      );
      expect(JSON.parse(stdout).Arn).toMatch(new RegExp(`:user/${userName}$`));
    } finally {
      await aws.cleanup();
    }
  });

  it('writes the new key as console CSV (0600) when asked', async () => {
    const { userName, aws } = await createUserWithProfile(moto);
    try {
      const csv = join(aws.dir, 'new-key.csv');
      const result = await rotateAccessKey(rotationOptions(aws, { exportCsvFile: csv }));
      expect(await readFile(csv, 'utf8')).toBe(
        `User name,Access key ID,Secret access key\n${userName},${result.newKey!.accessKeyId},${result.newKey!.secretAccessKey}\n`,
      );
      expect(await fileMode(csv)).toBe(0o600);
    } finally {
      await aws.cleanup();
    }
  });
});

describe('rotateAccessKey: profiles that share the key', () => {
  it('updates every profile holding the old key (retiring it would break them), and can leave them instead', async () => {
    const {
      admin,
      old,
      credentials: text,
      aws,
    } = await createUserWithProfile(moto, {
      credentials: (key) =>
        `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER0\naws_secret_access_key = o\n\n[work] # same key\naws_access_key_id=${key.accessKeyId}\naws_secret_access_key=${key.secretAccessKey}\n`,
    });
    try {
      const result = await rotateAccessKey(rotationOptions(aws));
      const k = result.newKey!;
      expect(result.plan.alsoUpdates).toEqual(['default']);
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(
        text.replaceAll(old.accessKeyId, k.accessKeyId).replaceAll(old.secretAccessKey, k.secretAccessKey),
      );
    } finally {
      await aws.cleanup();
    }
    const second = await createUserWithKey(admin);
    const k2 = second.keys[0]!;
    const text2 = `[default]\naws_access_key_id = ${k2.accessKeyId}\naws_secret_access_key = ${k2.secretAccessKey}\n[work]\naws_access_key_id = ${k2.accessKeyId}\naws_secret_access_key = ${k2.secretAccessKey}\n`;
    const aws2 = await makeAwsDir(text2);
    try {
      const result = await rotateAccessKey(rotationOptions(aws2, { sameKeyProfiles: 'leave' }));
      expect(result.plan.leaves).toEqual(['default']);
      expect(readProfileKeys(await readFile(aws2.credentialsFile, 'utf8'), 'default')?.accessKeyId).toBe(
        k2.accessKeyId,
      );
      expect(result.nextSteps[0]).toMatch(/\[default\] still hold the old key/);
    } finally {
      await aws2.cleanup();
    }
  });
});

describe('rotateAccessKey: CSV export on rollback', () => {
  it('removes the exported CSV of a key that was rolled back, but never a file that was not ours', async () => {
    const { admin, userName, old, aws } = await createUserWithProfile(moto);
    const real = realRotationSteps(moto);
    const failVerify = {
      getCallerIdentity: async (creds: StaticCredentials) => {
        if (creds.accessKeyId !== old.accessKeyId) throw new Error('verification blocked');
        return real.getCallerIdentity(creds);
      },
    };
    try {
      const csv = join(aws.dir, 'new.csv');
      const err = await rotateAccessKey(
        rotationOptions(aws, { exportCsvFile: csv, verifyAttempts: 1, steps: failVerify }),
      ).catch((e) => e);
      expect(err).toMatchObject({ code: 'VERIFY_FAILED', rolledBack: true });
      expect(await exists(csv)).toBe(false);
      expect(await keyStatuses(admin, userName)).toEqual({ [old.accessKeyId]: 'Active' });

      // Failing before the CSV is written: a file already at that path is left alone.
      const { writeFile } = await import('node:fs/promises');
      await writeFile(csv, 'unrelated\n');
      const failWrite = {
        writeFile: async (path: string, text: string) => {
          if (path === aws.credentialsFile) throw new Error('disk full');
          return real.writeFile(path, text);
        },
      };
      await expect(
        rotateAccessKey(rotationOptions(aws, { exportCsvFile: csv, steps: failWrite })),
      ).rejects.toMatchObject({ code: 'ROTATION_ROLLED_BACK', failedStep: 'writeFile' });
      expect(await readFile(csv, 'utf8')).toBe('unrelated\n');
    } finally {
      await aws.cleanup();
    }
  });
});

describe('rotateAccessKey: the 2-key limit, refusals and dry runs', () => {
  async function expectUnchanged(
    setup: { credentials: string; config?: string; userName: string },
    opts: (aws: Awaited<ReturnType<typeof makeAwsDir>>) => RotateAccessKeyOptions,
    expected: Record<string, unknown>,
    prepare?: (aws: Awaited<ReturnType<typeof makeAwsDir>>) => Promise<void>,
  ) {
    const admin = await moto.iam();
    const aws = await makeAwsDir(setup.credentials, setup.config);
    try {
      await prepare?.(aws);
      const keysBefore = await keyStatuses(admin, setup.userName);
      const error = await rotateAccessKey(opts(aws)).catch((e) => e);
      expect(error).toMatchObject(expected);
      // The error never carries a secret of the profile.
      const secrets = [...setup.credentials.matchAll(/aws_secret_access_key = (\S+)/g)].map((m) => m[1]!);
      const shown = JSON.stringify({ m: error.message, h: error.hint, d: error.details });
      for (const secret of secrets) expect(shown).not.toContain(secret);
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(setup.credentials);
      expect(await keyStatuses(admin, setup.userName)).toEqual(keysBefore);
      expect(await exists(journalPaths(aws.credentialsFile, 'work').journalFile)).toBe(false);
    } finally {
      await aws.cleanup();
    }
  }

  it('two active keys: explains which one is in use and never deletes the active other key', async () => {
    const { userName, keys } = await createUserWithKey(await moto.iam(), { keys: 2 });
    await expectUnchanged(
      { credentials: workProfileText(keys[0]!), userName },
      (aws) => rotationOptions(aws, { pruneInactive: true }),
      {
        code: 'KEY_LIMIT_REACHED',
        message: expect.stringMatching(
          /already has two access keys.*profile uses AKIA.*Active.*other key is AKIA.*Active/s,
        ),
        hint: expect.stringContaining('--delete-key'),
      },
    );
  });

  it('a key AWS does not accept: a clear credentials error, nothing created', async () => {
    const { userName, keys } = await createUserWithKey(await moto.iam());
    const unknown = { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: keys[0]!.secretAccessKey };
    await expectUnchanged(
      { credentials: workProfileText(unknown), userName },
      (aws) => rotationOptions(aws),
      {
        code: 'CREDENTIALS_INVALID',
        hint: expect.any(String),
      },
    );
  });

  it('two keys, other inactive, without --prune-inactive: says how to proceed', async () => {
    const admin = await moto.iam();
    const { userName, keys } = await createUserWithKey(admin, { keys: 2 });
    await deactivateKey(admin, userName, keys[1]!.accessKeyId);
    await expectUnchanged(
      { credentials: workProfileText(keys[0]!), userName },
      (aws) => rotationOptions(aws),
      {
        code: 'KEY_LIMIT_REACHED',
        hint: expect.stringContaining('--prune-inactive'),
      },
    );
  });

  it('--prune-inactive deletes the inactive other key first, then rotates', async () => {
    const { admin, userName, keys, aws } = await createUserWithProfile(moto, { keys: 2 });
    await deactivateKey(admin, userName, keys[1]!.accessKeyId);
    try {
      const result = await rotateAccessKey(rotationOptions(aws, { pruneInactive: true }));
      expect(result.plan.deleteFirstKeyId).toBe(keys[1]!.accessKeyId);
      expect(await keyStatuses(admin, userName)).toEqual({
        [keys[0]!.accessKeyId]: 'Inactive',
        [result.newKey!.accessKeyId]: 'Active',
      });
    } finally {
      await aws.cleanup();
    }
  });

  it('--delete-key removes exactly the named active key (the explicit opt-in), and no other id is accepted', async () => {
    const { admin, userName, keys, aws } = await createUserWithProfile(moto, { keys: 2 });
    try {
      await expect(
        rotateAccessKey(rotationOptions(aws, { deleteKeyId: 'AKIAIOSFODNN7EXAMPLE' })),
      ).rejects.toMatchObject({
        code: 'IAM_ROTATION_INVALID_OPTIONS',
      });
      expect(Object.keys(await keyStatuses(admin, userName))).toHaveLength(2);
      const result = await rotateAccessKey(rotationOptions(aws, { deleteKeyId: keys[1]!.accessKeyId }));
      expect(await keyStatuses(admin, userName)).toEqual({
        [keys[0]!.accessKeyId]: 'Inactive',
        [result.newKey!.accessKeyId]: 'Active',
      });
    } finally {
      await aws.cleanup();
    }
  });

  it('a dry run reports the exact plan and changes nothing', async () => {
    const { admin, userName, keys, credentials, aws } = await createUserWithFixtureProfile(moto);
    try {
      const result = await rotateAccessKey(rotationOptions(aws, { dryRun: true }));
      expect(result.dryRun).toBe(true);
      expect(result.newKey).toBeUndefined();
      expect(result.plan).toMatchObject({
        userName,
        oldKeyAction: 'deactivate',
        removesSessionToken: true,
        changedLines: [8, 10, 11],
      });
      expect(result.plan.steps.join('\n')).toMatch(
        /Create a new access key.*lines 8, 10; remove session token line\(s\) 11/s,
      );
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(credentials);
      expect(Object.keys(await keyStatuses(admin, userName))).toEqual([keys[0]!.accessKeyId]);
    } finally {
      await aws.cleanup();
    }
  });

  it('SSO and role profiles, a missing profile, and a read-only file are refused before anything is created', async () => {
    const { userName, keys } = await createUserWithKey(await moto.iam());
    const k = keys[0]!;
    await expectUnchanged(
      {
        credentials: workProfileText(k),
        config: '[profile sso]\nsso_session = corp\nsso_account_id = 1\n',
        userName,
      },
      (aws) => rotationOptions(aws, { profile: 'sso' }),
      { code: 'PROFILE_NOT_STATIC', message: expect.stringContaining('SSO') },
    );
    await expectUnchanged(
      {
        credentials: `${workProfileText(k)}[role]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = work\n`,
        userName,
      },
      (aws) => rotationOptions(aws, { profile: 'role' }),
      { code: 'PROFILE_NOT_STATIC', message: expect.stringContaining('assumed role') },
    );
    await expectUnchanged(
      { credentials: workProfileText(k), userName },
      (aws) => rotationOptions(aws, { profile: 'nope' }),
      {
        code: 'IAM_ROTATION_PROFILE_NOT_FOUND',
      },
    );
    const { chmod } = await import('node:fs/promises');
    await expectUnchanged(
      { credentials: workProfileText(k), userName },
      (aws) => rotationOptions(aws),
      { code: 'CREDENTIALS_FILE_NOT_WRITABLE', message: expect.stringContaining('read-only') },
      (aws) => chmod(aws.credentialsFile, 0o400),
    );
  });
});

describe('rotateAccessKey: locking, symlinks, environment', () => {
  it('refuses while another live process holds the lock, and takes over a stale lock', async () => {
    const { admin, userName, keys, aws } = await createUserWithProfile(moto);
    const lockFile = `${journalPaths(aws.credentialsFile, 'work').journalFile}.lock`;
    const { spawn } = await import('node:child_process');
    const { writeFile, rm } = await import('node:fs/promises');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await writeFile(lockFile, `${holder.pid}\n`);
      await expect(rotateAccessKey(rotationOptions(aws))).rejects.toMatchObject({
        code: 'ROTATION_IN_PROGRESS',
      });
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(workProfileText(keys[0]!));
      expect(Object.keys(await keyStatuses(admin, userName))).toHaveLength(1);
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
      // The holder is gone: its lock is stale and is taken over.
      await expect(rotateAccessKey(rotationOptions(aws))).resolves.toMatchObject({
        oldKeyStatus: 'Inactive',
      });
      expect(await exists(lockFile)).toBe(false);
    } finally {
      if (holder.exitCode === null) holder.kill('SIGKILL');
      await rm(lockFile, { force: true });
      await aws.cleanup();
    }
  });

  it('writes through a symlinked credentials file (the link stays a link)', async () => {
    const { aws } = await createUserWithProfile(moto);
    const { symlink, lstat } = await import('node:fs/promises');
    const link = join(aws.dir, 'credentials-link');
    await symlink(aws.credentialsFile, link);
    try {
      const result = await rotateAccessKey(rotationOptions(aws, { credentialsFile: link }));
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(readProfileKeys(await readFile(aws.credentialsFile, 'utf8'), 'work')?.accessKeyId).toBe(
        result.newKey!.accessKeyId,
      );
    } finally {
      await aws.cleanup();
    }
  });

  it('warns when AWS_ACCESS_KEY_ID in the environment still holds the old key', async () => {
    const { keys, aws } = await createUserWithProfile(moto);
    try {
      const result = await rotateAccessKey(
        rotationOptions(aws, { env: { AWS_ACCESS_KEY_ID: keys[0]!.accessKeyId } }),
      );
      expect(result.nextSteps[0]).toContain('AWS_ACCESS_KEY_ID');
    } finally {
      await aws.cleanup();
    }
  });
});

describe('resumeRotation', () => {
  it('finishes a rotation whose old-key step failed, then there is nothing left to resume', async () => {
    const { admin, userName, old, aws } = await createUserWithProfile(moto);
    try {
      const err = await rotateAccessKey(
        rotationOptions(aws, {
          steps: {
            updateAccessKey: async () => {
              throw new Error('network down');
            },
          },
        }),
      ).catch((e) => e);
      expect(err).toMatchObject({
        code: 'OLD_KEY_NOT_RETIRED',
        rolledBack: false,
        failedStep: 'updateAccessKey',
      });
      const newId = readProfileKeys(await readFile(aws.credentialsFile, 'utf8'), 'work')!.accessKeyId;
      expect(await keyStatuses(admin, userName)).toEqual({ [old.accessKeyId]: 'Active', [newId]: 'Active' });
      // The kept journal (it holds the new secret) and the backup (the old one) are private.
      const kept = journalPaths(aws.credentialsFile, 'work');
      expect(await fileMode(kept.journalFile)).toBe(0o600);
      expect(await fileMode(kept.backupFile)).toBe(0o600);

      // While the journal exists, a new rotation of the profile is refused.
      await expect(rotateAccessKey(rotationOptions(aws))).rejects.toMatchObject({
        code: 'ROTATION_IN_PROGRESS',
        hint: expect.stringContaining('--resume'),
      });
      const resumed = await resumeRotation({ ...rotationOptions(aws), action: 'resume' });
      expect(resumed).toMatchObject({ action: 'resume', oldKeyStatus: 'Inactive' });
      expect(await keyStatuses(admin, userName)).toEqual({
        [old.accessKeyId]: 'Inactive',
        [newId]: 'Active',
      });
      await expect(resumeRotation(rotationOptions(aws))).rejects.toMatchObject({
        code: 'NO_ROTATION_IN_PROGRESS',
      });
      expect(await exists(journalPaths(aws.credentialsFile, 'work').journalFile)).toBe(false);
    } finally {
      await aws.cleanup();
    }
  });
});
