/** Services the edge can route to. */
export type EdgeService = 'kinesis' | 'dynamodb' | 'iam' | 'sts' | 'ecr';

const TARGET_PREFIXES: Record<string, EdgeService> = {
  Kinesis_20131202: 'kinesis',
  DynamoDB_20120810: 'dynamodb',
  DynamoDB_20111205: 'dynamodb',
  AmazonEC2ContainerRegistry_V20150921: 'ecr',
};

const SCOPE_SERVICES: Record<string, EdgeService> = {
  kinesis: 'kinesis',
  dynamodb: 'dynamodb',
  iam: 'iam',
  sts: 'sts',
  ecr: 'ecr',
};

// Query-protocol actions that belong to STS; every other form `Action` goes to IAM.
const STS_ACTIONS = new Set([
  'GetCallerIdentity',
  'AssumeRole',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleWithSAML',
  'GetSessionToken',
  'GetFederationToken',
  'GetAccessKeyInfo',
  'DecodeAuthorizationMessage',
]);

/** The result of routing: a service, or why none was found. */
export type RouteResult =
  | { service: EdgeService; by: 'target' | 'scope' | 'action' }
  | { service?: undefined; reason: string; name?: string };

/** The service named in a SigV4 credential scope (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`). */
export function scopeService(authorizationOrCredential: string | undefined): string | undefined {
  if (!authorizationOrCredential) return undefined;
  const m =
    /Credential=([^,\s]+)/.exec(authorizationOrCredential) ??
    /^([^/\s]+\/\d{8}\/[^/]+\/[^/]+\/aws4_request)$/.exec(authorizationOrCredential);
  const parts = m?.[1]?.split('/');
  return parts && parts.length >= 5 ? parts[parts.length - 2] : undefined;
}

/** The region named in a SigV4 credential scope. */
export function scopeRegion(authorization: string | undefined): string | undefined {
  const m = authorization ? /Credential=([^,\s]+)/.exec(authorization) : null;
  const parts = m?.[1]?.split('/');
  return parts && parts.length >= 5 ? parts[parts.length - 3] : undefined;
}

/** True when routing needs the form body (no target header, no credential scope). */
export function needsBody(headers: Record<string, string | string[] | undefined>, url: string): boolean {
  return routeHeaders(headers, url) === undefined;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function routeHeaders(
  headers: Record<string, string | string[] | undefined>,
  url: string,
): RouteResult | undefined {
  const target = header(headers, 'x-amz-target');
  if (target) {
    const prefix = target.split('.')[0] ?? '';
    const service = TARGET_PREFIXES[prefix];
    return service
      ? { service, by: 'target' }
      : { reason: `unsupported X-Amz-Target "${target}"`, name: prefix };
  }
  let scoped = scopeService(header(headers, 'authorization'));
  if (!scoped) {
    const q = url.includes('?')
      ? new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('X-Amz-Credential')
      : null;
    scoped = scopeService(q ?? undefined);
  }
  if (scoped) {
    const service = SCOPE_SERVICES[scoped];
    return service
      ? { service, by: 'scope' }
      : { reason: `service "${scoped}" is not emulated`, name: scoped };
  }
  return undefined;
}

/**
 * Decides which emulator gets a request: by `X-Amz-Target` (JSON protocols), then the SigV4 credential scope,
 * then the form `Action` of query-protocol services (IAM, STS).
 */
export function routeRequest(
  headers: Record<string, string | string[] | undefined>,
  url: string,
  body?: string,
): RouteResult {
  const byHeaders = routeHeaders(headers, url);
  if (byHeaders) return byHeaders;
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const action = new URLSearchParams(body ?? '').get('Action') ?? new URLSearchParams(query).get('Action');
  if (action) return { service: STS_ACTIONS.has(action) ? 'sts' : 'iam', by: 'action' };
  return { reason: 'no X-Amz-Target header, SigV4 credential scope or Action parameter' };
}

/**
 * The operation a request calls: the part of `X-Amz-Target` after the dot (`Kinesis_20131202.PutRecords` →
 * `PutRecords`), else the query-protocol `Action` of the form body or the query string.
 */
export function requestOperation(
  headers: Record<string, string | string[] | undefined>,
  url: string,
  body?: string,
): string | undefined {
  const target = header(headers, 'x-amz-target');
  if (target) return target.slice(target.indexOf('.') + 1) || undefined;
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  return (
    new URLSearchParams(body ?? '').get('Action') ?? new URLSearchParams(query).get('Action') ?? undefined
  );
}
