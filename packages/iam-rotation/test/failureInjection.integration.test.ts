import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readProfileKeys } from '../src/credentialsFile.js';
import { journalPaths } from '../src/journal.js';
import { resumeRotation } from '../src/resumeRotation.js';
import { rotateAccessKey } from '../src/rotateAccessKey.js';
import type { RotateAccessKeyOptions, RotationStepName, RotationSteps } from '../src/types.js';
import {
  createUserWithFixtureProfile,
  exists,
  keyStatuses,
  newKeyNeverVerifies,
  realRotationSteps,
  useEnforcingMoto,
  whoAmI,
  workRotationOptions,
} from './helpers.js';

const moto = useEnforcingMoto();

class InjectedFailure extends Error {
  override name = 'InjectedFailure';
}

/**
 * Wraps the real steps; the calls whose 0-based index (counted over all steps) is in `failAt` throw instead of
 * running. Records the names of the calls made.
 */
function injecting(real: RotationSteps, failAt: Set<number>) {
  const calls: RotationStepName[] = [];
  const steps = {} as Record<string, unknown>;
  for (const name of Object.keys(real) as RotationStepName[]) {
    const fn = real[name] as (...a: unknown[]) => Promise<unknown>;
    steps[name] = async (...args: unknown[]) => {
      const index = calls.length;
      calls.push(name);
      if (failAt.has(index)) throw new InjectedFailure(`injected failure at call ${index} (${name})`);
      return fn(...args);
    };
  }
  return { steps: steps as unknown as RotationSteps, calls };
}

async function scenario(failAt: Set<number>, extra: RotateAccessKeyOptions = {}) {
  const { admin, userName, old, credentials: original, aws } = await createUserWithFixtureProfile(moto);
  // One attempt: a verification failure must fail the run here (retries are tested below).
  const base = workRotationOptions(moto, aws, { verifyAttempts: 1, verifyDelayMs: 5 });
  const real = realRotationSteps(moto);
  const inj = injecting(real, failAt);
  const outcome = await rotateAccessKey({ ...base, ...extra, steps: inj.steps }).then(
    (result) => ({ result, error: undefined }),
    (error: Record<string, unknown>) => ({ result: undefined, error }),
  );
  return { admin, userName, old, original, aws, base, outcome, calls: inj.calls };
}

/** The invariant: the profile's key works (enforcement on) and is Active; no key exists that nobody holds. */
async function expectSafe(s: Awaited<ReturnType<typeof scenario>>, label = '', allowOrphan = false) {
  const text = await readFile(s.aws.credentialsFile, 'utf8');
  const fileKey = readProfileKeys(text, 'work')!;
  const who = await whoAmI(moto, fileKey);
  expect(who.arn ?? String(who.error), `profile key must work: ${label}`).toMatch(
    new RegExp(`:user/${s.userName}$`),
  );
  const statuses = await keyStatuses(s.admin, s.userName);
  expect(statuses[fileKey.accessKeyId]).toBe('Active');
  if (!allowOrphan)
    for (const id of Object.keys(statuses))
      expect([s.old.accessKeyId, fileKey.accessKeyId], label).toContain(id);
  return { text, fileKey, statuses };
}

