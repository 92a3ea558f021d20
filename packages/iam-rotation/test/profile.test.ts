import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateProfile } from '../src/profile.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'awskit-locate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function files(credentials: string | undefined, config = '') {
  const d = join(dir, String(n++));
  await mkdir(d);
  const credentialsFile = join(d, 'credentials');
  if (credentials !== undefined) await writeFile(credentialsFile, credentials, { mode: 0o600 });
  await writeFile(join(d, 'config'), config);
  return { credentialsFile, configFile: join(d, 'config'), env: {} };
}
const KEY =
  '[work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n';

describe('locateProfile refuses before anything is created', () => {
  it('finds a static key and its mfa_serial and the profiles sharing it', async () => {
    const f = await files(
      `${KEY}[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n`,
      '[profile work]\nmfa_serial = arn:aws:iam::1:mfa/w\n',
    );
    await expect(locateProfile({ ...f, profile: 'work' })).resolves.toMatchObject({
      keys: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
      mfaSerial: 'arn:aws:iam::1:mfa/w',
      sameKeyProfiles: ['default'],
    });
  });

  it('no credentials file', async () => {
    const f = await files(undefined);
    await expect(locateProfile({ ...f, profile: 'work' })).rejects.toMatchObject({
      code: 'CREDENTIALS_FILE_NOT_FOUND',
      hint: expect.stringContaining('AWS_SHARED_CREDENTIALS_FILE'),
    });
  });

  it('temporary (ASIA) credentials', async () => {
    const f = await files(
      '[work]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\naws_session_token = t\n',
    );
    await expect(locateProfile({ ...f, profile: 'work' })).rejects.toMatchObject({
      code: 'TEMPORARY_CREDENTIALS',
    });
  });

  it('a key kept in the config file, an SSO profile only in the config file', async () => {
    const f = await files(
      '',
      '[profile work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n[profile sso]\nsso_session = corp\n',
    );
    await expect(locateProfile({ ...f, profile: 'work' })).rejects.toMatchObject({
      code: 'PROFILE_NOT_STATIC',
      message: expect.stringContaining('config file'),
    });
    await expect(locateProfile({ ...f, profile: 'sso' })).rejects.toMatchObject({
      code: 'PROFILE_NOT_STATIC',
      message: expect.stringContaining('SSO'),
    });
    await expect(locateProfile({ ...f, profile: 'none' })).rejects.toMatchObject({
      code: 'IAM_ROTATION_PROFILE_NOT_FOUND',
    });
  });

  it('unwritable or unreadable: read-only mode, a directory instead of a file', async () => {
    const ro = await files(KEY);
    await chmod(ro.credentialsFile, 0o444);
    await expect(locateProfile({ ...ro, profile: 'work' })).rejects.toMatchObject({
      code: 'CREDENTIALS_FILE_NOT_WRITABLE',
      message: expect.stringContaining('mode 444'),
    });
    const asDir = await files(undefined);
    await mkdir(asDir.credentialsFile);
    await expect(locateProfile({ ...asDir, profile: 'work' })).rejects.toMatchObject({
      code: 'CREDENTIALS_FILE_INVALID',
    });
  });

  it('AWS_PROFILE and AWS_SHARED_CREDENTIALS_FILE are honoured; a symlink resolves to its target', async () => {
    const f = await files(KEY);
    const link = join(dir, `link-${n++}`);
    await symlink(f.credentialsFile, link);
    await expect(
      locateProfile({
        env: { AWS_PROFILE: 'work', AWS_SHARED_CREDENTIALS_FILE: link, AWS_CONFIG_FILE: f.configFile },
      }),
    ).resolves.toMatchObject({ profile: 'work', credentialsFile: link, realFile: f.credentialsFile });
  });
});
