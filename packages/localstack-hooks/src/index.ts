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
} from './readyScript';
export type * from './types';
export {
  type InitScriptState,
  type InitScriptStatus,
  type ReadyState,
  WAIT_DEFAULTS,
  type WaitForReadyOptions,
  waitForReady,
} from './waitForReady';
