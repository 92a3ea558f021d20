import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type TableDescription,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { LocalstackHooksError, LocalstackHooksErrorCode } from '../errors';
import { createTableInput } from '../requests';
import type { DynamoTable } from '../types';
import { type Ctx, client, errName, type Step, step } from './steps';

function keyDescription(
  keys: { AttributeName?: string; KeyType?: string }[] | undefined,
  types: Map<string, string>,
) {
  return (keys ?? [])
    .map((k) => `${k.AttributeName}(${types.get(k.AttributeName ?? '') ?? '?'}) ${k.KeyType}`)
    .join(', ');
}

export async function planTable(ctx: Ctx, t: DynamoTable): Promise<Step[]> {
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
