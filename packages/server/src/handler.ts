import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BatchHandler, HandlerErrorAction, HandlerErrorInfo } from '@awskit/kinesis-consumer';
import { ServerError } from './errors.js';

/** What a `--handler` module provides. */
export interface HandlerModule {
  handler: BatchHandler;
  onError?: (error: unknown, info: HandlerErrorInfo) => HandlerErrorAction | Promise<HandlerErrorAction>;
}

/**
 * Loads a handler module: its default export (or a named `handler` export) is called with each batch of records
 * `(records, ctx) => Promise<void>`; an optional `onError(error, info)` export returns 'retry' or 'skip'.
 *
 * @example
 * // handler.js
 * export default async function (records, ctx) {
 *   for (const r of records) console.log(ctx.shardId, Buffer.from(r.data).toString());
 * }
 * @throws {ServerError} `INVALID_HANDLER` when the module cannot be imported or exports no function.
 */
export async function loadHandler(path: string, cwd = process.cwd()): Promise<HandlerModule> {
  const abs = resolve(cwd, path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ServerError('INVALID_HANDLER', `Cannot load handler module ${abs}: ${(e as Error).message}`, {
      hint: 'Pass a JavaScript module (ESM .js/.mjs, or CommonJS .cjs) that exports a function, e.g. --handler ./handler.js.',
      cause: e,
    });
  }
  const fn = typeof mod.default === 'function' ? mod.default : mod.handler;
  if (typeof fn !== 'function')
    throw new ServerError('INVALID_HANDLER', `Handler module ${abs} exports no handler function`, {
      hint: 'Export `default async function (records, ctx) {...}` or a named `handler`.',
    });
  const out: HandlerModule = { handler: fn as BatchHandler };
  if (typeof mod.onError === 'function') out.onError = mod.onError as HandlerModule['onError'];
  return out;
}
