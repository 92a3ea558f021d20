import { describe, expect, it } from 'vitest';
import { runRotationChaos } from '../src/chaos/rotationRun.js';

describe('key-rotation chaos: SIGKILL at every step boundary, then --resume or --rollback', () => {
  it('(seed 4) leaves a working key in the profile and no backup after every crash point, and never deletes the old key', async () => {
    const r = await runRotationChaos({ seed: 4 });
    for (const c of r.crashes)
      console.log(
        `#${c.boundary} before ${c.killedBefore}: --${c.action} exit ${c.exitCode}; profile ${c.profileKey} key, working ${c.working}; old ${c.oldKey}${c.backupLeft ? '; backup left' : ''}`,
      );
    const steps = r.steps.deactivate ?? [];
    expect(steps.length).toBeGreaterThan(8);
    expect(r.crashes).toHaveLength(steps.length);
    expect(r.kills).toBe(steps.length);
    expect(r.crashes.map((c) => c.action)).toEqual(expect.arrayContaining(['resume', 'rollback']));
    expect(r.problems).toEqual([]);
    for (const c of r.crashes) {
      const label = `crash before step ${c.boundary} (${c.killedBefore}), --${c.action}`;
      expect(c.working, label).toBe(true);
      expect(c.oldKey, label).not.toBe('deleted');
      expect(c.orphanKeys, label).toBe(0);
      // Regression: a kill before the first journal write or before the last cleanup left the backup (the old
      // secret) on disk for good; the recovery now removes a stale backup.
      expect(c.backupLeft, label).toBe(false);
    }
    // Both outcomes happen: early crashes leave the old key, late ones a finished rotation.
    expect(new Set(r.crashes.map((c) => c.profileKey))).toEqual(new Set(['old', 'new']));
  });
});
