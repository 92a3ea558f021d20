import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreErrorCode,
  DEFAULT_LOCAL_ENDPOINT,
  EndpointSource,
  isAwskitError,
  isLocalEndpoint,
  type ResolvedEndpoint,
  resolveEndpoint,
  resolveServiceConfig,
  type ServiceId,
} from '../src/index';
import { makeHome, removeTempDirs } from './helpers';

const CONFIG = `[default]
region = eu-west-1
endpoint_url = http://default-profile.example:1111

[profile withservices]
region = ap-northeast-2
services = dev-endpoints
endpoint_url = http://profile-endpoint.example:2222

[profile plain]
endpoint_url = https://plain.example.com

[profile onlyservices]
services = dev-endpoints

[profile broken]
endpoint_url = not a url

[profile typo]
services = dev-endpoitns

[profile ignoring]
endpoint_url = http://ignored-profile.example:6666
ignore_configured_endpoint_urls = true

[services dev-endpoints]
kinesis =
  endpoint_url = http://services-kinesis.example:3333
dynamodb =
  endpoint_url = http://services-dynamodb.example:4444
ecr_public =
  endpoint_url = http://services-ecr-public.example:5555
`;

let home: string; // with the config file above
let bare: string; // no ~/.aws at all

beforeAll(async () => {
  home = await makeHome({ config: CONFIG });
  bare = await makeHome();
});
afterAll(removeTempDirs);

interface Row {
  name: string;
  service?: ServiceId;
  /** Which HOME to use. @default 'bare' */
  home?: 'bare' | 'config';
  env?: Record<string, string>;
  opts?: { endpoint?: string; profile?: string; local?: boolean };
  expected: Partial<ResolvedEndpoint> & { url: string | undefined; source: EndpointSource };
}

/** Every source set at once (the first rows take one away at a time). */
const EVERYTHING = {
  AWS_ENDPOINT_URL_KINESIS: 'http://service-env.example:9001',
  AWS_ENDPOINT_URL: 'http://global-env.example:9002',
  AWS_PROFILE: 'withservices',
  AWSKIT_LOCAL: '1',
  LOCALSTACK_HOST: 'localstack-host.example',
};

