import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type TableDescription,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
} from '@aws-sdk/client-ecr';
import {
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateUserCommand,
  DeletePolicyVersionCommand,
  GetPolicyVersionCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  KinesisClient,
  ListTagsForStreamCommand,
  RegisterStreamConsumerCommand,
  type StreamDescriptionSummary,
  UpdateShardCountCommand,
  UpdateStreamModeCommand,
} from '@aws-sdk/client-kinesis';
import {
  type ClientOptions,
  type Clock,
  createClient,
  type Logger,
  noopLogger,
  resolveServiceConfig,
  type ServiceId,
  sleep,
  systemClock,
  toAwskitError,
} from '@awskit/core';
import { resolveDeclaration } from './declaration';
import { LocalstackHooksError, LocalstackHooksErrorCode } from './errors';
import { createRepositoryInput, createTableInput, iamTags } from './requests';
import type {
  DynamoTable,
  EcrRepository,
  IamPolicy,
  IamUser,
  KinesisStream,
  LocalResources,
  LocalResourcesInput,
} from './types';

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

/** Thrown by `apply` when some resources failed; `result` holds what was done before and besides the failures. */
export class ApplyError extends LocalstackHooksError {
  /** Resources whose change failed, with the error. */
  readonly failures: { kind: ResourceKind; name: string; error: Error }[];
  /** Resources not attempted because something they depend on failed. */
  readonly skipped: { kind: ResourceKind; name: string }[];
  /** Changes that were made despite the failures. */
  readonly applied: PlannedChange[];
  constructor(
    failures: { kind: ResourceKind; name: string; error: Error }[],
    skipped: { kind: ResourceKind; name: string }[] = [],
    applied: PlannedChange[] = [],
  ) {
    const lines = failures.map((f) => `  ${f.kind} ${f.name}: ${f.error.message}`);
    for (const s of skipped)
      lines.push(`  ${s.kind} ${s.name}: not attempted (depends on a failed resource)`);
    const first = failures[0]?.error as { hint?: string } | undefined;
    super(
      LocalstackHooksErrorCode.ApplyFailed,
      `${failures.length} resource${failures.length === 1 ? '' : 's'} failed:\n${lines.join('\n')}`,
      {
        hint: first?.hint ?? 'See the messages above; `awskit localstack plan` shows the current state.',
        cause: failures[0]?.error,
      },
    );
    this.failures = failures;
    this.skipped = skipped;
    this.applied = applied;
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface Ctx {
  region: string;
  clientOptions: ClientOptions;
  allowShardCountUpdate: boolean;
  logger: Logger;
  waitActive: (what: string, read: () => Promise<string | undefined>) => Promise<void>;
  clients: Map<ServiceId, Promise<unknown>>;
}

/** A planned change plus the steps that make it happen. */
interface Step extends PlannedChange {
  run?: () => Promise<void>;
  /** Steps that may only start after this one finished (consumers after their stream). */
  after?: Step[];
  /** Runs other steps' work; not listed in the plan. */
  hidden?: boolean;
}

const errName = (e: unknown) => (e as { name?: string } | undefined)?.name ?? '';

function client<C>(ctx: Ctx, service: ServiceId, Ctor: new (c: never) => C): Promise<C> {
  let c = ctx.clients.get(service);
  if (!c) {
    c = createClient(Ctor as never, { ...ctx.clientOptions, region: ctx.region, service });
    ctx.clients.set(service, c);
  }
  return c as Promise<C>;
}

/** Canonical JSON (sorted keys) so equal documents compare equal regardless of key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const decodePolicy = (doc: string | undefined): unknown => {
  if (!doc) return undefined;
  try {
    return JSON.parse(decodeURIComponent(doc));
  } catch {
    return JSON.parse(doc);
  }
};

const step = (
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

/** Shard count steps UpdateShardCount accepts one call at a time: at most double, at least half. */
export function shardCountSteps(from: number, to: number): number[] {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < 1)
    throw new RangeError(`shard counts must be positive integers (got ${from} → ${to})`);
  const steps: number[] = [];
  let cur = from;
  while (cur !== to) {
    cur = to > cur ? Math.min(to, cur * 2) : Math.max(to, Math.ceil(cur / 2));
    steps.push(cur);
  }
  return steps;
}

// --- Kinesis ---------------------------------------------------------------------------------------------------

async function planStream(ctx: Ctx, s: KinesisStream): Promise<Step[]> {
  const kinesis = await client(ctx, 'kinesis', KinesisClient);
  const status = async () =>
    (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: s.name }))).StreamDescriptionSummary
      ?.StreamStatus;
  const waitStream = () => ctx.waitActive(`kinesis stream ${s.name}`, status);
  const consumerSteps = async (existing: boolean, arn?: string): Promise<Step[]> => {
    const out: Step[] = [];
    for (const c of s.consumers) {
      let found = false;
      if (existing && arn) {
        try {
          await kinesis.send(new DescribeStreamConsumerCommand({ StreamARN: arn, ConsumerName: c }));
          found = true;
        } catch (e) {
          if (errName(e) !== 'ResourceNotFoundException') throw e;
        }
      }
      const name = `${s.name}/${c}`;
      if (found) out.push(step('kinesis-consumer', name, 'no-op'));
      else
        out.push(
          step('kinesis-consumer', name, 'create', [`RegisterStreamConsumer ${c}`], async () => {
            const streamArn =
              arn ??
              (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: s.name })))
                .StreamDescriptionSummary?.StreamARN;
            try {
              await kinesis.send(
                new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: c }),
              );
            } catch (e) {
              if (errName(e) !== 'ResourceInUseException') throw e; // registered meanwhile
            }
            await ctx.waitActive(
              `kinesis consumer ${name}`,
              async () =>
                (
                  await kinesis.send(
                    new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: c }),
                  )
                ).ConsumerDescription?.ConsumerStatus,
            );
          }),
        );
    }
    return out;
  };

  const describe = async (): Promise<StreamDescriptionSummary | undefined> => {
    try {
      return (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: s.name })))
        .StreamDescriptionSummary;
    } catch (e) {
      if (errName(e) !== 'ResourceNotFoundException') throw e;
      return undefined;
    }
  };
  let summary = await describe();
  // Mid-create or mid-reshard the shard count is transitional (0 while CREATING): compare once it settled.
  if (summary && (summary.StreamStatus === 'CREATING' || summary.StreamStatus === 'UPDATING')) {
    await waitStream();
    summary = await describe();
  }
  const tagsToAdd = (current: Record<string, string>) =>
    Object.fromEntries(Object.entries(s.tags).filter(([k, v]) => current[k] !== v));
  const addTags = async (tags: Record<string, string>) => {
    if (Object.keys(tags).length === 0) return;
    await kinesis.send(new AddTagsToStreamCommand({ StreamName: s.name, Tags: tags }));
    await waitStream();
  };
  const setRetention = async (from: number) => {
    if (from === s.retentionHours) return;
    const Cmd =
      s.retentionHours > from ? IncreaseStreamRetentionPeriodCommand : DecreaseStreamRetentionPeriodCommand;
    await kinesis.send(new Cmd({ StreamName: s.name, RetentionPeriodHours: s.retentionHours }));
    await waitStream();
  };

  if (!summary) {
    const changes = [
      s.mode === 'on-demand'
        ? 'CreateStream (on-demand)'
        : `CreateStream (${s.shards} shard${s.shards === 1 ? '' : 's'})`,
    ];
    if (s.retentionHours !== 24) changes.push(`retention 24 → ${s.retentionHours} hours`);
    if (Object.keys(s.tags).length) changes.push(`tags ${Object.keys(s.tags).join(', ')}`);
    const create = step('kinesis-stream', s.name, 'create', changes, async () => {
      try {
        await kinesis.send(
          new CreateStreamCommand(
            s.mode === 'on-demand'
              ? { StreamName: s.name, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }
              : { StreamName: s.name, ShardCount: s.shards },
          ),
        );
      } catch (e) {
        if (errName(e) !== 'ResourceInUseException') throw e; // created meanwhile (a hook, another apply)
      }
      await waitStream();
      await setRetention(24);
      await addTags(s.tags);
    });
    create.after = await consumerSteps(false);
    return [create];
  }

  const arn = summary.StreamARN;
  const streamStatus = summary.StreamStatus;
  if (streamStatus === 'DELETING')
    return [
      {
        ...step('kinesis-stream', s.name, 'blocked'),
        reason: 'the stream is being deleted; run apply again once it is gone',
      },
    ];
  const changes: string[] = [];
  const ops: (() => Promise<void>)[] = [];
  let blockedReason: string | undefined;
  const currentMode = summary.StreamModeDetails?.StreamMode ?? 'PROVISIONED';
  const wantMode = s.mode === 'on-demand' ? 'ON_DEMAND' : 'PROVISIONED';
  if (currentMode !== wantMode) {
    changes.push(`UpdateStreamMode ${currentMode} → ${wantMode}`);
    ops.push(async () => {
      await kinesis.send(
        new UpdateStreamModeCommand({ StreamARN: arn, StreamModeDetails: { StreamMode: wantMode } }),
      );
      await waitStream();
    });
  }
  const open = summary.OpenShardCount;
  if (s.mode === 'provisioned' && s.shards !== undefined && open !== undefined && open !== s.shards) {
    const steps = shardCountSteps(open, s.shards);
    if (!ctx.allowShardCountUpdate)
      blockedReason = `shard count ${open} → ${s.shards} needs UpdateShardCount, which is not allowed (allowShardCountUpdate: false / --no-shard-update)`;
    else {
      changes.push(`UpdateShardCount ${[open, ...steps].join(' → ')} (UNIFORM_SCALING)`);
      ops.push(async () => {
        for (const target of steps) {
          await kinesis.send(
            new UpdateShardCountCommand({
              StreamName: s.name,
              TargetShardCount: target,
              ScalingType: 'UNIFORM_SCALING',
            }),
          );
          await waitStream();
        }
      });
    }
  }
  const retention = summary.RetentionPeriodHours;
  if (retention !== undefined && retention !== s.retentionHours) {
    changes.push(`retention ${retention} → ${s.retentionHours} hours`);
    ops.push(() => setRetention(retention));
  }
  if (Object.keys(s.tags).length) {
    const current: Record<string, string> = {};
    const res = await kinesis.send(new ListTagsForStreamCommand({ StreamName: s.name, Limit: 50 }));
    for (const t of res.Tags ?? []) if (t.Key) current[t.Key] = t.Value ?? '';
    const add = tagsToAdd(current);
    if (Object.keys(add).length) {
      changes.push(`tags ${Object.keys(add).join(', ')}`);
      ops.push(() => addTags(add));
    }
  }
  const consumers = await consumerSteps(true, arn);
  if (blockedReason)
    return [{ ...step('kinesis-stream', s.name, 'blocked', changes), reason: blockedReason }, ...consumers];
  const main =
    ops.length === 0
      ? step('kinesis-stream', s.name, 'no-op')
      : step('kinesis-stream', s.name, 'update', changes, async () => {
          if (streamStatus !== 'ACTIVE') await waitStream();
          for (const op of ops) await op();
        });
  main.after = consumers;
  return [main];
}

