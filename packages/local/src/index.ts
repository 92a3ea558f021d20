export type { ManagedChild } from './childProcess';
export type { ServiceStatus } from './edge';
export {
  type Backend,
  type MotoServer,
  type MotoServerOptions,
  startMotoServer,
} from './emulators';
export { LocalAwsError, LocalAwsErrorCode } from './errors';
export { type FaultProxy, type FaultProxyOptions, startFaultProxy } from './faultProxy';
export {
  FAULT_KINDS,
  type FaultConfig,
  type FaultKind,
  type FaultRule,
  parseFaultConfig,
  validateFaultRules,
} from './faultRules';
export { type InitReport, type InitScript, InitStage, type ScriptState } from './initHooks';
export { type LocalAws, type LocalAwsOptions, startLocalAws } from './localAws';
export { getFreePort, waitForPort } from './ports';
export {
  createRequestGuard,
  isLoopbackHostname,
  type RequestGuard,
  type RequestGuardOptions,
  type RequestRejection,
} from './requestGuard';
