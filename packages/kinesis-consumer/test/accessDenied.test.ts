import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ConsumerAccessDeniedError, KinesisConsumer } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';

// The local emulators accept any credentials, so missing permissions are simulated with clients that answer
// like AWS does (unit tests only; integration tests never fake clients).
const denied = {
  send: async () => {
    throw Object.assign(new Error('User is not authorized to perform: dynamodb:Scan'), {
      name: 'AccessDeniedException',
    });
  },
};

describe('missing permissions', () => {
  it('a lease-table call without permission is a ConsumerAccessDeniedError with a hint listing the needed actions', async () => {
    const table = new LeaseTable({
      client: denied as unknown as DynamoDBClient,
      tableName: 'app',
      sleep: async () => {},
    });
    const e = await table.listLeases().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConsumerAccessDeniedError);
    expect((e as ConsumerAccessDeniedError).hint).toContain('dynamodb:');
  });

  it('start() without kinesis:DescribeStreamSummary fails with ConsumerAccessDeniedError', async () => {
    const w = new KinesisConsumer({
      streamName: 's',
      applicationName: 'app',
      processor: () => {},
      kinesisClient: denied as unknown as KinesisClient,
      dynamoClient: denied as unknown as DynamoDBClient,
    });
    await expect(w.start()).rejects.toBeInstanceOf(ConsumerAccessDeniedError);
  });
});