// --- DynamoDB --------------------------------------------------------------------------------------------------

function keyDescription(
  keys: { AttributeName?: string; KeyType?: string }[] | undefined,
  types: Map<string, string>,
) {
  return (keys ?? [])
    .map((k) => `${k.AttributeName}(${types.get(k.AttributeName ?? '') ?? '?'}) ${k.KeyType}`)
    .join(', ');
}

async function planTable(ctx: Ctx, t: DynamoTable): Promise<Step[]> {
  const ddb = await client(ctx, 'dynamodb', DynamoDBClient);
  const status = async () =>
    (await ddb.send(new DescribeTableCommand({ TableName: t.name }))).Table?.TableStatus;
  const wait = () => ctx.waitActive(`dynamodb table ${t.name}`, status);
  const input = createTableInput(t);
  let table: TableDescription | undefined;
  try {
    table = (await ddb.send(new DescribeTableCommand({ TableName: t.name }))).Table;
  } catch (e) {
    if (errName(e) !== 'ResourceNotFoundException') throw e;
  }
  if (!table) {
    const changes = [
      `CreateTable (${t.billing}${t.indexes.length ? `, ${t.indexes.length} index${t.indexes.length > 1 ? 'es' : ''}` : ''})`,
    ];
    return [
      step('dynamodb-table', t.name, 'create', changes, async () => {
        try {
          await ddb.send(new CreateTableCommand(input));
        } catch (e) {
          if (errName(e) !== 'ResourceInUseException') throw e;
        }
        await wait();
      }),
    ];
  }
  const actualTypes = new Map(
    (table.AttributeDefinitions ?? []).map((a) => [a.AttributeName ?? '', a.AttributeType ?? '']),
  );
  const wantTypes = new Map(
    input.AttributeDefinitions.map((a) => [a.AttributeName, a.AttributeType as string]),
  );
  const want = keyDescription(input.KeySchema, wantTypes);
  const have = keyDescription(table.KeySchema, actualTypes);
  if (want !== have)
    return [
      {
        ...step('dynamodb-table', t.name, 'blocked'),
        reason: `key schema differs (declared ${want}; table has ${have}); DynamoDB cannot change keys: delete the table or rename it`,
      },
    ];
  const changes: string[] = [];
  const ops: (() => Promise<void>)[] = [];
  const billing = table.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
  const wantBilling = t.billing === 'provisioned' ? 'PROVISIONED' : 'PAY_PER_REQUEST';
  const throughput = table.ProvisionedThroughput;
  const capacityDiffers =
    t.billing === 'provisioned' &&
    (throughput?.ReadCapacityUnits !== t.readCapacity || throughput?.WriteCapacityUnits !== t.writeCapacity);
  if (billing !== wantBilling || capacityDiffers) {
    changes.push(
      billing !== wantBilling
        ? `billing ${billing} → ${wantBilling}`
        : `capacity ${throughput?.ReadCapacityUnits}/${throughput?.WriteCapacityUnits} → ${t.readCapacity}/${t.writeCapacity}`,
    );
    // Switching to PROVISIONED needs a throughput for every existing GSI too (DynamoDB rejects the call otherwise).
    const indexThroughput =
      billing !== wantBilling && t.billing === 'provisioned'
        ? (table.GlobalSecondaryIndexes ?? []).map((g) => {
            const declared = t.indexes.find((ix) => ix.name === g.IndexName);
            return {
              Update: {
                IndexName: g.IndexName,
                ProvisionedThroughput: {
                  ReadCapacityUnits: declared?.readCapacity ?? t.readCapacity,
                  WriteCapacityUnits: declared?.writeCapacity ?? t.writeCapacity,
                },
              },
            };
          })
        : [];
    ops.push(async () => {
      await ddb.send(
        new UpdateTableCommand({
          TableName: t.name,
          BillingMode: wantBilling,
          ...(t.billing === 'provisioned'
            ? {
                ProvisionedThroughput: {
                  ReadCapacityUnits: t.readCapacity,
                  WriteCapacityUnits: t.writeCapacity,
                },
              }
            : {}),
          ...(indexThroughput.length ? { GlobalSecondaryIndexUpdates: indexThroughput } : {}),
        }),
      );
      await wait();
    });
  }
  const existing = new Set((table.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  for (const gsi of input.GlobalSecondaryIndexes ?? []) {
    if (existing.has(gsi.IndexName)) continue;
    changes.push(`create index ${gsi.IndexName}`);
    ops.push(async () => {
      await ddb.send(
        new UpdateTableCommand({
          TableName: t.name,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: gsi }],
        }),
      );
      await ctx.waitActive(`index ${t.name}/${gsi.IndexName}`, async () => {
        const d = (await ddb.send(new DescribeTableCommand({ TableName: t.name }))).Table;
        const ix = d?.GlobalSecondaryIndexes?.find((g) => g.IndexName === gsi.IndexName);
        // Some emulators (dynalite) accept the call but never create the index: say so instead of passing.
        if (d?.TableStatus === 'ACTIVE' && !ix)
          throw new LocalstackHooksError(
            LocalstackHooksErrorCode.Conflict,
            `the endpoint accepted UpdateTable but did not create index ${gsi.IndexName} on ${t.name}`,
            {
              hint: 'This DynamoDB emulator cannot add indexes to an existing table (dynalite cannot): delete the table and apply again to create it with the index.',
            },
          );
        return d?.TableStatus === 'ACTIVE' && ix?.IndexStatus === 'ACTIVE' ? 'ACTIVE' : 'UPDATING';
      });
    });
  }
  if (ops.length === 0) return [step('dynamodb-table', t.name, 'no-op')];
  return [
    step('dynamodb-table', t.name, 'update', changes, async () => {
      if (table.TableStatus !== 'ACTIVE') await wait();
      for (const op of ops) await op();
    }),
  ];
}

