export { SERVER_DEFAULTS } from './defaults.js';
export { DEMO_REGION, DEMO_STREAM, type Demo, type DemoOptions, startDemo } from './demo.js';
export type { DemoStats } from './demoHandler.js';
export { type Problem, ServerError, ServerErrorCode, ServerOptionsError } from './errors.js';
export { type HandlerModule, loadHandler } from './handler.js';
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
