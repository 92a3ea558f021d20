import {
  type ClientOptions,
  type Clock,
  type Logger,
  noopLogger,
  resolveServiceConfig,
  type ServiceId,
  sleep,
  systemClock,
  toAwskitError,
} from '@awskit/core';
import { resolveDeclaration } from '../declaration';
import { ApplyError, LocalstackHooksError, LocalstackHooksErrorCode } from '../errors';
import type { LocalResources, LocalResourcesInput } from '../types';
import { planTable } from './dynamodb';
import { planRepository } from './ecr';
import { planIam } from './iam';
import { planStream } from './kinesis';
import type { Ctx, Step } from './steps';

/** Kinds of resources `plan`/`apply` manage. */
export type ResourceKind =
  | 'kinesis-stream'
  | 'kinesis-consumer'
  | 'dynamodb-table'
  | 'ecr-repository'
  | 'iam-policy'
  | 'iam-user';

/**
 * What `apply` would do to one resource: `create` it, `update` it in place, nothing (`no-op`), or nothing because the
 * declared state can't be reached safely (`blocked`, with `reason`).
 */
export type ChangeAction = 'create' | 'update' | 'no-op' | 'blocked';

/** One resource's planned change. */
export interface PlannedChange {
  kind: ResourceKind;
  /** Resource name (`stream/consumer` for consumers). */
  name: string;
  action: ChangeAction;
  /** Human-readable steps, e.g. `UpdateShardCount 1 → 2`. Empty for `no-op`. */
  changes: string[];
  /** Why a change is blocked. */
  reason?: string;
}

/** The result of {@link plan}. */
export interface Plan {
  region: string;
  /** Endpoint per service in use (`aws` when the SDK picks the AWS endpoint). */
  endpoints: Partial<Record<ServiceId, string>>;
  /** True when every service in use resolves to a local endpoint. */
  local: boolean;
  changes: PlannedChange[];
  summary: Record<ChangeAction, number>;
}

/** The declaration and where to apply it. */
export interface PlanOptions {
  /** A file path, YAML/JSON text (a string with a line break), or a declaration object; validated here. */
  declaration: string | LocalResourcesInput | LocalResources;
  /**
   * Endpoint/region/credential resolution as everywhere in awskit (`{ local: true }`, `{ endpoint }`, a profile...).
   * The region defaults to the declaration's. @default {}
   */
  clientOptions?: ClientOptions;
  /** Resize provisioned streams with UpdateShardCount when the declared count differs. @default true */
  allowShardCountUpdate?: boolean;
  /** @default noopLogger */
  logger?: Logger;
}

/** Options of {@link apply}. */
export interface ApplyOptions extends PlanOptions {
  /**
   * Allow changes at a non-local endpoint (a real AWS account). Without it `apply` refuses before any call.
   * @default false
   */
  allowNonLocal?: boolean;
  /** Give up waiting for a resource to become ACTIVE after this long. @default 120_000 */
  activeTimeoutMs?: number;
  /** Longest pause between status polls (polls start at 50 ms and grow). @default 1_000 */
  maxPollIntervalMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** @default core's sleep */
  sleep?: (ms: number) => Promise<void>;
}

/** The result of {@link apply}. */
export interface ApplyResult {
  /** The plan that was executed (state before the changes). */
  plan: Plan;
  /** Changes made (create/update). */
  applied: PlannedChange[];
  /** Changes that could not be made safely; nothing was done to these resources. */
  blocked: PlannedChange[];
  /** Resources already as declared. */
  unchanged: PlannedChange[];
  elapsedMs: number;
}