// --- ECR -------------------------------------------------------------------------------------------------------

async function planRepository(ctx: Ctx, r: EcrRepository): Promise<Step[]> {
  const ecr = await client(ctx, 'ecr', ECRClient);
  let repo:
    | { imageTagMutability?: string; imageScanningConfiguration?: { scanOnPush?: boolean } }
    | undefined;
  try {
    repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [r.name] }))).repositories?.[0];
  } catch (e) {
    if (errName(e) !== 'RepositoryNotFoundException') throw e;
  }
  if (!repo)
    return [
      step('ecr-repository', r.name, 'create', ['CreateRepository'], async () => {
        try {
          await ecr.send(new CreateRepositoryCommand(createRepositoryInput(r)));
        } catch (e) {
          if (errName(e) !== 'RepositoryAlreadyExistsException') throw e;
        }
      }),
    ];
  const changes: string[] = [];
  const ops: (() => Promise<unknown>)[] = [];
  if ((repo.imageTagMutability ?? 'MUTABLE') !== r.imageTagMutability) {
    changes.push(`imageTagMutability ${repo.imageTagMutability} → ${r.imageTagMutability}`);
    ops.push(() =>
      ecr.send(
        new PutImageTagMutabilityCommand({
          repositoryName: r.name,
          imageTagMutability: r.imageTagMutability,
        }),
      ),
    );
  }
  if ((repo.imageScanningConfiguration?.scanOnPush ?? false) !== r.scanOnPush) {
    changes.push(`scanOnPush → ${r.scanOnPush}`);
    ops.push(() =>
      ecr.send(
        new PutImageScanningConfigurationCommand({
          repositoryName: r.name,
          imageScanningConfiguration: { scanOnPush: r.scanOnPush },
        }),
      ),
    );
  }
  if (!ops.length) return [step('ecr-repository', r.name, 'no-op')];
  return [
    step('ecr-repository', r.name, 'update', changes, async () => {
      for (const op of ops) await op();
    }),
  ];
}

