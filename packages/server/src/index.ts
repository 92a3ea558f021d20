export { bearerToken, tokenMatches } from './auth.js';
export { SERVER_DEFAULTS } from './defaults.js';
export { DEMO_REGION, DEMO_STREAM, type Demo, type DemoOptions, demoDeclaration, startDemo } from './demo.js';
export { createDemoHandler, type DemoStats } from './demoHandler.js';
export { type Problem, ServerError, ServerErrorCode, ServerOptionsError } from './errors.js';
export { type HandlerModule, loadHandler } from './handler.js';
export {
  type ParsedRecords,
  parseBody,
  partitionKeySource,
  toUserRecords,
} from './ingest.js';
export { serverEnv, validateServerOptions } from './options.js';
export { type ServeFlags, type Serving, serveFromFlags } from './serve.js';
export { type AwskitServer, startServer } from './server.js';
export type {
  ConsumeOptions,
  DashboardState,
  ErrorView,
  ServerOptions,
  ShardView,
  StreamView,
  ThroughputSample,
  WorkerView,
} from './types.js';
