/**
 * Child process of the key-rotation chaos run: rotates the `work` profile's key with the BUILT
 * `@awskit/iam-rotation` and the real AWS and file steps, and SIGKILLs itself when `killAt` steps have completed
 * (at the entry of step number `killAt`, 0-based), so the rotation dies at an exact step boundary with no chance
 * to clean up. `killAt` < 0 runs to the end and prints the step names it went through (the parent's step map).
 *
 * argv[2]: JSON {@link RotationChildArgs}.
 */
import {
  createRotationSteps,
  type RotationStepName,
  type RotationSteps,
  rotateAccessKey,
} from '@awskit/iam-rotation';

export interface RotationChildArgs {
  endpoint: string;
  credentialsFile: string;
  configFile: string;
  killAt: number;
  deleteOld: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as RotationChildArgs;
const real = createRotationSteps({
  clientOptions: { endpoint: args.endpoint, region: 'us-east-1', env: {} },
});
const calls: RotationStepName[] = [];
const steps = {} as Record<string, unknown>;
for (const name of Object.keys(real) as RotationStepName[]) {
  const fn = real[name] as (...a: unknown[]) => Promise<unknown>;
  steps[name] = async (...a: unknown[]) => {
    if (calls.length === args.killAt) {
      // Tell the parent which step boundary this is, then die the hard way (no finally, no cleanup).
      process.stdout.write(`${JSON.stringify({ killedBefore: name, calls })}\n`, () =>
        process.kill(process.pid, 'SIGKILL'),
      );
      await new Promise(() => {});
    }
    calls.push(name);
    return fn(...a);
  };
}

try {
  const result = await rotateAccessKey({
    profile: 'work',
    credentialsFile: args.credentialsFile,
    configFile: args.configFile,
    env: {},
    clientOptions: { endpoint: args.endpoint, region: 'us-east-1' },
    verifyAttempts: 3,
    verifyDelayMs: 10,
    deleteOld: args.deleteOld,
    steps: steps as unknown as RotationSteps,
  });
  process.stdout.write(`${JSON.stringify({ done: true, calls, oldKeyStatus: result.oldKeyStatus })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: String(e), calls })}\n`);
  process.exitCode = 1;
}
