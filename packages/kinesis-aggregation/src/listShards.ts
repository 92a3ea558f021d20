import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { timeoutSignal } from '@awskit/core';

/** Options of {@link listShards}. */
export interface ListShardsOptions {
  /** Aborts the listing (every page call listens to it). */
  signal?: AbortSignal;
  /** Longest one ListShards page call may take; unset: the client's own timeouts. */
  callTimeoutMs?: number;
  /** Shards per page (`MaxResults`, 1-10000); unset: the service default (1000 on AWS). */
  maxResults?: number;
}

function callOptions(o: ListShardsOptions): { abortSignal?: never } {
  const abortSignal = o.callTimeoutMs !== undefined ? timeoutSignal(o.callTimeoutMs, o.signal) : o.signal;
  // The SDK's AbortSignal type predates the DOM one; they are the same object at run time.
  return abortSignal ? { abortSignal: abortSignal as never } : {};
}

/**
 * Every shard of a stream, open and closed, following `NextToken` over all pages (ListShards returns at most one
 * page per call). No `ShardFilter`: not every emulator supports it, so callers filter (an open shard has no
 * `SequenceNumberRange.EndingSequenceNumber`).
 *
 * @param stream - The stream's name or its ARN (the ARN wins when both are given).
 * @throws the SDK's error (ResourceNotFoundException, LimitExceededException...) unchanged.
 * @example
 * const shards = await listShards(kinesis, { streamName: 'orders' });
 * const map = new ShardMap(shards.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber));
 */
export async function listShards(
  kinesis: KinesisClient,
  stream: { streamName?: string; streamARN?: string },
  options: ListShardsOptions = {},
): Promise<Shard[]> {
  const shards: Shard[] = [];
  const first = stream.streamARN ? { StreamARN: stream.streamARN } : { StreamName: stream.streamName };
  const page = options.maxResults !== undefined ? { MaxResults: options.maxResults } : {};
  let token: string | undefined;
  do {
    const r = await kinesis.send(
      new ListShardsCommand(token ? { NextToken: token, ...page } : { ...first, ...page }),
      callOptions(options),
    );
    shards.push(...(r.Shards ?? []));
    token = r.NextToken;
  } while (token);
  return shards;
}
