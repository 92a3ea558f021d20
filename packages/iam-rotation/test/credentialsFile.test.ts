import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listProfiles,
  parseCredentialsFile,
  profilesWithKey,
  readProfileKeys,
  replaceKeysInProfiles,
  replaceProfileKeys,
} from '../src/credentialsFile.js';

const NEW = {
  accessKeyId: 'AKIANEWNEWNEWNEW1234',
  secretAccessKey: 'new/Secret+Key0123456789abcdefghijklmnop',
};

/** Asserts that `after` equals `before` except for the listed 1-based lines (by line, line endings included). */
function expectOnlyLinesChanged(before: string, after: string, changed: Record<number, string | null>) {
  const split = (t: string) => t.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const b = split(before);
  const expected: string[] = [];
  b.forEach((line, i) => {
    const c = changed[i + 1];
    if (c === undefined) expected.push(line);
    else if (c !== null) expected.push(c);
  });
  expect(after).toBe(expected.join(''));
}

describe('readProfileKeys', () => {
  it('reads the key of the named profile only', () => {
    const text =
      '[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n[work]\naws_access_key_id=AKIAWORK\naws_secret_access_key=s2\n';
    expect(readProfileKeys(text, 'work')).toMatchObject({ accessKeyId: 'AKIAWORK', secretAccessKey: 's2' });
    expect(readProfileKeys(text, 'default')).toMatchObject({
      accessKeyId: 'AKIADEFAULT',
      lines: { accessKeyId: 2, secretAccessKey: 3, sessionToken: [] },
    });
  });

  it('returns undefined for a missing profile', () => {
    expect(
      readProfileKeys('[default]\naws_access_key_id=a\naws_secret_access_key=b\n', 'nope'),
    ).toBeUndefined();
  });

  it('ignores inline comments the way the SDK does', () => {
    const text = '[default]\naws_access_key_id = AKIAX # my laptop\naws_secret_access_key = sec ; old\n';
    expect(readProfileKeys(text, 'default')).toMatchObject({ accessKeyId: 'AKIAX', secretAccessKey: 'sec' });
  });

  it('does not treat [profile x] in the credentials file as profile x (SDK parity)', () => {
    expect(
      readProfileKeys('[profile x]\naws_access_key_id=a\naws_secret_access_key=b\n', 'x'),
    ).toBeUndefined();
  });

  it('ignores keys nested under an indented sub-section', () => {
    const text =
      '[default]\ns3 =\n  aws_access_key_id = nested\naws_access_key_id = AKIAREAL\naws_secret_access_key = s\n';
    expect(readProfileKeys(text, 'default')?.accessKeyId).toBe('AKIAREAL');
  });

  it('refuses a profile that sets the key twice (which one would we edit?)', () => {
    const text = '[default]\naws_access_key_id=a\naws_secret_access_key=b\n[default]\naws_access_key_id=c\n';
    expect(() => readProfileKeys(text, 'default')).toThrow(
      expect.objectContaining({
        code: 'CREDENTIALS_FILE_AMBIGUOUS',
        message: expect.stringContaining('lines 2, 5'),
      }),
    );
  });

  it('explains SSO, role and process profiles instead of rotating them', () => {
    expect(() => readProfileKeys('[sso]\nsso_session = corp\nsso_account_id = 1\n', 'sso')).toThrow(
      expect.objectContaining({ code: 'PROFILE_NOT_STATIC', message: expect.stringContaining('SSO') }),
    );
    expect(() =>
      readProfileKeys('[r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile=default\n', 'r'),
    ).toThrow(
      expect.objectContaining({
        code: 'PROFILE_NOT_STATIC',
        message: expect.stringContaining('assumed role'),
      }),
    );
    expect(() => readProfileKeys('[p]\ncredential_process = /bin/creds\n', 'p')).toThrow(
      expect.objectContaining({
        code: 'PROFILE_NOT_STATIC',
        message: expect.stringContaining('credential_process'),
      }),
    );
    expect(() => readProfileKeys('[half]\naws_access_key_id = AKIA\n', 'half')).toThrow(
      expect.objectContaining({
        code: 'PROFILE_NOT_STATIC',
        message: expect.stringContaining('aws_secret_access_key'),
      }),
    );
  });

  it('reports a session token and its line', () => {
    const text = '[default]\naws_access_key_id=a\naws_secret_access_key=b\naws_session_token=tok\n';
    expect(readProfileKeys(text, 'default')).toMatchObject({
      sessionToken: 'tok',
      lines: { sessionToken: [4] },
    });
  });

  it('lists profiles in file order', () => {
    expect(listProfiles('# c\n[b]\nx=1\n[a]\n[b]\n[profile c]\n')).toEqual(['b', 'a', 'profile.c']);
  });
});