async function makeCtx(
  options: PlanOptions & Partial<ApplyOptions>,
  resources: LocalResources,
): Promise<Ctx> {
  const clock = options.clock ?? systemClock;
  const pause = options.sleep ?? ((ms: number) => sleep(ms));
  const timeoutMs = options.activeTimeoutMs ?? 120_000;
  const maxPoll = options.maxPollIntervalMs ?? 1_000;
  return {
    region: options.clientOptions?.region ?? resources.region,
    clientOptions: options.clientOptions ?? {},
    allowShardCountUpdate: options.allowShardCountUpdate ?? true,
    logger: options.logger ?? noopLogger,
    clients: new Map(),
    async waitActive(what, read) {
      const start = clock.now();
      let interval = 50;
      let last: string | undefined;
      for (;;) {
        last = await read();
        if (last === 'ACTIVE') return;
        if (clock.now() - start > timeoutMs)
          throw new LocalstackHooksError(
            LocalstackHooksErrorCode.ResourceTimeout,
            `${what} did not become ACTIVE within ${timeoutMs} ms (status ${last ?? 'unknown'})`,
            { hint: 'The service is slow or stuck; check it, or raise activeTimeoutMs.' },
          );
        await pause(interval);
        interval = Math.min(maxPoll, Math.round(interval * 1.5));
      }
    },
  };
}

function usedServices(r: LocalResources): ServiceId[] {
  const out: ServiceId[] = [];
  if (r.kinesis.streams.length) out.push('kinesis');
  if (r.dynamodb.tables.length) out.push('dynamodb');
  if (r.ecr.repositories.length) out.push('ecr');
  if (r.iam.policies.length || r.iam.users.length) out.push('iam');
  return out;
}

interface Planned {
  plan: Plan;
  steps: Step[];
  ctx: Ctx;
}

async function buildPlan(options: PlanOptions & Partial<ApplyOptions>): Promise<Planned> {
  const resources = await resolveDeclaration(options.declaration);
  const ctx = await makeCtx(options, resources);
  const endpoints: Partial<Record<ServiceId, string>> = {};
  let local = true;
  for (const service of usedServices(resources)) {
    const r = await resolveServiceConfig(service, { ...ctx.clientOptions, region: ctx.region });
    endpoints[service] = r.endpoint.url ?? 'aws';
    local &&= r.endpoint.local;
  }
  const wrap = async (kind: ResourceKind, name: string, service: ServiceId, f: () => Promise<Step[]>) => {
    try {
      return await f();
    } catch (e) {
      throw toAwskitError(e, {
        service,
        endpoint: endpoints[service],
        local,
        region: ctx.region,
        resource: `${kind} ${name}`,
      });
    }
  };
  const groups = await Promise.all([
    ...resources.kinesis.streams.map((s) =>
      wrap('kinesis-stream', s.name, 'kinesis', () => planStream(ctx, s)),
    ),
    ...resources.dynamodb.tables.map((t) =>
      wrap('dynamodb-table', t.name, 'dynamodb', () => planTable(ctx, t)),
    ),
    ...resources.ecr.repositories.map((r) =>
      wrap('ecr-repository', r.name, 'ecr', () => planRepository(ctx, r)),
    ),
    wrap('iam-user', '*', 'iam', () => planIam(ctx, resources.iam.policies, resources.iam.users)),
  ]);
  const steps = groups.flat();
  const changes: PlannedChange[] = [];
  const collect = (s: Step) => {
    if (!s.hidden) {
      const { run: _run, after: _after, hidden: _hidden, ...change } = s;
      changes.push(change);
    }
    for (const t of s.after ?? []) collect(t);
  };
  steps.forEach(collect);
  const summary: Record<ChangeAction, number> = { create: 0, update: 0, 'no-op': 0, blocked: 0 };
  for (const c of changes) summary[c.action]++;
  return { plan: { region: ctx.region, endpoints, local, changes, summary }, steps, ctx };
}

function destroyClients(ctx: Ctx) {
  for (const c of ctx.clients.values())
    void c.then((x) => (x as { destroy?: () => void }).destroy?.()).catch(() => undefined);
}

/**
 * Compares a declaration with what exists at the endpoint and returns what {@link apply} would do, per resource:
 * create, update (with the steps), no-op, or blocked (with the reason). Read-only; works against real accounts too.
 *
 * @throws {DeclarationValidationError} for an invalid declaration; AwskitError for AWS/network failures.
 * @example
 * const p = await plan({ declaration: 'awskit.local.yaml', clientOptions: { local: true } });
 * if (p.summary.create + p.summary.update > 0) console.log('drift', p.changes);
 */
