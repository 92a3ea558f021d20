import { describe, expect, it } from 'vitest';
import { explainChangePasswordError } from '../src/changePassword.js';
import { formatAccessKeyCsv } from '../src/csvExport.js';
import { journalPaths, parseJournal, serializeJournal } from '../src/journal.js';
import { keysOlderThan } from '../src/listAccessKeys.js';
import { checkPasswordAgainstPolicy, describePasswordPolicy } from '../src/passwordPolicy.js';
import { resolveProfilePaths } from '../src/profile.js';
import { userNameFromArn } from '../src/rotationShared.js';

const KEY = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

/** A re-implementation of aws-cli v2's CSVCredentialParser rules (awscli/customizations/configure/importer.py). */
function parseLikeAwsCli(csv: string) {
  const lines = csv.split(/\r?\n/).filter((l) => l !== '');
  const headers = lines[0]!.split(',').map((h) =>
    h
      .replace(/^\uFEFF/, '')
      .toLowerCase()
      .trim(),
  );
  const idx = (h: string) => headers.indexOf(h.toLowerCase());
  const [u, a, s] = [idx('User Name'), idx('Access Key ID'), idx('Secret Access key')];
  if (u < 0 || a < 0 || s < 0) throw new Error('header not found');
  return lines.slice(1).map((row) => {
    const cols = row.split(',');
    return { user: cols[u]!.trim(), id: cols[a]!.trim(), secret: cols[s]!.trim() };
  });
}

describe('formatAccessKeyCsv', () => {
  it('writes the console format that aws configure import parses', () => {
    const csv = formatAccessKeyCsv('alice', KEY);
    expect(parseLikeAwsCli(csv)).toEqual([
      { user: 'alice', id: KEY.accessKeyId, secret: KEY.secretAccessKey },
    ]);
  });
  it('refuses names the unquoted CSV cannot carry', () => {
    expect(() => formatAccessKeyCsv('a,b', KEY)).toThrow(
      expect.objectContaining({ code: 'CSV_EXPORT_FAILED' }),
    );
    expect(() => formatAccessKeyCsv('a\nb', KEY)).toThrow(
      expect.objectContaining({ code: 'CSV_EXPORT_FAILED' }),
    );
  });
});

describe('userNameFromArn', () => {
  it('takes the last path segment of a user ARN only', () => {
    expect(userNameFromArn('arn:aws:iam::123456789012:user/alice')).toBe('alice');
    expect(userNameFromArn('arn:aws:iam::123456789012:user/division/team/bob')).toBe('bob');
    expect(userNameFromArn('arn:aws-cn:iam::123456789012:user/c')).toBe('c');
    expect(userNameFromArn('arn:aws:iam::123456789012:root')).toBeUndefined();
    expect(userNameFromArn('arn:aws:sts::123456789012:assumed-role/r/s')).toBeUndefined();
  });
});

describe('journal', () => {
  it('round-trips and rejects foreign JSON', () => {
    const j = {
      version: 1 as const,
      state: 'created' as const,
      profile: 'p',
      credentialsFile: '/x/credentials',
      backupFile: '/x/b',
      startedAt: 'now',
      userName: 'u',
      userArn: 'arn',
      oldAccessKeyId: 'AKIAOLD',
      keyIdsBefore: ['AKIAOLD'],
      oldKeyAction: 'deactivate' as const,
    };
    expect(parseJournal(serializeJournal(j), 'f')).toEqual(j);
    expect(() => parseJournal('{"version":2}', 'f')).toThrow(
      expect.objectContaining({ code: 'NO_ROTATION_IN_PROGRESS' }),
    );
    expect(() => parseJournal('nope', 'f')).toThrow(
      expect.objectContaining({ code: 'NO_ROTATION_IN_PROGRESS' }),
    );
  });
  it('names files per profile, escaping odd characters', () => {
    expect(journalPaths('/h/.aws/credentials', 'my/prof')).toEqual({
      journalFile: '/h/.aws/credentials.awskit-rotate.my%2fprof.json',
      backupFile: '/h/.aws/credentials.awskit-backup.my%2fprof',
    });
  });
});

