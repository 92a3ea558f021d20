/**
 * Key-rotation chaos: the rotation process is SIGKILLed at every step boundary of a rotation against an
 * enforcing moto (deleted or wrong keys are rejected), then `awskit iam rotate-key --resume` or `--rollback` (the
 * built CLI, chosen by the seed) recovers it. After each crash the profile must hold a key that is Active and
 * verifies with STS as the same user, the old key must still exist unless `--delete-old` was asked for, and no
 * key may be left that neither the profile nor the old key accounts for.
 */
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { journalPaths, readProfileKeys, type StaticCredentials } from '@awskit/iam-rotation';
import { createUserWithKey, startEnforcingMoto } from '@awskit/iam-rotation/testing';
import { CLI_PATH, finished, run, spawnTs } from './proc.js';
import { createRng } from './rng.js';
import type { RotationChildArgs } from './rotationChild.js';

/** Options of {@link runRotationChaos}. */
export interface RotationRunOptions {
  seed: number;
  /** Rotation variants to crash: deactivate the old key, delete it (`--delete-old`), or both. @default ['deactivate'] */
  variants?: ('deactivate' | 'delete')[];
  /** Crash points run at the same time (separate users and files). @default 3 */
  concurrency?: number;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/** One crash point and what recovering from it left. */
export interface RotationCrash {
  variant: 'deactivate' | 'delete';
  /** Steps completed before the kill. */
  boundary: number;
  /** The step that was about to start. */
  killedBefore: string;
  /** The child really died of SIGKILL. */
  killed: boolean;
  /** The profile's key worked right after the crash, before any recovery. */
  workingAfterCrash: boolean;
  action: 'resume' | 'rollback';
  /** The --rollback was refused (the old key was already deleted) and --resume followed, as its hint says. */
  rollbackRefused: boolean;
  /** CLI exit code and its one-line message. */
  exitCode: number | null;
  cliMessage: string;
  /** After recovery: the profile's key is Active and verifies with STS as the user. */
  working: boolean;
  /** After recovery: the key the profile now holds is the old one (rolled back / never rotated) or a new one. */
  profileKey: 'old' | 'new';
  /** Old key status after recovery ('deleted' when it no longer exists). */
  oldKey: 'Active' | 'Inactive' | 'deleted';
  /** Keys that exist but that neither the profile nor the old key account for. */
  orphanKeys: number;
  journalLeft: boolean;
  /** The backup of the credentials file (it holds the old secret) is still there after recovery. */
  backupLeft: boolean;
  /** Broken invariants, as sentences (empty = fine). */
  problems: string[];
}

/** The whole run. */
export interface RotationRunResult {
  seed: number;
  /** Step names of an uninterrupted rotation, per variant. */
  steps: Record<string, string[]>;
  crashes: RotationCrash[];
  kills: number;
  durationMs: number;
  problems: string[];
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** Runs the rotation chaos against a private, credential-enforcing moto. */
export async function runRotationChaos(options: RotationRunOptions): Promise<RotationRunResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed).fork('rotation');
  // An enforcing moto: deleted or wrong keys are rejected, so "works" means STS accepts the key.
  const moto = await startEnforcingMoto();
  const endpoint = moto.endpoint;
  const crashes: RotationCrash[] = [];
  const stepsByVariant: Record<string, string[]> = {};
  const problems: string[] = [];
  let kills = 0;
  let userCounter = 0;
  try {
    const admin = await moto.iam();

    const newUser = async () => {
      const { userName, keys } = await createUserWithKey(admin, {
        name: `chaos-user-${options.seed}-${++userCounter}`,
      });
      const old = keys[0]!;
      const dir = await mkdtemp(join(tmpdir(), 'awskit-chaos-rotation-'));
      const credentialsFile = join(dir, 'credentials');
      const configFile = join(dir, 'config');
      await writeFile(
        credentialsFile,
        `# chaos run ${options.seed}\n[default]\naws_access_key_id = AKIAOTHEROTHEROTHER0\naws_secret_access_key = other\n\n[work]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\nregion = us-east-1\n`,
      );
      await chmod(credentialsFile, 0o600);
      await writeFile(configFile, '');
      return { userName, old, dir, credentialsFile, configFile };
    };
    type User = Awaited<ReturnType<typeof newUser>>;

    const keysOf = async (userName: string) =>
      Object.fromEntries(
        ((await admin.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? []).map(
          (m) => [m.AccessKeyId!, m.Status as 'Active' | 'Inactive'],
        ),
      );
    /** The profile's key pair verifies with STS as `userName` (an enforcing moto rejects deleted or wrong keys). */
    const verifies = async (creds: StaticCredentials, userName: string) => {
      try {
        const sts = await moto.sts(creds);
        const out = await sts.send(new GetCallerIdentityCommand({}));
        return (out.Arn ?? '').endsWith(`:user/${userName}`);
      } catch {
        return false;
      }
    };
    const profileKey = async (u: User) => readProfileKeys(await readFile(u.credentialsFile, 'utf8'), 'work');
    const working = async (u: User) => {
      const key = await profileKey(u);
      if (!key) return false;
      const statuses = await keysOf(u.userName);
      return statuses[key.accessKeyId] === 'Active' && (await verifies(key, u.userName));
    };
    const startChild = (u: User, killAt: number, variant: 'deactivate' | 'delete') => {
      const args: RotationChildArgs = {
        endpoint,
        credentialsFile: u.credentialsFile,
        configFile: u.configFile,
        killAt,
        deleteOld: variant === 'delete',
      };
      return finished(spawnTs('rotationChild.ts', [JSON.stringify(args)]));
    };
    const lastJson = (text: string) => {
      const line = text.trim().split('\n').filter(Boolean).at(-1) ?? '{}';
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { unparsed: line };
      }
    };

    for (const variant of options.variants ?? ['deactivate']) {
      // The step map: an uninterrupted rotation, which must itself leave a working key.
      const base = await newUser();
      const clean = await startChild(base, -1, variant);
      const cleanOut = lastJson(clean.stdout);
      const steps = (cleanOut.calls as string[] | undefined) ?? [];
      stepsByVariant[variant] = steps;
      if (clean.code !== 0 || !cleanOut.done)
        problems.push(`${variant}: the uninterrupted rotation failed: ${clean.stdout} ${clean.stderr}`);
      if (!(await working(base))) problems.push(`${variant}: the uninterrupted rotation left no working key`);
      await rm(base.dir, { recursive: true, force: true });
      log(`rotation ${variant}: ${steps.length} steps: ${steps.join(' → ')}`);

      // Draw every choice first so concurrency cannot change what the seed picks.
      const actions = steps.map(() => (rng.chance(0.5) ? 'resume' : 'rollback') as 'resume' | 'rollback');
      const crashOne = async (boundary: number) => {
        const u = await newUser();
        const crash = await startChild(u, boundary, variant);
        const out = lastJson(crash.stdout);
        const killed = crash.signal === 'SIGKILL';
        if (killed) kills++;
        const workingAfterCrash = await working(u);
        const action = actions[boundary]!;
        const recover = (how: 'resume' | 'rollback') =>
          run(
            process.execPath,
            [
              CLI_PATH,
              'iam',
              'rotate-key',
              '--profile',
              'work',
              '--credentials-file',
              u.credentialsFile,
              '--endpoint-url',
              endpoint,
              '--region',
              'us-east-1',
              `--${how}`,
              '--verify-attempts',
              '3',
              '--verify-delay-ms',
              '10',
            ],
            {
              PATH: process.env.PATH,
              HOME: u.dir,
              AWS_CONFIG_FILE: u.configFile,
              AWS_SHARED_CREDENTIALS_FILE: u.credentialsFile,
            },
          );
        let cli = await recover(action);
        // A rollback past the point of no return (the old key already deleted) is refused, and its hint says to run
        // --resume: the user who follows it is the one this run models, and the state after that is what is judged.
        const refusedRollback =
          action === 'rollback' && cli.code !== 0 && /cannot be undone/.test(cli.stderr);
        if (refusedRollback) cli = await recover('resume');
        // The CLI's own line (error: …), not Node's warnings about its version.
        const cliLines = `${cli.stdout}\n${cli.stderr}`.split('\n').map((l) => l.trim());
        const cliMessage =
          cliLines.find((l) => l.startsWith('error:')) ??
          cliLines.find((l) => l && !/^\(node:\d+\)|^Warning|NodeVersionSupportWarning/.test(l)) ??
          '';
        const statuses = await keysOf(u.userName);
        const key = await profileKey(u);
        const isWorking = await working(u);
        const oldKey = statuses[u.old.accessKeyId] ?? 'deleted';
        const orphanKeys = Object.keys(statuses).filter(
          (id) => id !== u.old.accessKeyId && id !== key?.accessKeyId,
        ).length;
        const { journalFile, backupFile } = journalPaths(u.credentialsFile, 'work');
        const journalLeft = await exists(journalFile);
        const backupLeft = await exists(backupFile);
        const rotated = key !== undefined && key.accessKeyId !== u.old.accessKeyId;
        const p: string[] = [];
        if (!killed)
          p.push(`the child was not killed (exit ${crash.code}, ${crash.signal}): ${crash.stdout}`);
        if (!isWorking) p.push('no working key in the profile after recovery');
        if (oldKey === 'deleted' && !(variant === 'delete' && rotated))
          p.push(
            'the old key was deleted although the profile does not hold a rotated key or deletion was not asked',
          );
        if (orphanKeys > 0)
          p.push(`${orphanKeys} key(s) exist that neither the profile nor the old key account for`);
        // A recovery that says there was nothing to recover is fine only if the state is whole.
        const nothingToDo = /No interrupted rotation/i.test(cli.stdout + cli.stderr);
        if (cli.code !== 0 && !nothingToDo) p.push(`--${action} failed (exit ${cli.code}): ${cliMessage}`);
        if (cli.code === 0 && journalLeft) p.push(`--${action} succeeded but left the journal`);
        if (rotated && variant === 'deactivate' && oldKey !== 'Inactive' && cli.code === 0)
          p.push(`rotation finished but the old key is ${oldKey}`);
        if (!rotated && oldKey !== 'Active') p.push(`the profile holds the old key but it is ${oldKey}`);
        // It holds the old secret key: whatever the crash point, recovery must not leave it behind.
        if (backupLeft) p.push(`--${action} left the backup (it holds the old secret key)`);
        crashes.push({
          variant,
          boundary,
          killedBefore: String(out.killedBefore ?? steps[boundary] ?? '?'),
          killed,
          workingAfterCrash,
          action,
          rollbackRefused: refusedRollback,
          exitCode: cli.code,
          cliMessage,
          working: isWorking,
          profileKey: rotated ? 'new' : 'old',
          oldKey,
          orphanKeys,
          journalLeft,
          backupLeft,
          problems: p,
        });
        for (const x of p)
          problems.push(`${variant} boundary ${boundary} (before ${steps[boundary]}), --${action}: ${x}`);
        log(
          `rotation ${variant} kill before step ${boundary} ${steps[boundary]}: ${killed ? 'SIGKILL' : 'not killed'}; working right after: ${workingAfterCrash}; --${action}${refusedRollback ? ' refused (old key deleted), then --resume' : ''} → exit ${cli.code} ${cliMessage}; profile ${rotated ? 'new' : 'old'} key, old ${oldKey}${backupLeft ? ', backup left' : ''}${p.length ? ` PROBLEMS: ${p.join('; ')}` : ''}`,
        );
        await rm(u.dir, { recursive: true, force: true });
      };
      let nextBoundary = 0;
      const lane = async () => {
        while (nextBoundary < steps.length) await crashOne(nextBoundary++);
      };
      await Promise.all(Array.from({ length: options.concurrency ?? 3 }, lane));
    }
    crashes.sort((a, b) => a.variant.localeCompare(b.variant) || a.boundary - b.boundary);
  } finally {
    await moto.stop();
  }
  return {
    seed: options.seed,
    steps: stepsByVariant,
    crashes,
    kills,
    durationMs: Date.now() - started,
    problems,
  };
}
