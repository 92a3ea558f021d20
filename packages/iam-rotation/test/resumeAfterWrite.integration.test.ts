/**
 * Regression (chaos suite, key-rotation run, seed 4, crash before step 14): a rotation SIGKILLed after it wrote the
 * new key into the credentials file but before it journaled that write (state still `created`, the write's hash
 * journaled) made `--resume` take its own write for someone else's edit ("the file was changed by someone else")
 * and roll the whole rotation back. The journaled hash tells our write apart: --resume now goes on from it.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readProfileKeys } from '../src/credentialsFile.js';
import { journalPaths, parseJournal } from '../src/journal.js';
import { resumeRotation } from '../src/resumeRotation.js';
import { rotateAccessKey } from '../src/rotateAccessKey.js';
import {
  createUserWithProfile,
  exists,
  keyStatuses,
  killableSteps,
  releaseLocksOfKilledRun,
  useEnforcingMoto,
  whoAmI,
  workRotationOptions,
} from './helpers.js';

const moto = useEnforcingMoto();

describe('--resume after a kill between writing the credentials file and journaling it', () => {
  it('finishes the rotation with the new key instead of rolling it back', async () => {
    const s = await createUserWithProfile(moto);
    try {
      const base = workRotationOptions(moto, s.aws);
      const files = journalPaths(s.aws.credentialsFile, 'work');
      let wroteCredentials = false;
      const { steps, killed } = killableSteps(moto, (name, path) => {
        if (name === 'writeFile' && path === s.aws.credentialsFile) wroteCredentials = true;
        // The first journal write after the credentials file was written (the one that records `written`).
        return wroteCredentials && name === 'writeJournal';
      });
      void rotateAccessKey({ ...base, steps });
      await killed;
      await releaseLocksOfKilledRun(s.aws.dir);

      // What the kill left: the file already holds the new key; the journal still says `created`.
      const journal = parseJournal(await readFile(files.journalFile, 'utf8'), files.journalFile);
      expect(journal.state).toBe('created');
      const written = readProfileKeys(await readFile(s.aws.credentialsFile, 'utf8'), 'work')!;
      expect(written.accessKeyId).toBe(journal.newAccessKeyId);

      const out = await resumeRotation({ ...base, action: 'resume' });
      expect(out.action).toBe('resume');
      const now = readProfileKeys(await readFile(s.aws.credentialsFile, 'utf8'), 'work')!;
      expect(now.accessKeyId).toBe(journal.newAccessKeyId);
      expect((await whoAmI(moto, now)).arn).toMatch(new RegExp(`:user/${s.userName}$`));
      expect(await keyStatuses(s.admin, s.userName)).toEqual({
        [s.old.accessKeyId]: 'Inactive',
        [now.accessKeyId]: 'Active',
      });
      expect(await exists(files.journalFile)).toBe(false);
      expect(await exists(files.backupFile)).toBe(false);
    } finally {
      await s.aws.cleanup();
    }
  });
});