describe('replaceProfileKeys', () => {
  it('changes only the two values and keeps odd spacing', () => {
    const before = '[default]\naws_access_key_id=AKIAOLD\n  aws_secret_access_key   =    oldsecret   \n';
    const { text, replacedLines, removedLines } = replaceProfileKeys(before, 'default', NEW);
    expect(text).toBe(
      `[default]\naws_access_key_id=${NEW.accessKeyId}\n  aws_secret_access_key   =    ${NEW.secretAccessKey}   \n`,
    );
    expect(replacedLines).toEqual([2, 3]);
    expect(removedLines).toEqual([]);
  });

  it('keeps comments (whole-line and inline), blank lines and other settings byte-identical', () => {
    const before = [
      '# Managed by hand. Do not delete.',
      '; another comment style',
      '',
      '[default]',
      '# the laptop key',
      'aws_access_key_id = AKIAOLD   # rotated 2024-01-01',
      'region=eu-west-1',
      'aws_secret_access_key = oldsecret ;trailing',
      '',
      '',
    ].join('\n');
    const { text } = replaceProfileKeys(before, 'default', NEW);
    expectOnlyLinesChanged(before, text, {
      6: `aws_access_key_id = ${NEW.accessKeyId}   # rotated 2024-01-01\n`,
      8: `aws_secret_access_key = ${NEW.secretAccessKey} ;trailing\n`,
    });
  });

  it('keeps CRLF line endings (and mixed endings) exactly', () => {
    const before =
      '[a]\r\naws_access_key_id = A1\r\naws_secret_access_key = S1\r\n[default]\r\naws_access_key_id = AKIAOLD\r\naws_secret_access_key = old\naws_session_token = tok\r\nregion = x\r\n';
    const { text } = replaceProfileKeys(before, 'default', NEW);
    expect(text).toBe(
      `[a]\r\naws_access_key_id = A1\r\naws_secret_access_key = S1\r\n[default]\r\naws_access_key_id = ${NEW.accessKeyId}\r\naws_secret_access_key = ${NEW.secretAccessKey}\nregion = x\r\n`,
    );
  });

  it('edits only the requested profile among several, even when they share the same key', () => {
    const before =
      '[default]\naws_access_key_id = AKIASAME\naws_secret_access_key = same\n\n[ci]\naws_access_key_id = AKIASAME\naws_secret_access_key = same\n\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n';
    const { text } = replaceProfileKeys(before, 'ci', NEW);
    expectOnlyLinesChanged(before, text, {
      6: `aws_access_key_id = ${NEW.accessKeyId}\n`,
      7: `aws_secret_access_key = ${NEW.secretAccessKey}\n`,
    });
    expect(readProfileKeys(text, 'default')?.accessKeyId).toBe('AKIASAME');
  });

  it('keeps a missing trailing newline', () => {
    const before = '[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old';
    expect(replaceProfileKeys(before, 'default', NEW).text).toBe(
      `[default]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}`,
    );
  });

  it('removes a stale session token line (and aws_security_token) from that profile only', () => {
    const before =
      '[default]\naws_access_key_id = AKIAOLD\naws_session_token = tok1\naws_secret_access_key = old\naws_security_token = tok2\n[other]\naws_session_token = keep\n';
    const { text, removedLines } = replaceProfileKeys(before, 'default', NEW);
    expect(text).toBe(
      `[default]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}\n[other]\naws_session_token = keep\n`,
    );
    expect(removedLines).toEqual([3, 5]);
  });

  it('removing a last token line without a final newline keeps "no final newline"', () => {
    const before =
      '[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\naws_session_token = a\r\naws_security_token = b';
    expect(replaceProfileKeys(before, 'default', NEW).text).toBe(
      `[default]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}`,
    );
  });

  it('keeps a UTF-8 BOM and tabs', () => {
    const before = '\uFEFF[default]\n\taws_access_key_id\t=\tAKIAOLD\naws_secret_access_key=old\n';
    expect(replaceProfileKeys(before, 'default', NEW).text).toBe(
      `\uFEFF[default]\n\taws_access_key_id\t=\t${NEW.accessKeyId}\naws_secret_access_key=${NEW.secretAccessKey}\n`,
    );
  });

  it('edits a profile split over two sections without touching the other section', () => {
    const before =
      '[default]\naws_access_key_id = AKIAOLD\n[x]\na=b\n[default]\naws_secret_access_key = old\n';
    expect(replaceProfileKeys(before, 'default', NEW).text).toBe(
      `[default]\naws_access_key_id = ${NEW.accessKeyId}\n[x]\na=b\n[default]\naws_secret_access_key = ${NEW.secretAccessKey}\n`,
    );
  });

  it('refuses a missing profile, a non-static profile and unsafe values', () => {
    const text = '[default]\naws_access_key_id = A\naws_secret_access_key = B\n[r]\nrole_arn=x\n';
    expect(() => replaceProfileKeys(text, 'nope', NEW)).toThrow(
      expect.objectContaining({ code: 'IAM_ROTATION_PROFILE_NOT_FOUND' }),
    );
    expect(() => replaceProfileKeys(text, 'r', NEW)).toThrow(
      expect.objectContaining({ code: 'PROFILE_NOT_STATIC' }),
    );
    expect(() => replaceProfileKeys(text, 'default', { ...NEW, secretAccessKey: 'a #b' })).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY_VALUE' }),
    );
    expect(() => replaceProfileKeys(text, 'default', { ...NEW, accessKeyId: 'A\nB' })).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY_VALUE' }),
    );
  });

  it('refuses when dropping a token line would move the indented lines after it into a sub-section', () => {
    // Found by the fuzz test: the non-indented token line ends the `s3 =` sub-section; without it the indented
    // key line below would be read as s3.aws_access_key_id.
    const before =
      '[default]\ns3 =\n  max_concurrent_requests = 2\naws_session_token = tok\n  aws_access_key_id = AKIAOLD\naws_secret_access_key = old\n';
    expect(readProfileKeys(before, 'default')?.accessKeyId).toBe('AKIAOLD');
    expect(() => replaceProfileKeys(before, 'default', NEW)).toThrow(
      expect.objectContaining({ code: 'CREDENTIALS_FILE_AMBIGUOUS' }),
    );
  });

  it('is idempotent: applying the same keys twice gives the same text', () => {
    const before =
      '[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\naws_session_token = t\n';
    const once = replaceProfileKeys(before, 'default', NEW).text;
    expect(replaceProfileKeys(once, 'default', NEW).text).toBe(once);
  });

  it('rejects a [__proto__] section like the SDK does', () => {
    expect(() => parseCredentialsFile('[__proto__]\na=b\n')).toThrow(
      expect.objectContaining({ code: 'CREDENTIALS_FILE_INVALID' }),
    );
  });
});