describe('resolveProfilePaths', () => {
  it('option > environment > default', () => {
    expect(resolveProfilePaths({ env: { HOME: '/h' } })).toEqual({
      profile: 'default',
      credentialsFile: '/h/.aws/credentials',
      configFile: '/h/.aws/config',
    });
    const env = {
      HOME: '/h',
      AWS_PROFILE: 'e',
      AWS_SHARED_CREDENTIALS_FILE: '/e/c',
      AWS_CONFIG_FILE: '/e/f',
    };
    expect(resolveProfilePaths({ env })).toEqual({
      profile: 'e',
      credentialsFile: '/e/c',
      configFile: '/e/f',
    });
    expect(resolveProfilePaths({ env, profile: 'o', credentialsFile: '/o/c' })).toMatchObject({
      profile: 'o',
      credentialsFile: '/o/c',
    });
  });
});

describe('keysOlderThan', () => {
  it('compares exact ages, counts inactive keys too and skips keys without a date', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const daysAgo = (d: number) => new Date(now - d * 86_400_000);
    const keys = [
      { accessKeyId: 'A', status: 'Active' as const, createDate: daysAgo(90.01) },
      { accessKeyId: 'B', status: 'Inactive' as const, createDate: daysAgo(200) },
      { accessKeyId: 'C', status: 'Active' as const, createDate: daysAgo(90) },
      { accessKeyId: 'D', status: 'Active' as const },
    ];
    expect(keysOlderThan(keys, 90, now).map((k) => k.accessKeyId)).toEqual(['A', 'B']);
    expect(keysOlderThan(keys, 0, now).map((k) => k.accessKeyId)).toEqual(['A', 'B', 'C']);
  });
});

describe('password policy', () => {
  const policy = {
    MinimumPasswordLength: 14,
    RequireSymbols: true,
    RequireNumbers: true,
    RequireUppercaseCharacters: true,
    RequireLowercaseCharacters: true,
    PasswordReusePrevention: 3,
  };
  it('lists every broken rule at once', () => {
    expect(checkPasswordAgainstPolicy('short', policy)).toEqual([
      'must be at least 14 characters (has 5)',
      'must contain an uppercase letter (A-Z)',
      'must contain a number (0-9)',
      "must contain a symbol (! @ # $ % ^ & * ( ) _ + - = [ ] { } | ')",
    ]);
    expect(checkPasswordAgainstPolicy('Long-enough-pass1', policy)).toEqual([]);
    expect(checkPasswordAgainstPolicy('anything', {})).toEqual([]);
  });
  it('describes the policy plainly', () => {
    expect(describePasswordPolicy(policy)).toEqual([
      'at least 14 characters',
      'an uppercase letter',
      'a lowercase letter',
      'a number',
      'a symbol',
      'not one of the last 3 passwords',
    ]);
  });
});

describe('explainChangePasswordError', () => {
  const err = (name: string, message = 'm') => Object.assign(new Error(message), { name });
  it.each([
    ['PasswordPolicyViolationException', 'PASSWORD_POLICY_VIOLATION', /password policy/],
    ['NoSuchEntityException', 'PASSWORD_CHANGE_FAILED', /no console password/],
    ['InvalidUserTypeException', 'PASSWORD_CHANGE_FAILED', /Only IAM users/],
    ['EntityTemporarilyUnmodifiableException', 'PASSWORD_CHANGE_FAILED', /changed very recently/],
    ['LimitExceededException', 'PASSWORD_CHANGE_FAILED', /Too many/],
    ['AccessDenied', 'PASSWORD_CHANGE_FAILED', /Password change failed/],
  ])('%s → %s', (name, code, message) => {
    const e = explainChangePasswordError(err(name), { MinimumPasswordLength: 12 });
    expect(e).toMatchObject({ code, message: expect.stringMatching(message) });
  });
  it('puts the policy into the hint of a violation', () => {
    expect(
      explainChangePasswordError(err('PasswordPolicyViolationException'), { MinimumPasswordLength: 12 }),
    ).toMatchObject({
      hint: 'The policy requires at least 12 characters.',
    });
  });
});
