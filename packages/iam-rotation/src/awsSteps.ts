import { readFile, rm } from 'node:fs/promises';
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { type ClientOptions, createClient, isAwskitError, sleep, writeFileAtomic } from '@awskit/core';
import { decodeFileText } from './credentialsFile.js';
import type { AccessKeyInfo, RotationSteps, StaticCredentials } from './types.js';

/**
 * ListAccessKeys (all pages) + GetAccessKeyLastUsed for each key.
 *
 * @param client - an IAM client signed as a principal allowed to list the user's keys
 * @param userName - the IAM user; omit for the caller's own keys
 */
export async function fetchAccessKeys(client: IAMClient, userName?: string): Promise<AccessKeyInfo[]> {
  const keys: AccessKeyInfo[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }));
    for (const k of page.AccessKeyMetadata ?? []) {
      if (!k.AccessKeyId) continue;
      const info: AccessKeyInfo = {
        accessKeyId: k.AccessKeyId,
        status: k.Status === 'Active' ? 'Active' : 'Inactive',
      };
      if (k.CreateDate) info.createDate = k.CreateDate;
      keys.push(info);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  for (const key of keys) {
    const used = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.accessKeyId }));
    const u = used.AccessKeyLastUsed;
    if (u && (u.LastUsedDate || (u.ServiceName && u.ServiceName !== 'N/A'))) {
      key.lastUsed = {};
      if (u.LastUsedDate) key.lastUsed.date = u.LastUsedDate;
      if (u.ServiceName && u.ServiceName !== 'N/A') key.lastUsed.serviceName = u.ServiceName;
      if (u.Region && u.Region !== 'N/A') key.lastUsed.region = u.Region;
    }
  }
  return keys;
}

/** Options for {@link createRotationSteps}. */
export interface CreateRotationStepsOptions {
  /** Endpoint/region/profile settings for the clients; credentials are supplied per call. */
  clientOptions?: Omit<ClientOptions, 'credentials'>;
}

/**
 * Creates an IAM or STS client; with no region configured, uses us-east-1 instead of failing. Internal (not in the
 * public API): shared by the rotation steps and `listAccessKeys`.
 */
export async function createIamOrStsClient<C>(
  Client: new (config: never) => C,
  opts: ClientOptions,
): Promise<C> {
  try {
    return await createClient(Client as never, opts);
  } catch (e) {
    // IAM and STS both answer in us-east-1 when no region is configured (IAM is global, STS has a global endpoint).
    if (isAwskitError(e, 'REGION_MISSING'))
      return createClient(Client as never, { ...opts, region: 'us-east-1' });
    throw e;
  }
}

async function makeClient<C>(
  Client: new (config: never) => C,
  base: Omit<ClientOptions, 'credentials'>,
  creds: StaticCredentials,
): Promise<C> {
  return createIamOrStsClient(Client, { ...base, credentials: { ...creds } });
}

/**
 * The real side effects of a rotation: IAM/STS calls through `@awskit/core` clients (one per key pair) and atomic
 * 0600 file writes. Tests wrap these to inject failures.
 */
export function createRotationSteps(options: CreateRotationStepsOptions = {}): RotationSteps {
  const base = options.clientOptions ?? {};
  const iamClients = new Map<string, Promise<IAMClient>>();
  const stsClients = new Map<string, Promise<STSClient>>();
  const iam = (c: StaticCredentials) => {
    let p = iamClients.get(c.accessKeyId);
    if (!p) {
      p = makeClient(IAMClient, base, c);
      iamClients.set(c.accessKeyId, p);
    }
    return p;
  };
  // Verification wants a fast answer per attempt; the caller retries with its own delay.
  const sts = (c: StaticCredentials) => {
    let p = stsClients.get(c.accessKeyId);
    if (!p) {
      p = makeClient(STSClient, { ...base, maxAttempts: 1 }, c);
      stsClients.set(c.accessKeyId, p);
    }
    return p;
  };
  return {
    async getCallerIdentity(creds) {
      const out = await (await sts(creds)).send(new GetCallerIdentityCommand({}));
      return { arn: out.Arn ?? '', account: out.Account ?? '', userId: out.UserId ?? '' };
    },
    async listAccessKeys(creds, userName) {
      return fetchAccessKeys(await iam(creds), userName);
    },
    async createAccessKey(creds, userName) {
      const out = await (await iam(creds)).send(new CreateAccessKeyCommand({ UserName: userName }));
      const k = out.AccessKey;
      if (!k?.AccessKeyId || !k.SecretAccessKey) throw new Error('CreateAccessKey returned no key');
      return {
        accessKeyId: k.AccessKeyId,
        secretAccessKey: k.SecretAccessKey,
        ...(k.CreateDate ? { createDate: k.CreateDate } : {}),
      };
    },
    async updateAccessKey(creds, userName, accessKeyId, status) {
      await (await iam(creds)).send(
        new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }),
      );
    },
    async deleteAccessKey(creds, userName, accessKeyId) {
      await (await iam(creds)).send(
        new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }),
      );
    },
    async getSessionToken(creds, serialNumber, tokenCode, durationSeconds) {
      const out = await (await sts(creds)).send(
        new GetSessionTokenCommand({
          SerialNumber: serialNumber,
          TokenCode: tokenCode,
          DurationSeconds: durationSeconds,
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('GetSessionToken returned no credentials');
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      };
    },
    readFile: async (path) => decodeFileText(await readFile(path), path),
    writeFile: (path, text) => writeFileAtomic(path, text, { mode: 0o600 }),
    writeJournal: (path, text) => writeFileAtomic(path, text, { mode: 0o600 }),
    removeFile: (path) => rm(path, { force: true }),
    sleep: (ms) => sleep(ms),
  };
}