describe('several profiles sharing one key', () => {
  const text =
    '[default]\naws_access_key_id = AKIASHARED\naws_secret_access_key = s\naws_session_token = t\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o\n[work]\naws_access_key_id=AKIASHARED\naws_secret_access_key=s\n';
  it('finds the profiles holding a key id', () => {
    expect(profilesWithKey(text, 'AKIASHARED')).toEqual(['default', 'work']);
    expect(profilesWithKey(text, 'AKIANONE')).toEqual([]);
  });
  it('edits them all, reporting line numbers of the original text', () => {
    const edit = replaceKeysInProfiles(text, ['work', 'default'], NEW);
    expect(edit.text).toBe(
      `[default]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o\n[work]\naws_access_key_id=${NEW.accessKeyId}\naws_secret_access_key=${NEW.secretAccessKey}\n`,
    );
    expect(edit.replacedLines).toEqual([2, 3, 9, 10]);
    expect(edit.removedLines).toEqual([4]);
  });
});

describe('parity with the AWS SDK parser (@smithy/shared-ini-file-loader)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'awskit-ini-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fixtures: Record<string, string> = {
    comments:
      '# c\n[default] # trailing\naws_access_key_id = AKIAONE # c\naws_secret_access_key=two;notcomment\n',
    crlf: '[default]\r\naws_access_key_id = AKIAONE\r\naws_secret_access_key = two\r\n',
    subsections:
      '[default]\ns3 =\n  max_concurrent_requests = 2\naws_access_key_id = AKIAONE\naws_secret_access_key = two\n',
    split: '[default]\naws_access_key_id = AKIAONE\n[o]\nx=1\n[default]\naws_secret_access_key = two',
    tabs: '\uFEFF[default]\n\taws_access_key_id\t=\tAKIAONE\n aws_secret_access_key=two\n',
  };

  for (const [name, text] of Object.entries(fixtures)) {
    it(`reads the same key as the SDK and the SDK reads our edit (${name})`, async () => {
      const file = join(dir, `${name}-before`);
      await writeFile(file, text);
      const sdk = await loadSharedConfigFiles({
        filepath: file,
        configFilepath: join(dir, 'none'),
        ignoreCache: true,
      });
      const ours = readProfileKeys(text, 'default');
      expect(ours?.accessKeyId).toBe(sdk.credentialsFile.default?.aws_access_key_id);
      expect(ours?.secretAccessKey).toBe(sdk.credentialsFile.default?.aws_secret_access_key);

      const after = join(dir, `${name}-after`);
      await writeFile(after, replaceProfileKeys(text, 'default', NEW).text);
      const sdkAfter = await loadSharedConfigFiles({
        filepath: after,
        configFilepath: join(dir, 'none'),
        ignoreCache: true,
      });
      expect(sdkAfter.credentialsFile.default).toMatchObject({
        aws_access_key_id: NEW.accessKeyId,
        aws_secret_access_key: NEW.secretAccessKey,
      });
    });
  }
});