export async function plan(options: PlanOptions): Promise<Plan> {
  const planned = await buildPlan(options);
  destroyClients(planned.ctx);
  return planned.plan;
}

/**
 * Makes the endpoint match the declaration through the AWS SDK (no aws CLI needed): creates what is missing,
 * updates what differs (shard count via UpdateShardCount when allowed, retention, tags, stream mode, billing,
 * indexes, repository settings, policy versions, user policies), waits until each resource is ACTIVE, and leaves
 * undeclared resources alone. Idempotent: a second run finds nothing to do. Refuses a non-local endpoint unless
 * `allowNonLocal: true`.
 *
 * @throws {LocalstackHooksError} `NON_LOCAL_ENDPOINT`; {@link ApplyError} `APPLY_FAILED` when some resources
 *   failed (the others were still applied); {@link DeclarationValidationError}.
 * @example
 * const result = await apply({ declaration: 'awskit.local.yaml', clientOptions: { local: true } });
 * console.log(result.applied.length, 'changes');
 */
export async function apply(options: ApplyOptions): Promise<ApplyResult> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  const resources = await resolveDeclaration(options.declaration);
  if (!options.allowNonLocal) {
    const region = options.clientOptions?.region ?? resources.region;
    for (const service of usedServices(resources)) {
      const r = await resolveServiceConfig(service, { ...(options.clientOptions ?? {}), region });
      if (!r.endpoint.local)
        throw new LocalstackHooksError(
          LocalstackHooksErrorCode.NonLocalEndpoint,
          `refusing to apply to ${service} at ${r.endpoint.url ?? `AWS (${region})`}: not a local endpoint (${r.endpoint.reason})`,
          {
            hint: 'Check `awskit localstack plan` first, then pass --yes (allowNonLocal: true) to change a real account; or point at LocalStack with --endpoint-url / --local.',
          },
        );
    }
  }
  const { plan: thePlan, steps, ctx } = await buildPlan({ ...options, declaration: resources });
  const failures: { kind: ResourceKind; name: string; error: Error }[] = [];
  const applied: PlannedChange[] = [];
  const skipped: { kind: ResourceKind; name: string }[] = [];
  const run = async (s: Step): Promise<void> => {
    if (s.run && s.action !== 'blocked') {
      try {
        ctx.logger.info(`${s.action} ${s.kind} ${s.name}`, { changes: s.changes });
        await s.run();
      } catch (e) {
        const at = (e as { step?: { kind: ResourceKind; name: string } }).step ?? s;
        failures.push({
          kind: at.kind,
          name: at.name,
          error: toAwskitError(e, {
            region: ctx.region,
            resource: `${at.kind} ${at.name}`,
            local: thePlan.local,
          }),
        });
        // Dependents (consumers of a stream, users needing a policy) are not attempted.
        const skip = (d: Step) => {
          if (!d.hidden) skipped.push({ kind: d.kind, name: d.name });
          (d.after ?? []).forEach(skip);
        };
        (s.after ?? []).forEach(skip);
        return;
      }
    }
    await Promise.all((s.after ?? []).map(run));
  };
  try {
    await Promise.all(steps.map(run));
  } finally {
    destroyClients(ctx);
  }
  const failed = new Set([...failures, ...skipped].map((f) => `${f.kind}:${f.name}`));
  for (const c of thePlan.changes)
    if ((c.action === 'create' || c.action === 'update') && !failed.has(`${c.kind}:${c.name}`))
      applied.push(c);
  if (failures.length) throw new ApplyError(failures, skipped, applied);
  return {
    plan: thePlan,
    applied,
    blocked: thePlan.changes.filter((c) => c.action === 'blocked'),
    unchanged: thePlan.changes.filter((c) => c.action === 'no-op'),
    elapsedMs: clock.now() - start,
  };
}
