import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The SDK error's name (`''` when there is none). */
export function errName(e: unknown): string {
  return (e as { name?: string })?.name ?? '';
}

/** How {@link ensureHashKeyTable} calls DynamoDB: the owner's per-call deadline, error wrapping and sleep. */
export interface EnsureTableOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The table's string hash key. */
  hashKey: string;
  deadline: () => { abortSignal: never };
  wrap: (e: unknown, operation: string) => Error;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Thrown when the table never becomes ACTIVE. */
  notActive: () => Error;
  signal?: AbortSignal;
}

/**
 * Creates an on-demand table with a string hash key if it does not exist (another worker creating it at the same
 * moment is fine), then waits until it is ACTIVE. Used for the lease table and the worker table.
 * @returns whether this call created it.
 */
export async function ensureHashKeyTable(o: EnsureTableOptions): Promise<boolean> {
  const describe = () => o.client.send(new DescribeTableCommand({ TableName: o.tableName }), o.deadline());
  let created = false;
  try {
    if ((await describe()).Table?.TableStatus === 'ACTIVE') return false;
  } catch (e) {
    if (errName(e) !== 'ResourceNotFoundException') throw o.wrap(e, 'DescribeTable');
    try {
      await o.client.send(
        new CreateTableCommand({
          TableName: o.tableName,
          AttributeDefinitions: [{ AttributeName: o.hashKey, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: o.hashKey, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
        o.deadline(),
      );
      created = true;
    } catch (e2) {
      // Another worker created it at the same moment.
      if (errName(e2) !== 'ResourceInUseException') throw o.wrap(e2, 'CreateTable');
    }
  }
  for (let i = 0; i < 600; i++) {
    try {
      if ((await describe()).Table?.TableStatus === 'ACTIVE') return created;
    } catch (e) {
      if (errName(e) !== 'ResourceNotFoundException') throw o.wrap(e, 'DescribeTable');
    }
    await o.sleep(Math.min(1000, 25 * 2 ** i), o.signal);
  }
  throw o.notActive();
}
