export { DAEMON_DEFAULTS, MultiLangDaemon } from './daemon.js';
export {
  type ChildFailureReason,
  ChildProcessFailedError,
  DaemonStateError,
  ExecutableNotFoundError,
  isKclMultiLangError,
  KclMultiLangError,
  KclMultiLangErrorCode,
  PropertiesError,
  PropertiesNotFoundError,
  type PropertyProblem,
} from './errors.js';
export { loadKclProperties, parseKclProperties } from './properties.js';
export { CheckpointErrorName } from './protocol.js';
export type {
  KclProperties,
  MultiLangClientChoice,
  MultiLangDaemonBaseOptions,
  MultiLangDaemonOptions,
  MultiLangDaemonStats,
} from './types.js';
