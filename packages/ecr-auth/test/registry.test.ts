import { describe, expect, it } from 'vitest';
import {
  formatRegistryHost,
  InvalidRegistryError,
  isAwskitErrorLike,
  parseRegistry,
  tryParseRegistry,
} from './helpers';

// The valid and invalid cases of amazon-ecr-credential-helper's TestExtractRegistry (ecr-login/api/client_test.go
// at 2a41520), plus partition/dual-stack expectations this package adds on top.
const VALID: Array<[string, Partial<ReturnType<typeof parseRegistry>>]> = [
  [
    'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/blah/blah',
    {
      service: 'ecr',
      registryId: '123456789012',
      region: 'us-east-1',
      fips: false,
      dualStack: false,
      partition: 'aws',
    },
  ],
  [
    '123456789012.dkr.ecr.us-west-2.amazonaws.com',
    { registryId: '123456789012', region: 'us-west-2', fips: false },
  ],
  [
    '123456789012.dkr-ecr.us-west-2.on.aws',
    { region: 'us-west-2', fips: false, dualStack: true, partition: 'aws' },
  ],
  ['123456789012.dkr-ecr-fips.us-west-2.on.aws', { region: 'us-west-2', fips: true, dualStack: true }],
  [
    '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/foo',
    { registryId: '210987654321', region: 'cn-north-1', partition: 'aws-cn', dualStack: false },
  ],
  [
    '210987654321.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn',
    { region: 'cn-north-1', partition: 'aws-cn', dualStack: true },
  ],
  ['210987654321.dkr.ecr.us-iso-east-1.c2s.ic.gov', { region: 'us-iso-east-1', partition: 'aws-iso' }],
  ['123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov', { region: 'us-isob-east-1', partition: 'aws-iso-b' }],
  [
    '123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk',
    { region: 'eu-isoe-west-1', partition: 'aws-iso-e' },
  ],
  [
    '123456789012.dkr.ecr.us-isof-east-1.csp.hci.ic.gov',
    { region: 'us-isof-east-1', partition: 'aws-iso-f' },
  ],
  [
    '123456789012.dkr-ecr.us-gov-east-1.on.aws',
    { region: 'us-gov-east-1', fips: false, dualStack: true, partition: 'aws-us-gov' },
  ],
  [
    '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
    { region: 'us-gov-west-1', fips: true, partition: 'aws-us-gov' },
  ],
  [
    '123456789012.dkr-ecr-fips.us-gov-east-1.on.aws',
    { region: 'us-gov-east-1', fips: true, dualStack: true },
  ],
  ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', { region: 'eusc-de-east-1', partition: 'aws-eusc' }],
  [
    'https://public.ecr.aws',
    { service: 'ecr-public', host: 'public.ecr.aws', region: 'us-east-1', dualStack: false },
  ],
  [
    'https://ecr-public.aws.com',
    { service: 'ecr-public', host: 'ecr-public.aws.com', region: 'us-east-1', dualStack: true },
  ],
  ['public.ecr.aws', { service: 'ecr-public', host: 'public.ecr.aws' }],
  ['ecr-public.aws.com', { service: 'ecr-public', host: 'ecr-public.aws.com' }],
  ['https://public.ecr.aws/amazonlinux', { service: 'ecr-public', host: 'public.ecr.aws' }],
  ['https://ecr-public.aws.com/amazonlinux', { service: 'ecr-public', host: 'ecr-public.aws.com' }],
  // Go's url.Hostname() drops the port.
  [
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com:443/repo',
    { host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', region: 'eu-west-1' },
  ],
];

// Regression (issue 14 item 12): inputs whose host another URL parser (Docker's, a browser's) may read differently
// from ours. Refused instead of guessed: user info, backslashes, any whitespace (the credential helper trims the
// protocol's trailing newline itself).
const AMBIGUOUS: Array<[string, RegExp]> = [
  ['https://user@123456789012.dkr.ecr.us-east-1.amazonaws.com', /user info/],
  ['user:pass@123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/', /user info/],
  ['https://123456789012.dkr.ecr.us-east-1.amazonaws.com@evil.example.com', /user info/],
  ['https://123456789012.dkr.ecr.us-east-1.amazonaws.com\\@evil.example.com', /backslash/],
  ['123456789012.dkr.ecr.us-east-1.amazonaws.com\\repo', /backslash/],
  ['  123456789012.dkr.ecr.eu-west-1.amazonaws.com\n', /whitespace/],
  ['123456789012.dkr.ecr.eu-west-1.amazonaws.com /repo', /whitespace/],
  ['123456789012.dkr.ecr.eu-west-1\t.amazonaws.com', /whitespace/],
];

const INVALID = [
  // upstream's invalid cases
  '.dkr.ecr.not-real.amazonaws.com',
  'not.ecr.io',
  'https://123456789012.dkr.ecr.us-west-2.amazonaws.com.fake.example.com/image:latest',
  '123456789012.dkr.ecr.us-west-2.amazonaws.com.fake.example.com',
  '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com.fake.example.com',
  '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn.fake.example.com.cn',
  '210987654321.dkr.ecr.cn-north-1.on.aws.com.cn',
  'https://public.ecr.aws.fake.example.com',
  'public.ecr.aws.fake.example.com',
  // consequences of the same regex
  '12345678901.dkr.ecr.us-east-1.amazonaws.com', // 11 digits
  '1234567890123.dkr.ecr.us-east-1.amazonaws.com', // 13 digits
  '123456789012.dkr.ecr.us-east-1.amazonaws.org',
  '123456789012.dkr.ecr..amazonaws.com',
  '123456789012.dkr.ecr.-us-east-1.amazonaws.com', // region must start alphanumeric
  '123456789012.DKR.ECR.us-east-1.amazonaws.com', // case-sensitive like Go's regexp
  '123456789012.dkr.ecr.us-east-1.amazonaws.com.', // trailing dot
  'evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com',
  'evil.com?x=123456789012.dkr.ecr.us-east-1.amazonaws.com',
  'http://123456789012.dkr.ecr.us-east-1.amazonaws.com', // only https:// is stripped, as upstream
  '١٢٣٤٥٦٧٨٩٠١٢.dkr.ecr.us-east-1.amazonaws.com', // non-ASCII digits (RE2 \d is ASCII)
  'docker.io',
  'https://index.docker.io/v1/',
  'ghcr.io',
  '000000000000.dkr.ecr.us-east-1.localhost.localstack.cloud:4566',
  '',
];

function tryCatch(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('parseRegistry', () => {
  it.each(VALID)('accepts %s', (input, expected) => {
    expect(parseRegistry(input)).toMatchObject(expected);
  });

  it.each(INVALID)('rejects %j with INVALID_REGISTRY', (input) => {
    let err: unknown;
    try {
      parseRegistry(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidRegistryError);
    expect(isAwskitErrorLike(err, 'INVALID_REGISTRY')).toBe(true);
    expect((err as InvalidRegistryError).hint).toMatch(/dkr\.ecr/);
    expect(tryParseRegistry(input)).toBeUndefined();
  });

  it.each(AMBIGUOUS)('rejects %j, saying why', (input, reason) => {
    let err: unknown;
    try {
      parseRegistry(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidRegistryError);
    expect((err as Error).message).toMatch(reason);
    expect(tryParseRegistry(input)).toBeUndefined();
  });

  it('never echoes the user info (it may be a password)', () => {
    const err = tryCatch(() =>
      parseRegistry('https://AWS:s3cretPassw0rd@123456789012.dkr.ecr.us-east-1.amazonaws.com'),
    );
    expect(err).toBeInstanceOf(InvalidRegistryError);
    expect(String((err as Error).message)).not.toContain('s3cretPassw0rd');
    expect(String((err as InvalidRegistryError).input)).not.toContain('s3cretPassw0rd');
    expect((err as Error).message).toContain('***@123456789012.dkr.ecr.us-east-1.amazonaws.com');
  });

  it('returns host and serverUrl without path or port', () => {
    const r = parseRegistry('https://123456789012.dkr.ecr.ap-south-1.amazonaws.com:5000/v2/x?y#z');
    expect(r.host).toBe('123456789012.dkr.ecr.ap-south-1.amazonaws.com');
    expect(r.serverUrl).toBe('https://123456789012.dkr.ecr.ap-south-1.amazonaws.com');
  });
});

describe('formatRegistryHost', () => {
  it.each([
    [{ registryId: '123456789012', region: 'us-east-1' }, '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    [
      { registryId: '123456789012', region: 'us-west-2', dualStack: true },
      '123456789012.dkr-ecr.us-west-2.on.aws',
    ],
    [
      { registryId: '123456789012', region: 'us-gov-west-1', fips: true },
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
    ],
    [
      { registryId: '210987654321', region: 'cn-north-1' },
      '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn',
    ],
    [
      { registryId: '210987654321', region: 'cn-north-1', dualStack: true },
      '210987654321.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn',
    ],
    [
      { registryId: '123456789012', region: 'us-iso-east-1' },
      '123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov',
    ],
    [
      { registryId: '123456789012', region: 'us-isob-east-1' },
      '123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov',
    ],
    [
      { registryId: '123456789012', region: 'eusc-de-east-1' },
      '123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu',
    ],
  ])('formats %j as %s, which parses back', (input, host) => {
    expect(formatRegistryHost(input)).toBe(host);
    expect(parseRegistry(host)).toMatchObject({ registryId: input.registryId, region: input.region });
  });

  it('rejects a malformed account id', () => {
    expect(() => formatRegistryHost({ registryId: '12', region: 'us-east-1' })).toThrow(/12-digit/);
  });
});
