import type { DynamoTable, EcrRepository, KeyAttribute } from './types';

// Request bodies shared by the generated shell script (`--cli-input-json`) and the SDK `apply`, so both create
// exactly the same resources.

const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** The CreateTable input for a declared table. */
export function createTableInput(t: DynamoTable) {
  const attrs = new Map<string, KeyAttribute['type']>();
  const keySchema = (pk: KeyAttribute, sk?: KeyAttribute) => {
    attrs.set(pk.name, pk.type);
    if (sk) attrs.set(sk.name, sk.type);
    return [
      { AttributeName: pk.name, KeyType: 'HASH' as const },
      ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
    ];
  };
  const KeySchema = keySchema(t.partitionKey, t.sortKey);
  const provisioned = t.billing === 'provisioned';
  const GlobalSecondaryIndexes = t.indexes.map((ix) => ({
    IndexName: ix.name,
    KeySchema: keySchema(ix.partitionKey, ix.sortKey),
    Projection:
      typeof ix.projection === 'string'
        ? { ProjectionType: ix.projection }
        : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: ix.projection.include },
    ...(provisioned
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: ix.readCapacity!,
            WriteCapacityUnits: ix.writeCapacity!,
          },
        }
      : {}),
  }));
  return {
    TableName: t.name,
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema,
    BillingMode: provisioned ? ('PROVISIONED' as const) : ('PAY_PER_REQUEST' as const),
    ...(provisioned
      ? {
          ProvisionedThroughput: { ReadCapacityUnits: t.readCapacity!, WriteCapacityUnits: t.writeCapacity! },
        }
      : {}),
    ...(GlobalSecondaryIndexes.length ? { GlobalSecondaryIndexes } : {}),
    ...(Object.keys(t.tags).length ? { Tags: tagList(t.tags) } : {}),
  };
}

/** The CreateRepository input for a declared repository. */
export function createRepositoryInput(r: EcrRepository) {
  return {
    repositoryName: r.name,
    imageTagMutability: r.imageTagMutability,
    imageScanningConfiguration: { scanOnPush: r.scanOnPush },
    ...(Object.keys(r.tags).length ? { tags: tagList(r.tags) } : {}),
  };
}

/** IAM tag list. */
export const iamTags = tagList;
