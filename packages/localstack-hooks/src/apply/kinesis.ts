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
import type { KinesisStream } from '../types';
import { type Ctx, client, errName, type Step, step } from './steps';

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

export async function planStream(ctx: Ctx, s: KinesisStream): Promise<Step[]> {
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
