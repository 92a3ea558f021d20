export {
  createSdkTokenSource,
  type EcrClientOptions,
  type GetAuthorizationOptions,
  getAuthorization,
  type ListCachedAuthorizationsOptions,
  listCachedAuthorizations,
  type ResolveDefaultRegistryOptions,
  type ResolveRegistryHostsOptions,
  resolveDefaultRegistry,
  resolveRegistryHosts,
  type SdkTokenSourceOptions,
} from './authorization';
export {
  CREDENTIAL_HELPER_PROGRAM,
  CREDENTIALS_NOT_FOUND_MESSAGE,
  type CredentialHelperOptions,
  runCredentialHelper,
} from './credentialHelper';
export {
  type AddCredentialHelpersOptions,
  addCredentialHelpers,
  CREDENTIAL_HELPER_NAME,
  type DockerAuthEntry,
  type DockerConfig,
  type DockerConfigUpdate,
  readDockerConfig,
  resolveDockerConfigPath,
  type WriteDockerAuthsOptions,
  writeDockerAuths,
} from './dockerConfig';
export {
  type DockerLoginFailureReason,
  type DockerLoginOutcome,
  type RunDockerLoginOptions,
  runDockerLogin,
} from './dockerLogin';
export {
  DockerConfigError,
  DockerLoginError,
  EcrAuthError,
  EcrAuthErrorCode,
  InvalidRegistryError,
} from './errors';
export {
  type EcrLoginMethod,
  type EcrLoginOptions,
  type EcrLoginRegistryResult,
  type EcrLoginResult,
  ecrLogin,
} from './login';
export {
  ECR_HOST_PATTERN,
  ECR_PUBLIC_HOSTS,
  ECR_PUBLIC_REGION,
  type FormatRegistryHostOptions,
  formatRegistryHost,
  parseRegistry,
} from './registry';
export {
  createDefaultTokenCache,
  FileTokenCache,
  type FileTokenCacheOptions,
  type IdentityCacheEntry,
  MemoryTokenCache,
  principalHash,
  type TokenCache,
  type TokenCacheEntry,
} from './tokenCache';
export type {
  CallerIdentity,
  EcrAuthorization,
  EcrPartition,
  EcrRegistry,
  EcrService,
  RawAuthorizationToken,
  TokenRequest,
  TokenSource,
} from './types';
export { ECR_AUTH_VERSION } from './version';
