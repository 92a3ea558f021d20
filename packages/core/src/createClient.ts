import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AwskitError, CoreErrorCode } from './errors';
import type { Logger } from './logger';
import { type ResolvedServiceConfig, type ResolveOptions, resolveServiceConfig } from './resolve';
import { SERVICES, type ServiceId, serviceOfClient } from './services';
import { AWSKIT_VERSION } from './version';

/** Options for {@link createClient}: resolution inputs plus client settings. */
export interface ClientOptions extends ResolveOptions {
  /** Total attempts per call including the first (SDK standard retry mode). @default 3 (AWS), 5 (local) */
  maxAttempts?: number;
  /** Logger for awskit's own messages (the SDK's logger stays off). */
  logger?: Logger;
  /** The service, when it can't be inferred from the client class name. */
  service?: ServiceId;
  /**
   * Socket inactivity limit of each call: a call whose connection stays silent this long fails (and is retried by
   * the SDK) instead of hanging forever. @default no limit (the SDK default)
   */
  requestTimeoutMs?: number;
  /** Time allowed to open a connection. @default 5000 for local endpoints, the SDK default for AWS */
  connectionTimeoutMs?: number;
  /** Extra SDK client configuration, merged last (wins over everything awskit sets). */
  clientConfig?: Record<string, unknown>;
}

/** A client created by {@link createClient} remembers how it was resolved. */
export interface ClientResolution {
  readonly resolved: ResolvedServiceConfig;
}

// biome-ignore lint/suspicious/noExplicitAny: SDK client constructors take a service-specific config type.
type ClientCtor<C> = new (config: any) => C;

const resolutions = new WeakMap<object, ResolvedServiceConfig>();

/** How a client made by {@link createClient} was configured (endpoint, region, credential source), if known. */
export function clientResolution(client: object): ResolvedServiceConfig | undefined {
  return resolutions.get(client);
}

/**
 * Builds an AWS SDK v3 client with awskit's endpoint, region and credential resolution applied. For local or
 * plain-HTTP endpoints it installs an HTTP/1.1 `NodeHttpHandler`: kinesis-local (and LocalStack) break the SDK's
 * default HTTP/2 handler on large responses and on SubscribeToShard. Against AWS the SDK default handler stays.
 *
 * @param Client An SDK client class, e.g. `KinesisClient`.
 * @param options Resolution inputs and client settings; see {@link ClientOptions}.
 * @throws AwskitError `REGION_MISSING`, `INVALID_ENDPOINT`, `PROFILE_NOT_FOUND`
 * @example
 * const kinesis = await createClient(KinesisClient, { local: true });
 */
export async function createClient<C>(Client: ClientCtor<C>, options: ClientOptions = {}): Promise<C> {
  const service = options.service ?? serviceOfClient(Client);
  if (!service)
    throw new AwskitError(
      CoreErrorCode.InvalidConfig,
      `createClient: cannot tell which service ${Client.name} is for`,
      {
        hint: `Pass { service: 'kinesis' | 'dynamodb' | 'iam' | 'sts' | 'ecr' | 'ecrpublic' }.`,
      },
    );
  const resolved = await resolveServiceConfig(service, options);
  const { endpoint, region, credentials } = resolved;
  const config: Record<string, unknown> = {
    region: SERVICES[service].signingRegion && !endpoint.url ? SERVICES[service].signingRegion : region.value,
    credentials: credentials.provider,
    maxAttempts: options.maxAttempts ?? (endpoint.local ? 5 : 3),
    customUserAgent: [['awskit', AWSKIT_VERSION]],
  };
  if (endpoint.url) config.endpoint = endpoint.url;
  // awskit's resolution is the only one: otherwise, with no endpoint set, the SDK re-reads AWS_ENDPOINT_URL* and
  // the shared config of the *process* (ignoring the `profile` and `env` options) at request time.
  else config.ignoreConfiguredEndpointUrls = true;
  const silenceMs = options.requestTimeoutMs;
  if (endpoint.local) {
    config.requestHandler = new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      // `socketTimeout` is the inactivity limit of HTTP/1.1 (its `requestTimeout` only warns on the console).
      ...(silenceMs !== undefined ? { socketTimeout: silenceMs } : {}),
    });
  } else if (silenceMs !== undefined || options.connectionTimeoutMs !== undefined) {
    // The SDK's shorthand: options for the client's own default handler. Kinesis defaults to HTTP/2, where
    // `requestTimeout` is the stream inactivity limit; the others to HTTP/1.1 (`socketTimeout`).
    const handler: Record<string, number> = {};
    if (silenceMs !== undefined)
      handler[service === 'kinesis' ? 'requestTimeout' : 'socketTimeout'] = silenceMs;
    if (options.connectionTimeoutMs !== undefined) handler.connectionTimeout = options.connectionTimeoutMs;
    config.requestHandler = handler;
  }
  Object.assign(config, options.clientConfig);
  const client = new Client(config);
  resolutions.set(client as object, resolved);
  options.logger?.debug('created AWS client', {
    service,
    endpoint: endpoint.url ?? 'aws',
    endpointSource: endpoint.source,
    region: region.value,
    credentialSource: credentials.source,
  });
  return client;
}
