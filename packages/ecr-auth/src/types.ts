/** AWS partitions an ECR registry host can belong to. */
export type EcrPartition =
  | 'aws'
  | 'aws-cn'
  | 'aws-us-gov'
  | 'aws-eusc'
  | 'aws-iso'
  | 'aws-iso-b'
  | 'aws-iso-e'
  | 'aws-iso-f';

/** Which token API serves a registry: private ECR or ECR Public. */
export type EcrService = 'ecr' | 'ecr-public';

/** A parsed registry host (see `parseRegistry`). */
export interface EcrRegistry {
  service: EcrService;
  /** The host name, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com` or `public.ecr.aws`. */
  host: string;
  /** `https://<host>`, the form Docker and ECR's `proxyEndpoint` use. */
  serverUrl: string;
  /** 12-digit account id (private ECR only). */
  registryId?: string;
  /** Region of the registry; `us-east-1` for ECR Public (its API region). */
  region: string;
  /** FIPS endpoint (`-fips`). */
  fips: boolean;
  /** Dual-stack (IPv6) endpoint: `dkr-ecr`, `on.aws`, `on.amazonwebservices.com.cn`, `ecr-public.aws.com`. */
  dualStack: boolean;
  partition: EcrPartition;
}

/**
 * Docker credentials for one registry. `password` is a non-enumerable property, so `JSON.stringify(auth)`,
 * `console.log(auth)` and spreading do not copy or print it; read it explicitly.
 */
export interface EcrAuthorization {
  service: EcrService;
  /** Registry host, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
  registry: string;
  /** `https://<registry>` (ECR's proxyEndpoint). */
  serverUrl: string;
  /** Account id of the registry (private ECR). */
  registryId?: string;
  /** Region the token was requested in. */
  region: string;
  /** Always `AWS` for ECR. */
  username: string;
  /** The registry password (an ECR token, valid ~12 h). Non-enumerable. */
  readonly password: string;
  /** When the token expires, as reported by ECR (moto reports a date in 2015). */
  expiresAt?: Date;
  /** True when served from the token cache without calling ECR. */
  fromCache: boolean;
}

/** The caller, from STS GetCallerIdentity (or the identity cache). At least one of `arn` and `principal` is set. */
export interface CallerIdentity {
  /**
   * Principal ARN (`arn:aws:iam::…:user/x`, `arn:aws:sts::…:assumed-role/Role/session`). Absent when the identity
   * came from the cache, which stores only its hash.
   */
  arn?: string;
  /** `principalHash(arn)`. @default computed from `arn` */
  principal?: string;
  /** 12-digit account id. */
  account: string;
}

/** A token as returned by ECR / ECR Public, before decoding. */
export interface RawAuthorizationToken {
  /** base64 of `AWS:<password>`. */
  authorizationToken: string;
  expiresAt?: Date;
  /** `https://<registry host>` (absent for ECR Public, whose host is `public.ecr.aws`). */
  proxyEndpoint?: string;
}

/** What a {@link TokenSource} is asked for. */
export type TokenRequest =
  | {
      service: 'ecr';
      region: string;
      /** Registry ids to request; empty means "the caller's default registry" (no `registryIds` sent). */
      registryIds: string[];
    }
  | { service: 'ecr-public'; region: string };

/**
 * Where identities and tokens come from. The default talks to STS / ECR / ECR Public through `@awskit/core`'s
 * clients; tests and embedders can pass their own (e.g. a fake with a controllable expiry).
 */
export interface TokenSource {
  /** The caller's principal ARN and account (the cache key and the default registry id). */
  getCallerIdentity(): Promise<CallerIdentity>;
  /** Calls GetAuthorizationToken. */
  getAuthorizationTokens(request: TokenRequest): Promise<RawAuthorizationToken[]>;
}
