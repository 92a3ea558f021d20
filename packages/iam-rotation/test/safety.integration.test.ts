/**
 * Regressions of issue 14 (items 1–5): a rotation must never lose a working key, even with other writers around.
 * Every test runs against the credential-enforcing moto, so "works" means STS accepts the key.
 */

import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { CreateAccessKeyCommand, DeleteAccessKeyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { readProfileKeys } from '../src/credentialsFile.js';
import { journalPaths, parseJournal } from '../src/journal.js';
import { resumeRotation } from '../src/resumeRotation.js';
import { rotateAccessKey } from '../src/rotateAccessKey.js';
import type { RotateAccessKeyOptions, RotationSteps, StaticCredentials } from '../src/types.js';
import {
  createUserWithFixtureProfile,
  createUserWithKey,
  createUserWithProfile,
  deactivateKey,
  exists,
  keyStatuses,
  makeAwsDir,
  newKeyNeverVerifies,
  realRotationSteps,
  recordingLogger,
  useEnforcingMoto,
  whoAmI,
  workProfileText,
  workRotationOptions,
} from './helpers.js';

const moto = useEnforcingMoto();

/** The profile's key in the file, and whether STS accepts it as `userName`. */
async function profileWorks(credentialsFile: string, profile: string, userName: string) {
  const key = readProfileKeys(await readFile(credentialsFile, 'utf8'), profile)!;
  const who = await whoAmI(moto, key);
  return { key, works: who.arn?.endsWith(`:user/${userName}`) === true, who };
}

/** A rotation that stops at 'verified' (OLD_KEY_NOT_RETIRED: retiring the old key is throttled); its error. */
const stopAtVerified = (options: RotateAccessKeyOptions, real: RotationSteps) =>
  rotateAccessKey({
    ...options,
    steps: {
      ...real,
      updateAccessKey: async () => {
        throw Object.assign(new Error('throttled'), { name: 'Throttling' });
      },
    },
  }).catch((e) => e);

/**
 * A barrier for `parties` callers that also opens after `maxWaitMs`, so code that serialises the callers (a lock)
 * is not deadlocked by it: it only forces an overlap where nothing prevents one.
 */
function softBarrier(parties: number, maxWaitMs: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return async () => {
    arrived += 1;
    if (arrived >= parties) open();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([opened, new Promise<void>((r) => (timer = setTimeout(r, maxWaitMs)))]);
    clearTimeout(timer);
  };
}

describe('issue 14: a rotation never loses a working key', () => {
  // Item 1: the lock was per profile while the read–modify–write is per file, so two rotations of different
  // profiles of one file each wrote their own edit over the other's.
  it('two rotations of different profiles of one credentials file in parallel: both keep their new, working key', async () => {
    const admin = await moto.iam();
    const a = await createUserWithKey(admin);
    const b = await createUserWithKey(admin);
    const text =
      `[a]\naws_access_key_id = ${a.keys[0]!.accessKeyId}\naws_secret_access_key = ${a.keys[0]!.secretAccessKey}\n` +
      `[b]\naws_access_key_id = ${b.keys[0]!.accessKeyId}\naws_secret_access_key = ${b.keys[0]!.secretAccessKey}\n`;
    const aws = await makeAwsDir(text);
    try {
      const real = realRotationSteps(moto);
      // Both runs stop at the journal write that sits between reading the file and writing it (the one recording
      // the hash of the text about to be written), until the other arrives too — or 1.5 s pass.
      const barrier = softBarrier(2, 1_500);
      const steps: Partial<RotationSteps> = {
        ...real,
        writeJournal: async (path, journalText) => {
          if (JSON.parse(journalText).writtenSha256 && !journalText.includes('"rolling-back"'))
            await barrier();
          return real.writeJournal(path, journalText);
        },
      };
      const rotate = (profile: string) =>
        rotateAccessKey({ ...workRotationOptions(moto, aws), profile, steps: { ...steps } });
      const [ra, rb] = await Promise.allSettled([rotate('a'), rotate('b')]);
      expect(ra).toMatchObject({ status: 'fulfilled', value: { oldKeyStatus: 'Inactive' } });
      expect(rb).toMatchObject({ status: 'fulfilled', value: { oldKeyStatus: 'Inactive' } });
      const pa = await profileWorks(aws.credentialsFile, 'a', a.userName);
      const pb = await profileWorks(aws.credentialsFile, 'b', b.userName);
      expect(pa.key.accessKeyId).not.toBe(a.keys[0]!.accessKeyId);
      expect(pb.key.accessKeyId).not.toBe(b.keys[0]!.accessKeyId);
      expect(pa.works, JSON.stringify(pa.who)).toBe(true);
      expect(pb.works, JSON.stringify(pb.who)).toBe(true);
      expect((await keyStatuses(admin, a.userName))[pa.key.accessKeyId]).toBe('Active');
      expect((await keyStatuses(admin, b.userName))[pb.key.accessKeyId]).toBe('Active');
    } finally {
      await aws.cleanup();
    }
  });

  // Item 2: the file was read and backed up before the confirmation prompt, so a rollback put back a stale copy
  // and erased what another writer had added in the meantime.
  it('a rollback keeps what another writer changed in the file during the confirmation prompt', async () => {
    const { admin, userName, old, credentials, aws } = await createUserWithFixtureProfile(moto);
    try {
      const added =
        '\n[added-while-prompting]\naws_access_key_id = AKIAADDEDADDEDADDED0\naws_secret_access_key = x\n';
      const real = realRotationSteps(moto);
      const err = await rotateAccessKey({
        ...workRotationOptions(moto, aws, { verifyAttempts: 1 }),
        confirm: async () => {
          await appendFile(aws.credentialsFile, added);
          return true;
        },
        steps: newKeyNeverVerifies(real, old),
      }).catch((e) => e);
      expect(err).toMatchObject({ code: 'VERIFY_FAILED', rolledBack: true });
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(credentials + added);
      expect(await keyStatuses(admin, userName)).toEqual({ [old.accessKeyId]: 'Active' });
    } finally {
      await aws.cleanup();
    }
  });

  // Item 3: the leftover-key search used the key list of the plan (before the prompt) and deleted a key someone
  // else had created meanwhile.
  it("never deletes a key another party created during the prompt (the 'leftover' search)", async () => {
    const { admin, userName, old, credentials, aws } = await createUserWithProfile(moto);
    try {
      let theirs: string | undefined;
      const err = await rotateAccessKey({
        ...workRotationOptions(moto, aws),
        confirm: async () => {
          const k = await admin.send(new CreateAccessKeyCommand({ UserName: userName }));
          theirs = k.AccessKey!.AccessKeyId!;
          return true;
        },
      }).catch((e) => e);
      expect(theirs).toBeDefined();
      expect(err).toMatchObject({ code: 'KEY_LIMIT_REACHED' });
      expect(await keyStatuses(admin, userName)).toEqual({
        [old.accessKeyId]: 'Active',
        [theirs!]: 'Active',
      });
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(credentials);
    } finally {
      await aws.cleanup();
    }
  });

  it('a key this run created whose CreateAccessKey answer was lost is found and deleted', async () => {
    const { admin, userName, old, credentials, aws } = await createUserWithProfile(moto);
    try {
      const real = realRotationSteps(moto);
      let created: string | undefined;
      const err = await rotateAccessKey({
        ...workRotationOptions(moto, aws),
        steps: {
          ...real,
          createAccessKey: async (creds, user) => {
            created = (await real.createAccessKey(creds, user)).accessKeyId;
            throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
          },
        },
      }).catch((e) => e);
      expect(err).toMatchObject({ code: 'ROTATION_ROLLED_BACK', rolledBack: true });
      expect(created).toBeDefined();
      expect(await keyStatuses(admin, userName)).toEqual({ [old.accessKeyId]: 'Active' });
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(credentials);
    } finally {
      await aws.cleanup();
    }
  });

  // Item 4: --rollback died after deleting the new key; --resume then trusted the 'verified' journal, retired the
  // old key and deleted the backup — the profile held a deleted key and the only working secret was gone.
  it('--resume after an interrupted --rollback finishes the rollback instead of retiring the old key', async () => {
    const { admin, userName, old, credentials, aws } = await createUserWithFixtureProfile(moto);
    try {
      const real = realRotationSteps(moto);
      const base = workRotationOptions(moto, aws);
      const first = await stopAtVerified(base, real);
      expect(first).toMatchObject({ code: 'OLD_KEY_NOT_RETIRED' });
      const { journalFile, backupFile } = journalPaths(aws.credentialsFile, 'work');
      const newKeyId = parseJournal(await readFile(journalFile, 'utf8'), journalFile).newAccessKeyId!;
      // --rollback dies right after it deleted the new key (the next file operation fails), whatever its order.
      let newKeyDeleted = false;
      const dying: Partial<RotationSteps> = { ...real };
      dying.deleteAccessKey = async (creds, user, id) => {
        await real.deleteAccessKey(creds, user, id);
        if (id === newKeyId) newKeyDeleted = true;
      };
      for (const name of ['writeFile', 'writeJournal', 'removeFile'] as const) {
        dying[name] = async (path: string, text?: string) => {
          if (newKeyDeleted) throw Object.assign(new Error('killed'), { name: 'Killed' });
          return name === 'removeFile' ? real.removeFile(path) : real[name](path, text!);
        };
      }
      await expect(resumeRotation({ ...base, action: 'rollback', steps: dying })).rejects.toMatchObject({
        code: 'ROLLBACK_FAILED',
      });
      expect(newKeyDeleted).toBe(true);
      // The user retries with --resume.
      const out = await resumeRotation({ ...base, action: 'resume' });
      expect(out.action).toBe('rollback');
      const p = await profileWorks(aws.credentialsFile, 'work', userName);
      expect(p.works, JSON.stringify(p.who)).toBe(true);
      expect(await keyStatuses(admin, userName)).toEqual({ [old.accessKeyId]: 'Active' });
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(credentials);
      expect(await exists(journalFile)).toBe(false);
      expect(await exists(backupFile)).toBe(false);
    } finally {
      await aws.cleanup();
    }
  });

  it('--resume re-verifies the new key before retiring the old one (a journal whose new key is gone)', async () => {
    const { admin, userName, old, credentials, aws } = await createUserWithProfile(moto);
    try {
      const real = realRotationSteps(moto);
      const base = workRotationOptions(moto, aws);
      await stopAtVerified(base, real);
      const { journalFile, backupFile } = journalPaths(aws.credentialsFile, 'work');
      const journal = parseJournal(await readFile(journalFile, 'utf8'), journalFile);
      expect(journal.state).toBe('verified');
      // What an older awskit left after an interrupted rollback: new key deleted, old file back, journal 'verified'.
      await admin.send(
        new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: journal.newAccessKeyId! }),
      );
      await writeFile(aws.credentialsFile, credentials);
      const err = await resumeRotation({ ...base, action: 'resume' }).catch((e) => e);
      expect(err).toMatchObject({ code: 'RESUME_UNSAFE' });
      expect(await keyStatuses(admin, userName)).toEqual({ [old.accessKeyId]: 'Active' });
      expect(await exists(backupFile)).toBe(true);
      expect((await profileWorks(aws.credentialsFile, 'work', userName)).works).toBe(true);
      // --rollback cleans it up.
      await expect(resumeRotation({ ...base, action: 'rollback' })).resolves.toMatchObject({
        action: 'rollback',
      });
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(credentials);
      expect(await exists(journalFile)).toBe(false);
    } finally {
      await aws.cleanup();
    }
  });

  // Item 5: files were decoded with U+FFFD replacement and written back, silently changing bytes.
  it('refuses a credentials file that is not valid UTF-8 and leaves its bytes alone', async () => {
    const admin = await moto.iam();
    const { userName, keys } = await createUserWithKey(admin);
    const bytes = Buffer.concat([
      Buffer.from('# caf'),
      Buffer.from([0xe9]),
      Buffer.from(`\n${workProfileText(keys[0]!)}`),
    ]);
    const aws = await makeAwsDir('');
    await writeFile(aws.credentialsFile, bytes);
    try {
      const err = await rotateAccessKey(workRotationOptions(moto, aws)).catch((e) => e);
      expect(err).toMatchObject({
        code: 'CREDENTIALS_FILE_INVALID',
        message: expect.stringMatching(/UTF-8/),
      });
      expect(err.hint).toMatch(/UTF-8/);
      expect(Buffer.compare(await readFile(aws.credentialsFile), bytes)).toBe(0);
      expect(Object.keys(await keyStatuses(admin, userName))).toEqual([keys[0]!.accessKeyId]);
    } finally {
      await aws.cleanup();
    }
  });

  it('--prune-inactive re-checks the other key right before deleting it (re-activated during the prompt)', async () => {
    const { admin, userName, keys, credentials, aws } = await createUserWithProfile(moto, { keys: 2 });
    const [old, other] = keys as [StaticCredentials, StaticCredentials];
    await deactivateKey(admin, userName, other.accessKeyId);
    try {
      const err = await rotateAccessKey({
        ...workRotationOptions(moto, aws, { pruneInactive: true }),
        confirm: async (plan) => {
          expect(plan.deleteFirstKeyId).toBe(other.accessKeyId);
          await admin.send(
            new UpdateAccessKeyCommand({
              UserName: userName,
              AccessKeyId: other.accessKeyId,
              Status: 'Active',
            }),
          );
          return true;
        },
      }).catch((e) => e);
      expect(err).toMatchObject({ code: 'KEY_LIMIT_REACHED' });
      expect(await keyStatuses(admin, userName)).toEqual({
        [old.accessKeyId]: 'Active',
        [other.accessKeyId]: 'Active',
      });
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(credentials);
    } finally {
      await aws.cleanup();
    }
  });

  it('no secret reaches the logger on the new paths (rollback, resume, refusal)', async () => {
    const { old, aws } = await createUserWithProfile(moto);
    try {
      const logger = recordingLogger();
      const real = realRotationSteps(moto);
      const secrets: string[] = [old.secretAccessKey];
      await rotateAccessKey({
        ...workRotationOptions(moto, aws, { verifyAttempts: 1 }),
        logger,
        steps: {
          ...newKeyNeverVerifies(real, old),
          createAccessKey: async (c, u) => {
            const k = await real.createAccessKey(c, u);
            secrets.push(k.secretAccessKey);
            return k;
          },
        },
      }).catch((e) => e);
      expect(secrets).toHaveLength(2);
      expect(logger.entries.length).toBeGreaterThan(3);
      const all = logger.entries.join('\n');
      for (const s of secrets) expect(all).not.toContain(s);
    } finally {
      await aws.cleanup();
    }
  });
});