// --- IAM -------------------------------------------------------------------------------------------------------

async function planIam(ctx: Ctx, policies: IamPolicy[], users: IamUser[]): Promise<Step[]> {
  if (!policies.length && !users.length) return [];
  const iam = await client(ctx, 'iam', IAMClient);
  // Customer-managed policies by name (ListPolicies avoids an STS call to learn the account id).
  const arns = new Map<string, { arn: string; version?: string }>();
  let marker: string | undefined;
  do {
    const res = await iam.send(new ListPoliciesCommand({ Scope: 'Local', Marker: marker, MaxItems: 1000 }));
    for (const p of res.Policies ?? [])
      if (p.PolicyName && p.Arn)
        arns.set(p.PolicyName, {
          arn: p.Arn,
          ...(p.DefaultVersionId ? { version: p.DefaultVersionId } : {}),
        });
    marker = res.IsTruncated ? res.Marker : undefined;
  } while (marker);

  const policySteps: Step[] = [];
  for (const p of policies) {
    const doc = JSON.stringify(p.document);
    const found = arns.get(p.name);
    if (!found) {
      policySteps.push(
        step('iam-policy', p.name, 'create', ['CreatePolicy'], async () => {
          const res = await iam.send(
            new CreatePolicyCommand({
              PolicyName: p.name,
              PolicyDocument: doc,
              ...(p.description ? { Description: p.description } : {}),
            }),
          );
          if (res.Policy?.Arn) arns.set(p.name, { arn: res.Policy.Arn });
        }),
      );
      continue;
    }
    const current = found.version
      ? decodePolicy(
          (await iam.send(new GetPolicyVersionCommand({ PolicyArn: found.arn, VersionId: found.version })))
            .PolicyVersion?.Document,
        )
      : undefined;
    if (canonical(current) === canonical(p.document)) {
      policySteps.push(step('iam-policy', p.name, 'no-op'));
      continue;
    }
    policySteps.push(
      step('iam-policy', p.name, 'update', ['CreatePolicyVersion (set as default)'], async () => {
        // A policy keeps at most 5 versions: drop the oldest non-default one first.
        const versions =
          (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: found.arn }))).Versions ?? [];
        if (versions.length >= 5) {
          const oldest = versions
            .filter((v) => !v.IsDefaultVersion)
            .sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))[0];
          if (oldest?.VersionId)
            await iam.send(
              new DeletePolicyVersionCommand({ PolicyArn: found.arn, VersionId: oldest.VersionId }),
            );
        }
        await iam.send(
          new CreatePolicyVersionCommand({ PolicyArn: found.arn, PolicyDocument: doc, SetAsDefault: true }),
        );
      }),
    );
  }

  const userSteps: Step[] = [];
  for (const u of users) {
    let exists = true;
    try {
      await iam.send(new GetUserCommand({ UserName: u.name }));
    } catch (e) {
      if (errName(e) !== 'NoSuchEntity' && errName(e) !== 'NoSuchEntityException') throw e;
      exists = false;
    }
    const changes: string[] = exists ? [] : ['CreateUser'];
    const ops: (() => Promise<unknown>)[] = [];
    if (!exists)
      ops.push(async () => {
        try {
          await iam.send(
            new CreateUserCommand({
              UserName: u.name,
              ...(Object.keys(u.tags).length ? { Tags: iamTags(u.tags) } : {}),
            }),
          );
        } catch (e) {
          if (errName(e) !== 'EntityAlreadyExists' && errName(e) !== 'EntityAlreadyExistsException') throw e;
        }
      });
    for (const [name, document] of Object.entries(u.inlinePolicies)) {
      let current: unknown;
      if (exists) {
        try {
          current = decodePolicy(
            (await iam.send(new GetUserPolicyCommand({ UserName: u.name, PolicyName: name }))).PolicyDocument,
          );
        } catch (e) {
          if (errName(e) !== 'NoSuchEntity' && errName(e) !== 'NoSuchEntityException') throw e;
        }
      }
      if (canonical(current) !== canonical(document)) {
        changes.push(`PutUserPolicy ${name}`);
        ops.push(() =>
          iam.send(
            new PutUserPolicyCommand({
              UserName: u.name,
              PolicyName: name,
              PolicyDocument: JSON.stringify(document),
            }),
          ),
        );
      }
    }
    const attached = new Set<string>();
    if (exists) {
      const res = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: u.name, MaxItems: 1000 }));
      for (const a of res.AttachedPolicies ?? []) {
        if (a.PolicyArn) attached.add(a.PolicyArn);
        if (a.PolicyName) attached.add(a.PolicyName);
      }
    }
    for (const ref of u.policies) {
      const isArn = ref.startsWith('arn:');
      if (attached.has(ref) || (!isArn && arns.has(ref) && attached.has(arns.get(ref)!.arn))) continue;
      changes.push(`AttachUserPolicy ${ref}`);
      ops.push(async () => {
        const arn = isArn ? ref : arns.get(ref)?.arn;
        if (!arn) throw new Error(`policy ${ref} was not created`);
        await iam.send(new AttachUserPolicyCommand({ UserName: u.name, PolicyArn: arn }));
      });
    }
    userSteps.push(
      ops.length === 0
        ? step('iam-user', u.name, 'no-op')
        : step('iam-user', u.name, exists ? 'update' : 'create', changes, async () => {
            for (const op of ops) await op();
          }),
    );
  }
  // Users attach policies by ARN, so they run after every policy step: one hidden step runs the policies in order,
  // then the users; the policy steps themselves are listed for the plan only.
  if (policySteps.length === 0) return userSteps;
  return [
    ...policySteps.map(({ run: _run, ...rest }) => rest),
    {
      ...step('iam-policy', '(policies)', 'no-op'),
      hidden: true,
      run: async () => {
        for (const p of policySteps) {
          try {
            await p.run?.();
          } catch (e) {
            throw Object.assign(toAwskitError(e), { step: { kind: p.kind, name: p.name } });
          }
        }
      },
      after: userSteps,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------

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
