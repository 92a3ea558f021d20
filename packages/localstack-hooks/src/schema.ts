import { z } from 'zod';

// Name rules are AWS's own (API reference "Constraints" of each Create* call), so a declaration that validates here
// is not rejected later by the service.
const KINESIS_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const DYNAMO_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;
const ECR_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;
const IAM_POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
/** `us-east-1`, `ap-northeast-2`, `us-gov-west-1`, `cn-north-1`, `eu-central-2`... */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

const nameOf = (re: RegExp, what: string) =>
  z.string({ error: 'must be a string' }).regex(re, { error: `is not a valid ${what}` });

// AWS tag character set (Kinesis, DynamoDB, ECR and IAM reject anything else, e.g. a quote, at call time).
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const tags = z
  .record(
    z
      .string()
      .min(1, { error: 'tag keys must not be empty' })
      .max(128, { error: 'tag keys are at most 128 characters' })
      .regex(TAG_CHARS, { error: 'tag keys may only contain letters, digits, spaces and _ . : / = + - @' }),
    z
      .string({ error: 'tag values must be strings (quote numbers and booleans)' })
      .max(256, { error: 'tag values are at most 256 characters' })
      .regex(TAG_CHARS, { error: 'tag values may only contain letters, digits, spaces and _ . : / = + - @' }),
  )
  .refine((t) => Object.keys(t).length <= 50, { error: 'at most 50 tags' });

const capacity = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be at least 1' });

const keyAttr = z.union(
  [
    z.string().regex(/^[^:\s]{1,255}(:[SNB])?$/, { error: "must be 'name' or 'name:S|N|B'" }),
    z.strictObject({
      name: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(255),
      type: z.enum(['S', 'N', 'B'], { error: 'must be S, N or B' }).optional(),
    }),
  ],
  { error: "must be 'name', 'name:S|N|B' or { name, type }" },
);

const policyDocument = z.union([z.string(), z.record(z.string(), z.unknown())], {
  error: 'must be a policy document object or a JSON string',
});

const stream = z.strictObject({
  name: nameOf(KINESIS_NAME, 'Kinesis stream name (1-128 of a-z A-Z 0-9 _ . -)'),
  mode: z.enum(['provisioned', 'on-demand'], { error: "must be 'provisioned' or 'on-demand'" }).optional(),
  shards: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(10_000, { error: 'must be at most 10000' })
    .optional(),
  retentionHours: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number of hours' })
    .min(24, { error: 'must be at least 24 (hours)' })
    .max(8760, { error: 'must be at most 8760 (365 days)' })
    .optional(),
  tags: tags.optional(),
  consumers: z.array(nameOf(KINESIS_NAME, 'consumer name (1-128 of a-z A-Z 0-9 _ . -)')).max(20).optional(),
});

const index = z.strictObject({
  name: nameOf(DYNAMO_NAME, 'index name (3-255 of a-z A-Z 0-9 _ . -)'),
  partitionKey: keyAttr,
  sortKey: keyAttr.optional(),
  projection: z
    .union([z.enum(['ALL', 'KEYS_ONLY']), z.strictObject({ include: z.array(z.string()).min(1).max(20) })], {
      error: "must be 'ALL', 'KEYS_ONLY' or { include: [...] }",
    })
    .optional(),
  readCapacity: capacity.optional(),
  writeCapacity: capacity.optional(),
});

const table = z.strictObject({
  name: nameOf(DYNAMO_NAME, 'DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)'),
  partitionKey: keyAttr,
  sortKey: keyAttr.optional(),
  billing: z.enum(['on-demand', 'provisioned'], { error: "must be 'on-demand' or 'provisioned'" }).optional(),
  readCapacity: capacity.optional(),
  writeCapacity: capacity.optional(),
  indexes: z.array(index).max(20, { error: 'at most 20 global secondary indexes' }).optional(),
  tags: tags.optional(),
});

const repository = z.strictObject({
  name: z
    .string({ error: 'must be a string' })
    .min(2, { error: 'must be at least 2 characters' })
    .max(256, { error: 'must be at most 256 characters' })
    .regex(ECR_NAME, { error: 'is not a valid ECR repository name (lowercase, e.g. team/app-name)' }),
  imageTagMutability: z
    .enum(['MUTABLE', 'IMMUTABLE'], { error: "must be 'MUTABLE' or 'IMMUTABLE'" })
    .optional(),
  scanOnPush: z.boolean({ error: 'must be true or false' }).optional(),
  tags: tags.optional(),
});

const policy = z.strictObject({
  name: nameOf(IAM_POLICY_NAME, 'IAM policy name'),
  description: z.string().max(1000).optional(),
  document: policyDocument,
});

const user = z.strictObject({
  name: nameOf(IAM_USER_NAME, 'IAM user name (1-64 of letters, digits and +=,.@_-)'),
  policies: z.array(z.string()).optional(),
  inlinePolicies: z.record(nameOf(IAM_POLICY_NAME, 'inline policy name'), policyDocument).optional(),
  tags: tags.optional(),
});

/** Structural schema of a declaration (shapes, ranges, names). Cross-field rules live in `declaration.ts`. */
export const declarationSchema = z.strictObject({
  version: z.literal(1, { error: 'must be 1 (the only declaration version so far)' }).optional(),
  region: z
    .string({ error: 'must be a string' })
    .regex(REGION_PATTERN, { error: 'is not an AWS region name (e.g. ap-northeast-2)' })
    .optional(),
  kinesis: z.strictObject({ streams: z.array(stream).optional() }).optional(),
  dynamodb: z.strictObject({ tables: z.array(table).optional() }).optional(),
  ecr: z.strictObject({ repositories: z.array(repository).optional() }).optional(),
  iam: z.strictObject({ policies: z.array(policy).optional(), users: z.array(user).optional() }).optional(),
});

/** Field names allowed at each object level, for "did you mean" hints on unknown fields. */
export const KNOWN_FIELDS: Record<string, readonly string[]> = {
  '': Object.keys(declarationSchema.shape),
  kinesis: ['streams'],
  'kinesis.streams[]': Object.keys(stream.shape),
  dynamodb: ['tables'],
  'dynamodb.tables[]': Object.keys(table.shape),
  'dynamodb.tables[].indexes[]': Object.keys(index.shape),
  ecr: ['repositories'],
  'ecr.repositories[]': Object.keys(repository.shape),
  iam: ['policies', 'users'],
  'iam.policies[]': Object.keys(policy.shape),
  'iam.users[]': Object.keys(user.shape),
};
