/**
 * Regression (chaos suite, key-rotation run, crash points #4 and #17): a rotation SIGKILLed after it wrote the
 * backup of the credentials file but before its first journal write, or after it removed the journal but before it
 * removed the backup, left the backup (it holds the old secret key) on disk for good: `--resume` said there was
 * nothing to resume and nothing else removed it. The next rotate-key / --resume / --rollback now checks such a
 * backup and removes it when it is stale, or keeps it and says what to do when it may still be needed.
 */

import { readFile } from 'node:fs/promises';
import { UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { readProfileKeys } from '../src/credentialsFile.js';
import { journalPaths } from '../src/journal.js';
import { resumeRotation } from '../src/resumeRotation.js';
import { rotateAccessKey } from '../src/rotateAccessKey.js';
import type { RotateAccessKeyOptions, RotationStepName } from '../src/types.js';
import {
  createUserWithProfile,
  exists,
  fileMode,
  keyStatuses,
  killableSteps,
  recordingLogger,
  releaseLocksOfKilledRun,
  useEnforcingMoto,
  whoAmI,
  workRotationOptions,
} from './helpers.js';

const moto = useEnforcingMoto();

/**
 * A user whose rotation was killed right before the call `killBefore` picks. Returns what is on disk and in AWS
 * after the kill, with the dead run's locks left for takeover.
 */
async function killedRotation(
  killBefore: (name: RotationStepName, path: unknown, files: { backupFile: string }) => boolean,
  extra: RotateAccessKeyOptions = {},
) {
  const s = await createUserWithProfile(moto);
  const base = workRotationOptions(moto, s.aws);
  const files = journalPaths(s.aws.credentialsFile, 'work');
  const { steps, killed } = killableSteps(moto, (name, path) => killBefore(name, path, files));
  // The run never settles: it is "dead" once `killed` resolves.
  void rotateAccessKey({ ...base, ...extra, steps });
  await killed;
  await releaseLocksOfKilledRun(s.aws.dir);
  return { ...s, base, ...files };
}

/** The profile's key in the file and whether STS accepts it as the user. */
async function profileKey(s: Awaited<ReturnType<typeof killedRotation>>) {
  const key = readProfileKeys(await readFile(s.aws.credentialsFile, 'utf8'), 'work')!;
  const who = await whoAmI(moto, key);
  return { key, works: who.arn?.endsWith(`:user/${s.userName}`) === true };
}

const removedLine = (entries: string[]) => entries.filter((e) => /Removed .*awskit-backup\.work/.test(e));

describe('a backup left without a journal by a killed rotation', () => {
  it('killed after the backup, before the first journal write (#4): --resume removes it, in one line', async () => {
    const s = await killedRotation((name) => name === 'writeJournal');
    try {
      expect(await exists(s.backupFile)).toBe(true);
      expect(await exists(s.journalFile)).toBe(false);
      const logger = recordingLogger();
      await expect(resumeRotation({ ...s.base, action: 'resume', logger })).rejects.toMatchObject({
        code: 'NO_ROTATION_IN_PROGRESS',
      });
      expect(await exists(s.backupFile)).toBe(false);
      expect(removedLine(logger.entries)).toHaveLength(1);
      expect(logger.entries.join('\n')).not.toContain(s.old.secretAccessKey);
      // Nothing else changed: the old key is still the profile's, and it works.
      expect(await readFile(s.aws.credentialsFile, 'utf8')).toBe(s.credentials);
      expect(await keyStatuses(s.admin, s.userName)).toEqual({ [s.old.accessKeyId]: 'Active' });
    } finally {
      await s.aws.cleanup();
    }
  });

  it('killed before the backup removal at the very end (#17): the next rotate-key removes it even when it then refuses', async () => {
    const s = await killedRotation((name, path, f) => name === 'removeFile' && path === f.backupFile);
    try {
      expect(await exists(s.backupFile)).toBe(true);
      expect(await exists(s.journalFile)).toBe(false);
      const { key, works } = await profileKey(s);
      expect(works).toBe(true);
      expect(await keyStatuses(s.admin, s.userName)).toEqual({
        [s.old.accessKeyId]: 'Inactive',
        [key.accessKeyId]: 'Active',
      });
      const logger = recordingLogger();
      // The old (inactive) key still counts against the 2-key limit: this run refuses, but cleans up first.
      await expect(rotateAccessKey({ ...s.base, logger })).rejects.toMatchObject({
        code: 'KEY_LIMIT_REACHED',
      });
      expect(await exists(s.backupFile)).toBe(false);
      expect(removedLine(logger.entries)).toHaveLength(1);
      expect(logger.entries.join('\n')).not.toContain(s.old.secretAccessKey);
      expect((await profileKey(s)).works).toBe(true);
    } finally {
      await s.aws.cleanup();
    }
  });

  it('killed before the backup removal after --delete-old: --rollback removes it (the old key no longer exists)', async () => {
    const s = await killedRotation((name, path, f) => name === 'removeFile' && path === f.backupFile, {
      deleteOld: true,
    });
    try {
      expect(await exists(s.backupFile)).toBe(true);
      const logger = recordingLogger();
      await expect(resumeRotation({ ...s.base, action: 'rollback', logger })).rejects.toMatchObject({
        code: 'NO_ROTATION_IN_PROGRESS',
      });
      expect(await exists(s.backupFile)).toBe(false);
      expect(removedLine(logger.entries)).toHaveLength(1);
      expect((await profileKey(s)).works).toBe(true);
    } finally {
      await s.aws.cleanup();
    }
  });

  it('keeps a backup whose key still works and is not the profile’s (maybe the only copy) and says what to do', async () => {
    const s = await killedRotation((name, path, f) => name === 'removeFile' && path === f.backupFile);
    try {
      // Someone re-activated the old key: the backup may now hold the only copy of a working secret.
      await s.admin.send(
        new UpdateAccessKeyCommand({
          UserName: s.userName,
          AccessKeyId: s.old.accessKeyId,
          Status: 'Active',
        }),
      );
      const before = await readFile(s.aws.credentialsFile, 'utf8');
      const statuses = await keyStatuses(s.admin, s.userName);
      for (const run of [
        () => rotateAccessKey({ ...s.base, pruneInactive: true }),
        () => resumeRotation({ ...s.base, action: 'resume' }),
      ]) {
        const err = await run().catch((e) => e);
        expect(err).toMatchObject({ code: 'LEFTOVER_BACKUP' });
        expect(err.message).toContain(s.backupFile);
        expect(err.hint).toMatch(/copy .* back into \[work\].*delete/i);
        expect(`${err.message} ${err.hint}`).not.toContain(s.old.secretAccessKey);
        expect(await exists(s.backupFile)).toBe(true);
        expect(await fileMode(s.backupFile)).toBe(0o600);
        expect(await readFile(s.aws.credentialsFile, 'utf8')).toBe(before);
        expect(await keyStatuses(s.admin, s.userName)).toEqual(statuses);
      }
    } finally {
      await s.aws.cleanup();
    }
  });

  it('a backup kept on purpose (keepBackup) is a separate file that a later --resume leaves alone', async () => {
    const s = await createUserWithProfile(moto);
    try {
      const base = workRotationOptions(moto, s.aws);
      const result = await rotateAccessKey({ ...base, keepBackup: true });
      const { backupFile } = journalPaths(s.aws.credentialsFile, 'work');
      expect(result.backupFile).toBeDefined();
      expect(result.backupFile).not.toBe(backupFile);
      expect(await exists(backupFile)).toBe(false);
      expect(await fileMode(result.backupFile!)).toBe(0o600);
      expect(await readFile(result.backupFile!, 'utf8')).toBe(s.credentials);
      await expect(resumeRotation({ ...base, action: 'resume' })).rejects.toMatchObject({
        code: 'NO_ROTATION_IN_PROGRESS',
      });
      expect(await readFile(result.backupFile!, 'utf8')).toBe(s.credentials);
    } finally {
      await s.aws.cleanup();
    }
  });
});
