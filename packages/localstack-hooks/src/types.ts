/**
 * The declaration: what a project's local AWS should contain. Users write {@link LocalResourcesInput} (YAML, JSON or
 * `defineLocalResources({...})`); validation turns it into the normalized {@link LocalResources} every generator,
 * `plan` and `apply` work from.
 */

/** Attribute type of a DynamoDB key: string, number or binary. */
export type KeyType = 'S' | 'N' | 'B';

/** A DynamoDB key attribute: `{ name: 'id', type: 'S' }`, or the shorthand `'id'` (type S) / `'id:N'`. */
export type KeyAttributeInput = string | { name: string; type?: KeyType };

/** A normalized DynamoDB key attribute. */
export interface KeyAttribute {
  name: string;
  type: KeyType;
}

/** An IAM policy document (`{ Version, Statement }`), as an object or a JSON string. */
export type PolicyDocumentInput = string | Record<string, unknown>;

/** A Kinesis data stream as written in the declaration. */
export interface KinesisStreamInput {
  /** Stream name: 1–128 of `a-z A-Z 0-9 _ . -`. */
  name: string;
  /** Capacity mode. @default 'provisioned' */
  mode?: 'provisioned' | 'on-demand';
  /** Open shard count (provisioned only; must be omitted for on-demand). @default 1 */
  shards?: number;
  /** Retention in hours, 24–8760. @default 24 */
  retentionHours?: number;
  /** Tags (added or overwritten; tags not declared are left alone). @default {} */
  tags?: Record<string, string>;
  /** Enhanced fan-out consumer names to register on the stream. @default [] */
  consumers?: string[];
}

/** A global secondary index as written in the declaration. */
export interface DynamoIndexInput {
  name: string;
  partitionKey: KeyAttributeInput;
  sortKey?: KeyAttributeInput;
  /** Projected attributes: `ALL`, `KEYS_ONLY`, or `{ include: [...] }`. @default 'ALL' */
  projection?: 'ALL' | 'KEYS_ONLY' | { include: string[] };
  /** Provisioned read capacity (provisioned tables only). @default the table's */
  readCapacity?: number;
  /** Provisioned write capacity (provisioned tables only). @default the table's */
  writeCapacity?: number;
}

/** A DynamoDB table as written in the declaration. */
export interface DynamoTableInput {
  /** Table name: 3–255 of `a-z A-Z 0-9 _ . -`. */
  name: string;
  partitionKey: KeyAttributeInput;
  sortKey?: KeyAttributeInput;
  /** Billing mode. @default 'on-demand' */
  billing?: 'on-demand' | 'provisioned';
  /** Read capacity units; required for provisioned tables, forbidden for on-demand ones. */
  readCapacity?: number;
  /** Write capacity units; required for provisioned tables, forbidden for on-demand ones. */
  writeCapacity?: number;
  /** Global secondary indexes (at most 20). @default [] */
  indexes?: DynamoIndexInput[];
  /** Tags set at creation. @default {} */
  tags?: Record<string, string>;
}

/** An ECR repository as written in the declaration. */
export interface EcrRepositoryInput {
  /** Repository name, e.g. `team/app` (lowercase, 2–256 characters). */
  name: string;
  /** @default 'MUTABLE' */
  imageTagMutability?: 'MUTABLE' | 'IMMUTABLE';
  /** @default false */
  scanOnPush?: boolean;
  /** Tags set at creation. @default {} */
  tags?: Record<string, string>;
}

/** A customer-managed IAM policy as written in the declaration. */
export interface IamPolicyInput {
  name: string;
  description?: string;
  document: PolicyDocumentInput;
}

/** An IAM user as written in the declaration. */
export interface IamUserInput {
  name: string;
  /** Managed policies to attach: names of policies declared under `iam.policies`, or full ARNs. @default [] */
  policies?: string[];
  /** Inline policies by name. @default {} */
  inlinePolicies?: Record<string, PolicyDocumentInput>;
  /** Tags set at creation. @default {} */
  tags?: Record<string, string>;
}

/** The whole declaration as a user writes it (`awskit.local.yaml`, JSON, or `defineLocalResources`). */
export interface LocalResourcesInput {
  /** Declaration format version. @default 1 */
  version?: 1;
  /** Region the resources live in. @default 'us-east-1' */
  region?: string;
  kinesis?: { streams?: KinesisStreamInput[] };
  dynamodb?: { tables?: DynamoTableInput[] };
  ecr?: { repositories?: EcrRepositoryInput[] };
  iam?: { policies?: IamPolicyInput[]; users?: IamUserInput[] };
}

/** A normalized Kinesis stream. `shards` is set exactly when `mode` is `provisioned`. */
export interface KinesisStream {
  name: string;
  mode: 'provisioned' | 'on-demand';
  shards?: number;
  retentionHours: number;
  tags: Record<string, string>;
  consumers: string[];
}

/** A normalized global secondary index. */
export interface DynamoIndex {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  projection: 'ALL' | 'KEYS_ONLY' | { include: string[] };
  readCapacity?: number;
  writeCapacity?: number;
}

/** A normalized DynamoDB table. Capacities are set exactly when `billing` is `provisioned`. */
export interface DynamoTable {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  billing: 'on-demand' | 'provisioned';
  readCapacity?: number;
  writeCapacity?: number;
  indexes: DynamoIndex[];
  tags: Record<string, string>;
}

/** A normalized ECR repository. */
export interface EcrRepository {
  name: string;
  imageTagMutability: 'MUTABLE' | 'IMMUTABLE';
  scanOnPush: boolean;
  tags: Record<string, string>;
}

/** A normalized IAM policy; `document` is always an object. */
export interface IamPolicy {
  name: string;
  description?: string;
  document: Record<string, unknown>;
}

/** A normalized IAM user. */
export interface IamUser {
  name: string;
  policies: string[];
  inlinePolicies: Record<string, Record<string, unknown>>;
  tags: Record<string, string>;
}

/** A validated, normalized declaration: every default filled in. */
export interface LocalResources {
  version: 1;
  region: string;
  kinesis: { streams: KinesisStream[] };
  dynamodb: { tables: DynamoTable[] };
  ecr: { repositories: EcrRepository[] };
  iam: { policies: IamPolicy[]; users: IamUser[] };
}

/** AWS services a declaration can use (LocalStack service names). */
export type DeclaredService = 'kinesis' | 'dynamodb' | 'ecr' | 'iam' | 'sts';
