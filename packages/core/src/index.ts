export { type BackoffOptions, backoffDelay, type RetryOptions, retry, sleep } from './backoff';
export { type Clock, systemClock } from './clock';
export { type ClientOptions, clientResolution, createClient } from './createClient';
export {
  AwskitError,
  type AwskitErrorOptions,
  CoreErrorCode,
  type ErrorContext,
  isAwskitError,
  toAwskitError,
} from './errors';
export { type WriteFileAtomicOptions, writeFileAtomic } from './fs';
export { isLocalEndpoint } from './localEndpoint';
export {
  type ConsoleLoggerOptions,
  createConsoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  noopLogger,
} from './logger';
export { maskKeyId } from './mask';
export {
  type Labels,
  type MetricSeries,
  type Metrics,
  MetricsRegistry,
  noopMetrics,
  type SummaryValue,
} from './metrics';
export {
  type CredentialSource,
  DEFAULT_LOCAL_ENDPOINT,
  DEFAULT_LOCAL_REGION,
  EndpointSource,
  LOCAL_CREDENTIALS,
  loadSharedFiles,
  localEndpointFromEnv,
  type ResolvedCredentials,
  type ResolvedEndpoint,
  type ResolvedRegion,
  type ResolvedServiceConfig,
  type ResolveOptions,
  resolveCredentials,
  resolveEndpoint,
  resolveRegion,
  resolveServiceConfig,
} from './resolve';
export { SERVICES, ServiceId, serviceOfClient } from './services';
export { timeoutSignal } from './timeoutSignal';
export { AWSKIT_VERSION } from './version';
