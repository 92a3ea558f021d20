export { shardCountSteps } from './apply/kinesis';
export {
  type ApplyOptions,
  type ApplyResult,
  apply,
  type ChangeAction,
  type Plan,
  type PlannedChange,
  type PlanOptions,
  plan,
  type ResourceKind,
} from './apply/plan';
export {
  COMPOSE_DEFAULTS,
  COMPOSE_HEALTHCHECK,
  type ComposeOptions,
  composeImageWarnings,
  composeObject,
  DOCKERFILE_NAME,
  generateCompose,
  generateDockerfile,
  LOCALSTACK_FREE_IMAGE,
  localStackImage,
  localStackImageWarning,
} from './compose';
export {
  countResources,
  DECLARATION_FILE_NAMES,
  DEFAULT_DECLARATION_REGION,
  defineLocalResources,
  findDeclarationFile,
  formatPath,
  loadDeclaration,
  type ParseDeclarationOptions,
  parseDeclaration,
  parseDeclarationText,
  resolveDeclaration,
  servicesOf,
} from './declaration';
export {
  ApplyError,
  type DeclarationIssue,
  DeclarationValidationError,
  formatIssue,
  LocalstackHooksError,
  LocalstackHooksErrorCode,
} from './errors';
export { EXAMPLE_DECLARATION_YAML } from './example';
export {
  type InitFile,
  type WriteInitFilesOptions,
  type WriteInitFilesResult,
  writeInitFiles,
} from './initFiles';
export {
  DEFAULT_SCRIPT_ORDER,
  generateReadyScript,
  type ReadyScriptOptions,
  readyScriptName,
  shellQuote,
} from './readyScript';
export type * from './types';
export {
  defaultLocalEndpoint,
  type InitScriptState,
  type InitScriptStatus,
  type ReadyState,
  WAIT_DEFAULTS,
  type WaitForReadyOptions,
  waitForReady,
} from './waitForReady';