describe('a failure injected at every step leaves a working key and no orphan', () => {
  let sequence: RotationStepName[] = [];

  it('records the step sequence of a clean rotation', async () => {
    const s = await scenario(new Set());
    expect(s.outcome.error).toBeUndefined();
    sequence = s.calls;
    expect(sequence).toEqual(
      expect.arrayContaining([
        'getCallerIdentity',
        'listAccessKeys',
        'createAccessKey',
        'writeFile',
        'writeJournal',
        'updateAccessKey',
      ]),
    );
    await s.aws.cleanup();
  });

  it('single failure at each call: rolled back before verification; afterwards finished or resumable', async () => {
    expect(sequence.length).toBeGreaterThan(8);
    const verifyIndex = sequence.lastIndexOf('getCallerIdentity');
    const outcomes: string[] = [];
    for (let i = 0; i < sequence.length; i++) {
      const s = await scenario(new Set([i]));
      const label = `failure at call ${i} (${sequence[i]})`;
      const { journalFile, backupFile } = journalPaths(s.aws.credentialsFile, 'work');
      try {
        const { text, fileKey, statuses } = await expectSafe(s, label);
        const error = s.outcome.error;
        if (i <= verifyIndex || (error && error.rolledBack === true) || (error && !('rolledBack' in error))) {
          // Before the new key is proven, any failure is rolled back: old key, original bytes, nothing left over.
          expect(error, label).toBeDefined();
          expect(String(error?.message), label).toContain('injected failure');
          if (error && 'rolledBack' in error) expect(error.rolledBack, label).toBe(true);
          expect(text, label).toBe(s.original);
          expect(statuses, label).toEqual({ [s.old.accessKeyId]: 'Active' });
          outcomes.push('rolled-back');
        } else if (error) {
          expect(error, label).toMatchObject({ code: 'OLD_KEY_NOT_RETIRED', rolledBack: false });
          expect(fileKey.accessKeyId, label).not.toBe(s.old.accessKeyId);
          expect(await exists(journalFile), label).toBe(true);
          await resumeRotation({ ...s.base, action: 'resume' });
          expect(await keyStatuses(s.admin, s.userName), label).toEqual({
            [s.old.accessKeyId]: 'Inactive',
            [fileKey.accessKeyId]: 'Active',
          });
          outcomes.push('resumed');
        } else {
          // A failure the rotation tolerates (e.g. cleanup, or the backup read before retiring): it finished.
          expect(statuses, label).toEqual({
            [s.old.accessKeyId]: 'Inactive',
            [fileKey.accessKeyId]: 'Active',
          });
          outcomes.push('finished');
        }
        if (outcomes.at(-1) === 'finished' && (await exists(journalFile))) {
          // Removing the journal itself failed: resuming that journal is harmless and cleans up.
          expect(sequence[i], label).toBe('removeFile');
          await expect(resumeRotation({ ...s.base, action: 'resume' })).resolves.toMatchObject({
            action: 'resume',
          });
        }
        expect(await exists(journalFile), label).toBe(false);
        // The backup may outlive a failed cleanup, but never a rollback.
        if (outcomes.at(-1) !== 'finished') expect(await exists(backupFile), label).toBe(false);
      } finally {
        await s.aws.cleanup();
      }
    }
    expect(outcomes).toContain('resumed');
    expect(outcomes.filter((o) => o === 'rolled-back').length).toBeGreaterThan(verifyIndex);
  });

  it('failure plus a failing rollback: the journal is kept and --rollback restores everything', async () => {
    const createIndex = sequence.indexOf('createAccessKey');
    const verifyIndex = sequence.lastIndexOf('getCallerIdentity');
    // From the call right after CreateAccessKey up to verification: fail it and the rollback's first call.
    for (let i = createIndex + 1; i <= verifyIndex; i++) {
      const s = await scenario(new Set([i, i + 1]));
      const label = `failure at call ${i} (${sequence[i]}) + rollback`;
      try {
        expect(s.outcome.error, label).toMatchObject({ code: 'ROLLBACK_FAILED', rolledBack: false });
        // Until --rollback runs, the new key may still exist (that is what the kept journal is for).
        await expectSafe(s, label, true);
        const out = await resumeRotation({ ...s.base, action: 'rollback' });
        expect(out.action).toBe('rollback');
        const { text, statuses } = await expectSafe(s);
        expect(text, label).toBe(s.original);
        expect(statuses, label).toEqual({ [s.old.accessKeyId]: 'Active' });
        const { journalFile, backupFile } = journalPaths(s.aws.credentialsFile, 'work');
        expect(await exists(journalFile)).toBe(false);
        expect(await exists(backupFile)).toBe(false);
      } finally {
        await s.aws.cleanup();
      }
    }
  });

  it('died before the new key id was journaled: resume finds and deletes the orphan key', async () => {
    const createIndex = sequence.indexOf('createAccessKey');
    // The journal write right after CreateAccessKey fails, and so does the rollback's DeleteAccessKey.
    expect(sequence[createIndex + 1]).toBe('writeJournal');
    const s = await scenario(new Set([createIndex + 1, createIndex + 2]));
    try {
      expect(s.outcome.error).toMatchObject({ code: 'ROLLBACK_FAILED' });
      expect(Object.keys(await keyStatuses(s.admin, s.userName))).toHaveLength(2); // the orphan exists now
      const out = await resumeRotation({ ...s.base, action: 'resume' });
      expect(out.action).toBe('rollback'); // the secret was never saved, so forward is impossible
      const { text, statuses } = await expectSafe(s);
      expect(text).toBe(s.original);
      expect(statuses).toEqual({ [s.old.accessKeyId]: 'Active' });
    } finally {
      await s.aws.cleanup();
    }
  });

  it('a new key that never verifies is rolled back with VERIFY_FAILED', async () => {
    const { admin, userName, old, credentials: original, aws } = await createUserWithFixtureProfile(moto);
    try {
      const real = realRotationSteps(moto);
      let sleeps = 0;
      const err = await rotateAccessKey({
        profile: 'work',
        credentialsFile: aws.credentialsFile,
        configFile: aws.configFile,
        env: {},
        verifyAttempts: 4,
        verifyDelayMs: 1234,
        steps: {
          ...newKeyNeverVerifies(real, old),
          sleep: async (ms) => {
            expect(ms).toBe(1234);
            sleeps++;
          },
        },
      }).catch((e) => e);
      expect(err).toMatchObject({
        code: 'VERIFY_FAILED',
        rolledBack: true,
        message: expect.stringContaining('after 4 attempt'),
      });
      expect(sleeps).toBe(3);
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(original);
      expect(await keyStatuses(admin, userName)).toEqual({ [old.accessKeyId]: 'Active' });
    } finally {
      await aws.cleanup();
    }
  });

  it('--rollback after the old key was already deactivated reactivates it; after it was deleted it refuses', async () => {
    const journalRemoval = sequence.lastIndexOf('removeFile') - 1; // journal first, then backup
    expect(sequence[journalRemoval]).toBe('removeFile');
    const s = await scenario(new Set([journalRemoval]));
    try {
      expect(s.outcome.error).toBeUndefined();
      const out = await resumeRotation({ ...s.base, action: 'rollback' });
      expect(out.action).toBe('rollback');
      const { text, statuses } = await expectSafe(s);
      expect(text).toBe(s.original);
      expect(statuses).toEqual({ [s.old.accessKeyId]: 'Active' });
    } finally {
      await s.aws.cleanup();
    }
    const d = await scenario(new Set([journalRemoval]), { deleteOld: true });
    try {
      expect(d.outcome.error).toBeUndefined();
      const before = await readFile(d.aws.credentialsFile, 'utf8');
      await expect(resumeRotation({ ...d.base, action: 'rollback' })).rejects.toMatchObject({
        code: 'CANNOT_ROLLBACK',
      });
      expect(await readFile(d.aws.credentialsFile, 'utf8')).toBe(before);
      const { fileKey, statuses } = await expectSafe(d);
      expect(statuses).toEqual({ [fileKey.accessKeyId]: 'Active' });
      await expect(resumeRotation({ ...d.base, action: 'resume' })).resolves.toMatchObject({
        oldKeyStatus: 'deleted',
      });
    } finally {
      await d.aws.cleanup();
    }
  });
});
