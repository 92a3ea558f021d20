import { EcrAuthError, EcrAuthErrorCode, InvalidRegistryError } from './errors';
import type { EcrPartition, EcrRegistry } from './types';

/**
 * The private-registry host pattern of amazon-ecr-credential-helper (`ecr-login/api/client.go`, `ecrPattern`,
 * read at 2a41520, 2026-07-21), verbatim: account id, `dkr.ecr` or dual-stack `dkr-ecr`, optional `-fips`, region,
 * and the partition DNS suffixes (aws, China, EU sovereign, dual-stack `on.aws`, ISO partitions). Case-sensitive,
 * anchored, ASCII digits only (Go's RE2 `\d` is ASCII; so is JS `\d` without the `u` flag).
 */
export const ECR_HOST_PATTERN =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

/** ECR Public host names (the second is its dual-stack name). Their API lives in us-east-1 only. */
export const ECR_PUBLIC_HOSTS = ['public.ecr.aws', 'ecr-public.aws.com'] as const;

/** The region ECR Public's GetAuthorizationToken is called in, whatever the caller's region is. */
export const ECR_PUBLIC_REGION = 'us-east-1';

const SUFFIX_PARTITION: Record<string, EcrPartition> = {
  'amazonaws.com': 'aws',
  'on.aws': 'aws',
  'amazonaws.com.cn': 'aws-cn',
  'on.amazonwebservices.com.cn': 'aws-cn',
  'amazonaws.eu': 'aws-eusc',
  'c2s.ic.gov': 'aws-iso',
  'sc2s.sgov.gov': 'aws-iso-b',
  'cloud.adc-e.uk': 'aws-iso-e',
  'csp.hci.ic.gov': 'aws-iso-f',
};

/**
 * Extracts the host name the way the Go helper does: strip one leading `https://`, then read the URL authority
 * (drop port and any path/query). Other schemes are not stripped, so `http://…` is rejected as upstream. Inputs
 * that URL parsers disagree about are refused rather than guessed: user info (`user@host`), backslashes (a WHATWG
 * parser reads `\` as `/`, Go does not) and whitespace anywhere (callers trim protocol newlines themselves).
 */
function hostnameOf(input: string): string {
  if (/\s/.test(input)) throw new InvalidRegistryError(input, 'whitespace is not allowed');
  if (input.includes('\\')) throw new InvalidRegistryError(input, 'backslashes are not allowed');
  let s = input;
  if (s.startsWith('https://')) s = s.slice('https://'.length);
  const end = s.search(/[/?#]/);
  let authority = end === -1 ? s : s.slice(0, end);
  if (authority.includes('@')) {
    // The user info may be a password: never echo it.
    const shown = `${input.startsWith('https://') ? 'https://' : ''}***@${s.slice(authority.lastIndexOf('@') + 1)}`;
    throw new InvalidRegistryError(shown, 'user info (user@host) is not allowed');
  }
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close === -1 ? authority : authority.slice(1, close);
  }
  const colon = authority.lastIndexOf(':');
  if (colon !== -1) {
    if (!/^\d*$/.test(authority.slice(colon + 1))) throw new InvalidRegistryError(input, 'invalid port');
    authority = authority.slice(0, colon);
  }
  return authority;
}

function partitionOf(suffix: string, region: string): EcrPartition {
  const p = SUFFIX_PARTITION[suffix] ?? 'aws';
  return p === 'aws' && region.startsWith('us-gov-') ? 'aws-us-gov' : p;
}

/**
 * Parses a registry host or URL (`123456789012.dkr.ecr.eu-west-1.amazonaws.com`,
 * `https://…/v2/repo`, `public.ecr.aws/alias/img`) into account id, region, FIPS, dual-stack and partition. Accepts
 * exactly the hosts amazon-ecr-credential-helper accepts.
 *
 * @throws InvalidRegistryError (`INVALID_REGISTRY`) for anything else.
 * @example
 * parseRegistry('https://123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/v2/')
 * // { service: 'ecr', registryId: '123456789012', region: 'us-gov-west-1', fips: true, partition: 'aws-us-gov', ... }
 */
export function parseRegistry(hostOrUrl: string): EcrRegistry {
  const host = hostnameOf(hostOrUrl);
  if ((ECR_PUBLIC_HOSTS as readonly string[]).includes(host)) {
    return {
      service: 'ecr-public',
      host,
      serverUrl: `https://${host}`,
      region: ECR_PUBLIC_REGION,
      fips: false,
      dualStack: host === 'ecr-public.aws.com',
      partition: 'aws',
    };
  }
  const m = ECR_HOST_PATTERN.exec(host);
  if (!m) throw new InvalidRegistryError(hostOrUrl);
  const [, registryId, fips, region, suffix] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  return {
    service: 'ecr',
    host,
    serverUrl: `https://${host}`,
    registryId,
    region,
    fips: fips === '-fips',
    dualStack: host.startsWith(`${registryId}.dkr-ecr`) || suffix.startsWith('on.'),
    partition: partitionOf(suffix, region),
  };
}

/** Like {@link parseRegistry} but returns `undefined` instead of throwing. */
export function tryParseRegistry(hostOrUrl: string): EcrRegistry | undefined {
  try {
    return parseRegistry(hostOrUrl);
  } catch {
    return undefined;
  }
}

/** Options for {@link formatRegistryHost}. */
export interface FormatRegistryHostOptions {
  /** 12-digit AWS account id of the registry. */
  registryId: string;
  /** Region of the registry. */
  region: string;
  /** FIPS endpoint (`dkr.ecr-fips`). @default false */
  fips?: boolean;
  /** Dual-stack (IPv6) endpoint (`dkr-ecr.<region>.on.aws`). @default false */
  dualStack?: boolean;
}

function dnsSuffix(region: string, dualStack: boolean): string {
  if (region.startsWith('cn-')) return dualStack ? 'on.amazonwebservices.com.cn' : 'amazonaws.com.cn';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-isof-')) return 'csp.hci.ic.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  if (region.startsWith('eu-isoe-')) return 'cloud.adc-e.uk';
  if (region.startsWith('eusc-')) return 'amazonaws.eu';
  return dualStack ? 'on.aws' : 'amazonaws.com';
}

/**
 * Builds the registry host for an account and region (the inverse of {@link parseRegistry}).
 *
 * @throws EcrAuthError `INVALID_INPUT` when the account id is not 12 digits or the region is malformed.
 * @example
 * formatRegistryHost({ registryId: '123456789012', region: 'cn-north-1' }) // '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn'
 */
export function formatRegistryHost(options: FormatRegistryHostOptions): string {
  const { registryId, region, fips = false, dualStack = false } = options;
  if (!/^\d{12}$/.test(registryId))
    throw new EcrAuthError(
      EcrAuthErrorCode.InvalidInput,
      `Registry id "${registryId}" is not a 12-digit account id`,
      {
        hint: 'Pass the AWS account id that owns the registry, e.g. --registry-id 123456789012.',
      },
    );
  if (!/^[a-zA-Z0-9][a-zA-Z0-9-_]*$/.test(region))
    throw new EcrAuthError(EcrAuthErrorCode.InvalidInput, `Region "${region}" is not a valid region name`, {
      hint: 'Pass a region such as us-east-1.',
    });
  const host = `${registryId}.dkr${dualStack ? '-' : '.'}ecr${fips ? '-fips' : ''}.${region}.${dnsSuffix(region, dualStack)}`;
  return host;
}