const rows: Row[] = [
  {
    name: 'the endpoint option beats every other source',
    home: 'config',
    env: EVERYTHING,
    opts: { endpoint: 'https://option.example.com/' },
    expected: {
      url: 'https://option.example.com',
      source: EndpointSource.Option,
      reason: 'endpoint option',
      local: false,
    },
  },
  {
    name: 'AWS_ENDPOINT_URL_<SERVICE> beats AWS_ENDPOINT_URL, the profile and the local stack',
    home: 'config',
    env: EVERYTHING,
    expected: {
      url: 'http://service-env.example:9001',
      source: EndpointSource.ServiceEnv,
      reason: 'AWS_ENDPOINT_URL_KINESIS',
      local: true, // plain HTTP counts as local
    },
  },
  {
    name: 'AWS_ENDPOINT_URL beats the profile and the local stack',
    home: 'config',
    env: { ...EVERYTHING, AWS_ENDPOINT_URL_KINESIS: '' },
    expected: {
      url: 'http://global-env.example:9002',
      source: EndpointSource.GlobalEnv,
      reason: 'AWS_ENDPOINT_URL',
    },
  },
  {
    name: "another service's AWS_ENDPOINT_URL_<SERVICE> does not apply",
    home: 'config',
    env: {
      ...EVERYTHING,
      AWS_ENDPOINT_URL_KINESIS: '',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://dynamo.example:1',
    },
    expected: { url: 'http://global-env.example:9002', source: EndpointSource.GlobalEnv },
  },
  {
    name: "the profile's services section beats the profile's endpoint_url and the local stack",
    home: 'config',
    env: { AWS_PROFILE: 'withservices', AWSKIT_LOCAL: '1', LOCALSTACK_HOST: 'localstack-host.example' },
    expected: {
      url: 'http://services-kinesis.example:3333',
      source: EndpointSource.ProfileServices,
      reason: '[services dev-endpoints] kinesis.endpoint_url (profile withservices)',
    },
  },
  {
    name: 'the services section is read per service (dynamodb)',
    service: 'dynamodb',
    home: 'config',
    env: { AWS_PROFILE: 'withservices' },
    expected: {
      url: 'http://services-dynamodb.example:4444',
      source: EndpointSource.ProfileServices,
      reason: '[services dev-endpoints] dynamodb.endpoint_url (profile withservices)',
    },
  },
  {
    name: 'the services section uses ecr_public for ECR Public',
    service: 'ecrpublic',
    home: 'config',
    env: { AWS_PROFILE: 'withservices' },
    expected: { url: 'http://services-ecr-public.example:5555', source: EndpointSource.ProfileServices },
  },
  {
    name: "a service missing from the services section falls back to the profile's endpoint_url",
    service: 'sts',
    home: 'config',
    env: { AWS_PROFILE: 'withservices', AWSKIT_LOCAL: '1' },
    expected: {
      url: 'http://profile-endpoint.example:2222',
      source: EndpointSource.ProfileEndpoint,
      reason: 'endpoint_url of profile withservices',
    },
  },
  {
    name: 'a service missing from the services section with no profile endpoint_url falls to the local stack',
    service: 'iam',
    home: 'config',
    env: { AWS_PROFILE: 'onlyservices', AWSKIT_LOCAL: '1' },
    expected: { url: DEFAULT_LOCAL_ENDPOINT, source: EndpointSource.Local, reason: 'AWSKIT_LOCAL=1' },
  },
  {
    name: "the default profile's endpoint_url beats the local stack",
    home: 'config',
    env: { AWSKIT_LOCAL: '1' },
    expected: {
      url: 'http://default-profile.example:1111',
      source: EndpointSource.ProfileEndpoint,
      reason: 'endpoint_url of profile default',
    },
  },
  {
    name: 'the profile option beats AWS_PROFILE',
    home: 'config',
    env: { AWS_PROFILE: 'withservices' },
    opts: { profile: 'plain' },
    expected: {
      url: 'https://plain.example.com',
      source: EndpointSource.ProfileEndpoint,
      reason: 'endpoint_url of profile plain',
      local: false,
    },
  },
  {
    name: 'AWSKIT_LOCAL=1 with nothing configured gives the default local endpoint',
    env: { AWSKIT_LOCAL: '1' },
    expected: {
      url: 'http://127.0.0.1:4566',
      source: EndpointSource.Local,
      reason: 'AWSKIT_LOCAL=1',
      local: true,
    },
  },
  {
    name: 'AWSKIT_LOCAL=true is accepted too',
    env: { AWSKIT_LOCAL: 'true' },
    expected: { url: 'http://127.0.0.1:4566', source: EndpointSource.Local },
  },
  {
    name: 'AWSKIT_LOCAL=0 is off',
    env: { AWSKIT_LOCAL: '0' },
    expected: { url: undefined, source: EndpointSource.Aws },
  },
  {
    name: 'AWSKIT_LOCAL_ENDPOINT moves the local endpoint when AWSKIT_LOCAL=1',
    env: { AWSKIT_LOCAL: '1', AWSKIT_LOCAL_ENDPOINT: 'http://127.0.0.1:14566' },
    expected: {
      url: 'http://127.0.0.1:14566',
      source: EndpointSource.Local,
      reason: 'AWSKIT_LOCAL_ENDPOINT',
    },
  },
  {
    name: 'AWSKIT_LOCAL_ENDPOINT alone does not switch to the local stack',
    env: { AWSKIT_LOCAL_ENDPOINT: 'http://127.0.0.1:14566' },
    expected: { url: undefined, source: EndpointSource.Aws },
  },
  {
    name: 'LOCALSTACK_HOST without a port gets :4566',
    env: { LOCALSTACK_HOST: 'localstack' },
    expected: {
      url: 'http://localstack:4566',
      source: EndpointSource.Local,
      reason: 'LOCALSTACK_HOST',
      local: true,
    },
  },
  {
    name: 'LOCALSTACK_HOST with a port keeps it',
    env: { LOCALSTACK_HOST: 'localhost.localstack.cloud:4577' },
    expected: { url: 'http://localhost.localstack.cloud:4577', source: EndpointSource.Local },
  },
  {
    name: 'LOCALSTACK_ENDPOINT beats LOCALSTACK_HOST and loses its trailing slash',
    env: { LOCALSTACK_ENDPOINT: 'http://ls.example:4566/', LOCALSTACK_HOST: 'other' },
    expected: { url: 'http://ls.example:4566', source: EndpointSource.Local, reason: 'LOCALSTACK_ENDPOINT' },
  },
  {
    name: 'LOCALSTACK_HOST beats the AWSKIT_LOCAL default port',
    env: { AWSKIT_LOCAL: '1', LOCALSTACK_HOST: 'localstack' },
    expected: { url: 'http://localstack:4566', source: EndpointSource.Local, reason: 'LOCALSTACK_HOST' },
  },
  {
    name: 'local: true with nothing configured gives the default local endpoint',
    opts: { local: true },
    expected: {
      url: 'http://127.0.0.1:4566',
      source: EndpointSource.Local,
      reason: 'local option',
      local: true,
    },
  },
  {
    name: 'local: true uses AWSKIT_LOCAL_ENDPOINT',
    opts: { local: true },
    env: { AWSKIT_LOCAL_ENDPOINT: 'http://127.0.0.1:14566' },
    expected: { url: 'http://127.0.0.1:14566', source: EndpointSource.Local },
  },
  {
    // `local` is an explicit option, and options beat the environment (CONVENTIONS: option > env > file).
    name: 'local: true (an option) beats endpoint env variables and the profile',
    home: 'config',
    env: { AWS_ENDPOINT_URL: 'https://global-env.example.com', AWS_PROFILE: 'withservices' },
    opts: { local: true },
    expected: { url: 'http://127.0.0.1:4566', source: EndpointSource.Local },
  },
  {
    name: 'the endpoint option beats local: true',
    opts: { local: true, endpoint: 'http://127.0.0.1:5000' },
    expected: { url: 'http://127.0.0.1:5000', source: EndpointSource.Option, local: true },
  },
  {
    name: 'nothing configured means the AWS endpoint of the region',
    env: { AWS_REGION: 'us-west-2' },
    expected: {
      url: undefined,
      source: EndpointSource.Aws,
      local: false,
      reason: 'no override: the SDK picks the AWS endpoint for the region',
    },
  },
  {
    name: 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS skips env and profile endpoints (to the local stack)',
    home: 'config',
    env: { ...EVERYTHING, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
    expected: { url: 'http://localstack-host.example:4566', source: EndpointSource.Local },
  },
  {
    name: 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS skips env and profile endpoints (to AWS)',
    home: 'config',
    env: {
      AWS_ENDPOINT_URL: 'http://global-env.example:9002',
      AWS_PROFILE: 'withservices',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: '1',
    },
    expected: { url: undefined, source: EndpointSource.Aws },
  },
  {
    name: "the profile's ignore_configured_endpoint_urls skips env and profile endpoints",
    home: 'config',
    env: { AWS_PROFILE: 'ignoring', AWS_ENDPOINT_URL: 'http://global-env.example:9002' },
    expected: { url: undefined, source: EndpointSource.Aws },
  },
  {
    name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false overrides the profile's ignore_configured_endpoint_urls",
    home: 'config',
    env: { AWS_PROFILE: 'ignoring', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' },
    expected: { url: 'http://ignored-profile.example:6666', source: EndpointSource.ProfileEndpoint },
  },
  {
    name: 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS keeps the endpoint option',
    env: { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
    opts: { endpoint: 'http://127.0.0.1:5000' },
    expected: { url: 'http://127.0.0.1:5000', source: EndpointSource.Option },
  },
  {
    name: 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false changes nothing',
    env: { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false', AWS_ENDPOINT_URL: 'http://global-env.example:9002' },
    expected: { url: 'http://global-env.example:9002', source: EndpointSource.GlobalEnv },
  },
  {
    name: 'ECR Public reads AWS_ENDPOINT_URL_ECR_PUBLIC',
    service: 'ecrpublic',
    env: {
      AWS_ENDPOINT_URL_ECR_PUBLIC: 'http://ecr-public.example:1',
      AWS_ENDPOINT_URL_ECR: 'http://ecr.example:1',
    },
    expected: {
      url: 'http://ecr-public.example:1',
      source: EndpointSource.ServiceEnv,
      reason: 'AWS_ENDPOINT_URL_ECR_PUBLIC',
    },
  },
  {
    name: 'ECR reads AWS_ENDPOINT_URL_ECR, not the ECR Public one',
    service: 'ecr',
    env: {
      AWS_ENDPOINT_URL_ECR_PUBLIC: 'http://ecr-public.example:1',
      AWS_ENDPOINT_URL_ECR: 'http://ecr.example:1',
    },
    expected: {
      url: 'http://ecr.example:1',
      source: EndpointSource.ServiceEnv,
      reason: 'AWS_ENDPOINT_URL_ECR',
    },
  },
  {
    name: 'DynamoDB reads AWS_ENDPOINT_URL_DYNAMODB',
    service: 'dynamodb',
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:8000',
      AWS_ENDPOINT_URL_KINESIS: 'http://localhost:4567',
    },
    expected: {
      url: 'http://localhost:8000',
      source: EndpointSource.ServiceEnv,
      reason: 'AWS_ENDPOINT_URL_DYNAMODB',
    },
  },
  {
    name: 'IAM reads AWS_ENDPOINT_URL_IAM',
    service: 'iam',
    env: { AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:5001' },
    expected: {
      url: 'http://127.0.0.1:5001',
      source: EndpointSource.ServiceEnv,
      reason: 'AWS_ENDPOINT_URL_IAM',
    },
  },
  {
    name: 'STS reads AWS_ENDPOINT_URL_STS',
    service: 'sts',
    env: { AWS_ENDPOINT_URL_STS: 'https://sts.eu-west-1.amazonaws.com' },
    expected: { url: 'https://sts.eu-west-1.amazonaws.com', source: EndpointSource.ServiceEnv, local: false },
  },
];

describe('resolveEndpoint precedence', () => {
  it.each(rows)(
    '$name',
    async ({ service = 'kinesis', home: which = 'bare', env = {}, opts = {}, expected }) => {
      const HOME = which === 'config' ? home : bare;
      const got = await resolveEndpoint(service, { ...opts, env: { HOME, ...env } });
      const { url, ...rest } = expected;
      expect(got.url).toBe(url);
      expect(got).toMatchObject(rest);
    },
  );

  it('reads the files named by AWS_CONFIG_FILE instead of ~/.aws/config', async () => {
    const got = await resolveEndpoint('kinesis', {
      env: { HOME: bare, AWS_CONFIG_FILE: `${home}/.aws/config`, AWS_PROFILE: 'plain' },
    });
    expect(got).toMatchObject({ url: 'https://plain.example.com', source: EndpointSource.ProfileEndpoint });
  });

  it('sees edits to the config file between calls (no cache)', async () => {
    const h = await makeHome({ config: '[default]\nendpoint_url = http://first.example:1\n' });
    expect((await resolveEndpoint('kinesis', { env: { HOME: h } })).url).toBe('http://first.example:1');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${h}/.aws/config`, '[default]\nendpoint_url = http://second.example:2\n');
    expect((await resolveEndpoint('kinesis', { env: { HOME: h } })).url).toBe('http://second.example:2');
  });

  it('resolveServiceConfig reports the same endpoint and the profile used', async () => {
    const cfg = await resolveServiceConfig('kinesis', { env: { HOME: home, AWS_PROFILE: 'withservices' } });
    expect(cfg.service).toBe('kinesis');
    expect(cfg.profile).toBe('withservices');
    expect(cfg.endpoint).toMatchObject({
      url: 'http://services-kinesis.example:3333',
      source: EndpointSource.ProfileServices,
    });
    expect(cfg.region).toEqual({ value: 'ap-northeast-2', source: 'profile' });
  });
});

describe('resolveEndpoint rejects invalid URLs with INVALID_ENDPOINT', () => {
  const cases: Array<[string, { endpoint?: string; profile?: string }, Record<string, string>, string]> = [
    ['the endpoint option', { endpoint: 'not a url' }, {}, 'endpoint option'],
    ['a non-HTTP scheme', { endpoint: 'ftp://127.0.0.1:21' }, {}, 'endpoint option'],
    [
      'AWS_ENDPOINT_URL_KINESIS',
      {},
      { AWS_ENDPOINT_URL_KINESIS: 'localhost:4566' },
      'AWS_ENDPOINT_URL_KINESIS',
    ],
    ['AWS_ENDPOINT_URL', {}, { AWS_ENDPOINT_URL: '://nope' }, 'AWS_ENDPOINT_URL'],
    ['LOCALSTACK_ENDPOINT', {}, { LOCALSTACK_ENDPOINT: 'localstack' }, 'LOCALSTACK_ENDPOINT'],
    [
      'AWSKIT_LOCAL_ENDPOINT',
      {},
      { AWSKIT_LOCAL: '1', AWSKIT_LOCAL_ENDPOINT: 'nope' },
      'AWSKIT_LOCAL_ENDPOINT',
    ],
    ['a profile endpoint_url', { profile: 'broken' }, {}, 'endpoint_url of profile broken'],
  ];
  it.each(cases)('from %s', async (_name, opts, env, source) => {
    const HOME = opts.profile ? home : bare;
    const err = await resolveEndpoint('kinesis', { ...opts, env: { HOME, ...env } }).catch((e) => e);
    expect(isAwskitError(err, CoreErrorCode.InvalidEndpoint)).toBe(true);
    expect(err.message).toContain(`(from ${source})`);
    expect(err.hint).toMatch(/http:\/\/127\.0\.0\.1:4566/);
  });

  it('a profile naming a services section that does not exist gives INVALID_CONFIG (as the SDK does)', async () => {
    const err = await resolveEndpoint('kinesis', { profile: 'typo', env: { HOME: home } }).catch((e) => e);
    expect(isAwskitError(err, CoreErrorCode.InvalidConfig)).toBe(true);
    expect(err.message).toContain('"dev-endpoitns"');
    expect(err.hint).toContain('[services dev-endpoitns]');
  });

  it('through resolveServiceConfig too', async () => {
    await expect(
      resolveServiceConfig('kinesis', { env: { HOME: bare, AWS_ENDPOINT_URL: 'nope' } }),
    ).rejects.toMatchObject({ code: CoreErrorCode.InvalidEndpoint });
  });
});

describe('isLocalEndpoint', () => {
  it.each([
    ['http://127.0.0.1:4566', true],
    ['http://localhost:4566', true],
    ['https://localhost:4566', true],
    ['https://127.0.0.2', true],
    ['https://[::1]:4566', true],
    ['https://localhost.localstack.cloud:4566', true],
    ['https://s3.localhost.localstack.cloud', true],
    ['https://dev.localhost', true],
    ['http://kinesis.us-east-1.amazonaws.com', true], // plain HTTP is never real AWS
    ['https://kinesis.us-east-1.amazonaws.com', false],
    ['https://vpce-123.kinesis.us-east-1.vpce.amazonaws.com', false],
    ['not a url', false],
    [undefined, false],
  ])('%s → %s', (url, local) => {
    expect(isLocalEndpoint(url)).toBe(local);
  });
});
