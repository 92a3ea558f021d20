import { type ClientOptions, createClient, type Logger, type ServiceId } from '@awskit/core';
import type { ChangeAction, PlannedChange, ResourceKind } from './plan';

export interface Ctx {
  region: string;
  clientOptions: ClientOptions;
  allowShardCountUpdate: boolean;
  logger: Logger;
  waitActive: (what: string, read: () => Promise<string | undefined>) => Promise<void>;
  clients: Map<ServiceId, Promise<unknown>>;
}

/** A planned change plus the steps that make it happen. */
export interface Step extends PlannedChange {
  run?: () => Promise<void>;
  /** Steps that may only start after this one finished (consumers after their stream). */
  after?: Step[];
  /** Runs other steps' work; not listed in the plan. */
  hidden?: boolean;
}

export const errName = (e: unknown) => (e as { name?: string } | undefined)?.name ?? '';

export function client<C>(ctx: Ctx, service: ServiceId, Ctor: new (c: never) => C): Promise<C> {
  let c = ctx.clients.get(service);
  if (!c) {
    c = createClient(Ctor as never, { ...ctx.clientOptions, region: ctx.region, service });
    ctx.clients.set(service, c);
  }
  return c as Promise<C>;
}

/** Canonical JSON (sorted keys) so equal documents compare equal regardless of key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export const decodePolicy = (doc: string | undefined): unknown => {
  if (!doc) return undefined;
  try {
    return JSON.parse(decodeURIComponent(doc));
  } catch {
    return JSON.parse(doc);
  }
};

export const step = (
  kind: ResourceKind,
  name: string,
  action: ChangeAction,
  changes: string[] = [],
  run?: () => Promise<void>,
): Step => ({
  kind,
  name,
  action,
  changes,
  ...(run ? { run } : {}),
});
