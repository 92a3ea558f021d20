import { maskKeyId } from '@awskit/core';
import type { Command } from 'commander';
import { clientOptions, cliLogger, type GlobalFlags, globalFlags, output, UsageError } from '../context';

/** `awskit iam keys --max-age-days N` exits with this code when a key is older than N days (documented). */
export const EXIT_STALE_KEYS = 4;

/** Reads a line from the terminal without echoing it (prompts go to stderr so stdout stays clean). */
async function promptHidden(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const { Writable } = await import('node:stream');
  let muted = false;
  const sink = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: sink, terminal: true });
  try {
    process.stderr.write(question);
    muted = true;
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function promptYesNo(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function positiveInt(name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${name} must be an integer >= ${min} (got "${value}")`);
  return n;
}

/** Client options for IAM/STS without the profile: the rotation signs with the profile's keys itself. */
function endpointOptions(flags: GlobalFlags) {
  const { profile: _profile, ...rest } = clientOptions(flags);
  return rest;
}

const day = (d?: Date) => (d ? d.toISOString().slice(0, 10) : '-');

/** `awskit iam rotate-key | keys | change-password`. */
export function registerIam(program: Command): void {
  const iam = program
    .command('iam')
    .description('IAM user chores: rotate an access key safely, list key ages, change your console password');

  iam
    .command('rotate-key')
    .description(
      'Rotate the access key of a profile: create a new key, write it into the credentials file atomically\n' +
        '(only that profile’s two key lines change), verify it with STS, then deactivate (or delete) the old key.\n' +
        'Any failure before the old key is retired is rolled back.',
    )
    .option('--delete-old', 'delete the old key instead of deactivating it')
    .option(
      '--prune-inactive',
      'if the user already has two keys and the other one is inactive, delete it first',
    )
    .option(
      '--delete-key <accessKeyId>',
      'delete this other key first (even if active); only this exact id is deleted',
    )
    .option('--dry-run', 'print the exact plan and change nothing')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--show-secret', 'print the new secret access key (it is never printed otherwise)')
    .option(
      '--export-csv <file>',
      'also write the new key as a console-format CSV for `aws configure import` (0600)',
    )
    .option(
      '--credentials-file <file>',
      'credentials file (default: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)',
    )
    .option(
      '--leave-same-key-profiles',
      'do not update other profiles of the file that hold the same key (default: update them too)',
    )
    .option('--keep-backup', 'keep the backup of the credentials file after success')
    .option('--resume', 'finish an interrupted rotation of this profile (from its journal)')
    .option('--rollback', 'undo an interrupted rotation of this profile (from its journal)')
    .option(
      '--mfa',
      'sign the IAM calls with an MFA session; prompts for the code (device: the profile’s mfa_serial)',
    )
    .option('--mfa-code <code>', 'the current 6-digit MFA code (implies --mfa)')
    .option('--mfa-serial <arn>', 'MFA device ARN (default: the profile’s mfa_serial; implies --mfa)')
    .option('--verify-attempts <n>', 'STS attempts to verify the new key (IAM propagation)', '10')
    .option('--verify-delay-ms <ms>', 'delay between verification attempts', '3000')
    .addHelpText(
      'after',
      `
Secrets are never printed or logged unless --show-secret. Files written: the credentials file (0600), a backup and a
journal next to it (0600, removed on success), and --export-csv (0600).
Examples:
  $ awskit iam rotate-key --profile work --dry-run
  $ awskit iam rotate-key --profile work
  $ awskit iam rotate-key --profile ci --yes --delete-old --json
  $ awskit iam rotate-key --profile work --prune-inactive
  $ awskit iam rotate-key --profile work --mfa           # policies that require MFA for iam:*AccessKey
  $ awskit iam rotate-key --profile work --resume`,
    )
    .action(
      async (
        opts: {
          deleteOld?: boolean;
          pruneInactive?: boolean;
          deleteKey?: string;
          dryRun?: boolean;
          yes?: boolean;
          showSecret?: boolean;
          exportCsv?: string;
          credentialsFile?: string;
          keepBackup?: boolean;
          leaveSameKeyProfiles?: boolean;
          resume?: boolean;
          rollback?: boolean;
          verifyAttempts: string;
          verifyDelayMs: string;
          mfa?: boolean;
          mfaCode?: string;
          mfaSerial?: string;
        },
        cmd: Command,
      ) => {
        const flags = globalFlags(cmd);
        if (opts.resume && opts.rollback) throw new UsageError('--resume and --rollback cannot be combined');
        if ((opts.resume || opts.rollback) && opts.dryRun)
          throw new UsageError('--dry-run cannot be combined with --resume/--rollback');
        const verifyAttempts = positiveInt('--verify-attempts', opts.verifyAttempts)!;
        const verifyDelayMs = positiveInt('--verify-delay-ms', opts.verifyDelayMs, 0)!;
        const { resumeRotation, rotateAccessKey } = await import('@awskit/iam-rotation');
        const logger = cliLogger(flags);
        const wantsMfa = Boolean(opts.mfa || opts.mfaCode || opts.mfaSerial);
        if (wantsMfa && !opts.mfaCode && !process.stdin.isTTY && !opts.dryRun) {
          throw new UsageError('--mfa needs a terminal to prompt for the code', 'Pass --mfa-code <code>.');
        }
        const mfa = wantsMfa
          ? {
              ...(opts.mfaSerial ? { serialNumber: opts.mfaSerial } : {}),
              tokenCode: opts.mfaCode ?? (() => promptHidden('MFA code: ')),
            }
          : undefined;
        const common = {
          ...(flags.profile ? { profile: flags.profile } : {}),
          ...(mfa ? { mfa } : {}),
          ...(opts.credentialsFile ? { credentialsFile: opts.credentialsFile } : {}),
          clientOptions: endpointOptions(flags),
          verifyAttempts,
          verifyDelayMs,
          logger,
        };
        const secretLine = (secret: string) => (opts.showSecret ? `\n  secret    ${secret}` : '');

        if (opts.resume || opts.rollback) {
          const r = await resumeRotation({ ...common, action: opts.rollback ? 'rollback' : 'resume' });
          if (r.action === 'rollback') {
            output(
              flags,
              `Rolled back the rotation of profile "${r.profile}"${r.deletedKeyId ? ` (deleted new key ${maskKeyId(r.deletedKeyId)})` : ''}; the old key is back in place.`,
              {
                action: 'rollback',
                profile: r.profile,
                deletedKeyId: r.deletedKeyId ? maskKeyId(r.deletedKeyId) : undefined,
              },
            );
            return;
          }
          output(
            flags,
            () =>
              `Finished the rotation of profile "${r.plan.profile}": now using ${maskKeyId(r.newKey!.accessKeyId)}; old key ${maskKeyId(r.plan.oldKey.accessKeyId)} ${r.oldKeyStatus}.${secretLine(r.newKey!.secretAccessKey)}\n${r.nextSteps.map((s) => `- ${s}`).join('\n')}`,
            {
              action: 'resume',
              profile: r.plan.profile,
              newAccessKeyId: maskKeyId(r.newKey!.accessKeyId),
              ...(opts.showSecret ? { newSecretAccessKey: r.newKey!.secretAccessKey } : {}),
              oldAccessKeyId: maskKeyId(r.plan.oldKey.accessKeyId),
              oldKeyStatus: r.oldKeyStatus,
            },
          );
          return;
        }

        const interactive = Boolean(process.stdin.isTTY);
        if (!opts.dryRun && !opts.yes && !interactive) {
          throw new UsageError(
            'Refusing to rotate without confirmation: stdin is not a terminal',
            'Pass --yes to rotate non-interactively, or --dry-run to see the plan.',
          );
        }
        const result = await rotateAccessKey({
          ...common,
          ...(opts.deleteOld ? { deleteOld: true } : {}),
          ...(opts.pruneInactive ? { pruneInactive: true } : {}),
          ...(opts.deleteKey ? { deleteKeyId: opts.deleteKey } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
          ...(opts.exportCsv ? { exportCsvFile: opts.exportCsv } : {}),
          ...(opts.keepBackup ? { keepBackup: true } : {}),
          ...(opts.leaveSameKeyProfiles ? { sameKeyProfiles: 'leave' as const } : {}),
          ...(!opts.dryRun && !opts.yes
            ? {
                confirm: async (plan: { steps: string[]; userArn: string; profile: string }) => {
                  process.stderr.write(
                    `Rotating the key of profile "${plan.profile}" (${plan.userArn}):\n${plan.steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}\n`,
                  );
                  return promptYesNo('Proceed? [y/N] ');
                },
              }
            : {}),
        });
        const p = result.plan;
        const planJson = {
          profile: p.profile,
          credentialsFile: p.credentialsFile,
          user: p.userArn,
          oldAccessKeyId: maskKeyId(p.oldKey.accessKeyId),
          otherAccessKeyId: p.otherKey ? maskKeyId(p.otherKey.accessKeyId) : undefined,
          deleteFirst: p.deleteFirstKeyId ? maskKeyId(p.deleteFirstKeyId) : undefined,
          oldKeyAction: p.oldKeyAction,
          alsoUpdates: p.alsoUpdates,
          leaves: p.leaves,
          changedLines: p.changedLines,
          steps: p.steps,
        };
        if (result.dryRun) {
          output(
            flags,
            () =>
              `Dry run: nothing was changed. Plan for profile "${p.profile}" (${p.userArn}):\n${p.steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}`,
            { dryRun: true, plan: planJson },
          );
          return;
        }
        const k = result.newKey!;
        output(
          flags,
          () =>
            [
              `Rotated profile "${p.profile}" (${p.userArn})${p.alsoUpdates.length ? `, also ${p.alsoUpdates.map((x) => `"${x}"`).join(', ')} (same key)` : ''}`,
              `  new key   ${maskKeyId(k.accessKeyId)} created ${day(k.createDate)}, verified with STS (${result.verifyAttempts} attempt(s))${secretLine(k.secretAccessKey)}`,
              `  old key   ${maskKeyId(p.oldKey.accessKeyId)} created ${day(p.oldKey.createDate)} → ${result.oldKeyStatus}`,
              ...(p.exportCsvFile ? [`  csv       ${p.exportCsvFile}`] : []),
              ...(result.backupFile ? [`  backup    ${result.backupFile}`] : []),
              'Next:',
              ...result.nextSteps.map((s) => `  - ${s}`),
            ].join('\n'),
          {
            dryRun: false,
            plan: planJson,
            newAccessKeyId: maskKeyId(k.accessKeyId),
            ...(opts.showSecret
              ? { newAccessKeyIdFull: k.accessKeyId, newSecretAccessKey: k.secretAccessKey }
              : {}),
            oldKeyStatus: result.oldKeyStatus,
            verifyAttempts: result.verifyAttempts,
            nextSteps: result.nextSteps,
          },
        );
      },
    );

  iam
    .command('keys')
    .description('List your (or a user’s) access keys with status, age and last use')
    .option('--user-name <name>', 'IAM user (default: the caller, from STS)')
    .option(
      '--max-age-days <n>',
      `exit ${EXIT_STALE_KEYS} when any key is older than n days (for cron/CI reminders)`,
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage, ${EXIT_STALE_KEYS} a key is older than --max-age-days (inactive keys count too).
Examples:
  $ awskit iam keys --profile work
  $ awskit iam keys --max-age-days 90 --json || echo "time to rotate"`,
    )
    .action(async (opts: { userName?: string; maxAgeDays?: string }, cmd: Command) => {
      const flags = globalFlags(cmd);
      const maxAge = positiveInt('--max-age-days', opts.maxAgeDays, 0);
      const { keysOlderThan, listAccessKeys, readProfileKeys, resolveProfilePaths } = await import(
        '@awskit/iam-rotation'
      );
      // Which key the profile holds (best effort: SSO/role profiles simply have none).
      const { readFile } = await import('node:fs/promises');
      const paths = resolveProfilePaths(flags.profile ? { profile: flags.profile } : {});
      const profileKeyId = await readFile(paths.credentialsFile, 'utf8')
        .then((text) => readProfileKeys(text, paths.profile)?.accessKeyId)
        .catch(() => undefined);
      const listing = await listAccessKeys({
        clientOptions: { ...clientOptions(flags), logger: cliLogger(flags) },
        ...(opts.userName ? { userName: opts.userName } : {}),
      });
      const stale = maxAge === undefined ? [] : keysOlderThan(listing.keys, maxAge);
      const staleIds = new Set(stale.map((k) => k.accessKeyId));
      output(
        flags,
        () =>
          [
            `Access keys of ${listing.userName}:`,
            ...(listing.keys.length === 0 ? ['  (none)'] : []),
            ...listing.keys.map(
              (k) =>
                `  ${maskKeyId(k.accessKeyId)}  ${k.status.padEnd(8)}  created ${day(k.createDate)} (${k.ageDays ?? '?'} d)  last used ${
                  k.lastUsed?.date
                    ? `${day(k.lastUsed.date)}${k.lastUsed.serviceName ? ` ${k.lastUsed.serviceName}` : ''}`
                    : 'never'
                }${k.accessKeyId === profileKeyId ? `  (profile ${paths.profile})` : ''}${
                  staleIds.has(k.accessKeyId) ? `  OLDER THAN ${maxAge} DAYS` : ''
                }`,
            ),
          ].join('\n'),
        {
          userName: listing.userName,
          maxAgeDays: maxAge,
          keys: listing.keys.map((k) => ({
            accessKeyId: maskKeyId(k.accessKeyId),
            status: k.status,
            createDate: k.createDate?.toISOString(),
            ageDays: k.ageDays,
            lastUsedDate: k.lastUsed?.date?.toISOString(),
            lastUsedService: k.lastUsed?.serviceName,
            lastUsedRegion: k.lastUsed?.region,
            tooOld: staleIds.has(k.accessKeyId),
            inProfile: k.accessKeyId === profileKeyId,
          })),
        },
      );
      if (stale.length > 0) {
        if (!flags.json)
          process.stderr.write(
            `${stale.length} key(s) older than ${maxAge} days: rotate with \`awskit iam rotate-key\`\n`,
          );
        process.exitCode = EXIT_STALE_KEYS;
      }
    });

  iam
    .command('change-password')
    .description(
      'Change your IAM console password (prompted without echo; never taken from the command line)',
    )
    .option('--password-stdin', 'read the current password and the new password from stdin, one per line')
    .addHelpText(
      'after',
      `
The account password policy is read first and every rule the new password breaks is listed.
Examples:
  $ awskit iam change-password --profile work
  $ printf '%s\\n%s\\n' "$OLD" "$NEW" | awskit iam change-password --password-stdin`,
    )
    .action(async (opts: { passwordStdin?: boolean }, cmd: Command) => {
      const flags = globalFlags(cmd);
      let oldPassword: string;
      let newPassword: string;
      if (opts.passwordStdin) {
        const lines = (await readStdin()).split(/\r?\n/);
        oldPassword = lines[0] ?? '';
        newPassword = lines[1] ?? '';
        if (!oldPassword || !newPassword) {
          throw new UsageError('--password-stdin expects two lines: the current password, then the new one');
        }
      } else {
        if (!process.stdin.isTTY) {
          throw new UsageError(
            'Refusing to read passwords: stdin is not a terminal',
            'Use --password-stdin and pipe the current and the new password, one per line.',
          );
        }
        oldPassword = await promptHidden('Current password: ');
        newPassword = await promptHidden('New password: ');
        const again = await promptHidden('New password (again): ');
        if (again !== newPassword) throw new UsageError('The new passwords do not match');
      }
      const { changePassword } = await import('@awskit/iam-rotation');
      const r = await changePassword({ oldPassword, newPassword, clientOptions: clientOptions(flags) });
      output(flags, 'Password changed.', { changed: r.changed });
    });
}
