/** The AWS services awskit builds clients for. */
export const ServiceId = {
  Kinesis: 'kinesis',
  DynamoDB: 'dynamodb',
  IAM: 'iam',
  STS: 'sts',
  ECR: 'ecr',
  ECRPublic: 'ecrpublic',
} as const;
export type ServiceId = (typeof ServiceId)[keyof typeof ServiceId];

interface ServiceInfo {
  /** Suffix of the `AWS_ENDPOINT_URL_<SERVICE>` variable (the SDK's service id, upper snake case). */
  envSuffix: string;
  /** Key inside a shared-config `[services name]` section. */
  configKey: string;
  /** The SDK v3 client class name, used to infer the service from a client constructor. */
  clientName: string;
  /** Global services sign in one region whatever the profile says. */
  signingRegion?: string;
}

/** Per-service facts used by endpoint resolution. */
export const SERVICES: Readonly<Record<ServiceId, ServiceInfo>> = {
  kinesis: { envSuffix: 'KINESIS', configKey: 'kinesis', clientName: 'KinesisClient' },
  dynamodb: { envSuffix: 'DYNAMODB', configKey: 'dynamodb', clientName: 'DynamoDBClient' },
  iam: { envSuffix: 'IAM', configKey: 'iam', clientName: 'IAMClient', signingRegion: 'us-east-1' },
  sts: { envSuffix: 'STS', configKey: 'sts', clientName: 'STSClient' },
  ecr: { envSuffix: 'ECR', configKey: 'ecr', clientName: 'ECRClient' },
  ecrpublic: {
    envSuffix: 'ECR_PUBLIC',
    configKey: 'ecr_public',
    clientName: 'ECRPUBLICClient',
    signingRegion: 'us-east-1',
  },
};

/** Infers the service from an SDK client constructor (`KinesisClient` → `kinesis`). */
export function serviceOfClient(ctor: { name: string }): ServiceId | undefined {
  // Bundlers rename clashing classes with a numeric suffix (esbuild: `KinesisClient2`); the name still tells.
  const name = ctor.name.replace(/\d+$/, '');
  for (const [id, info] of Object.entries(SERVICES)) if (info.clientName === name) return id as ServiceId;
  return undefined;
}
