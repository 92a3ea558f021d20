import { CoreErrorCode } from '@awskit/core';
import { EcrAuthErrorCode } from '@awskit/ecr-auth';
import { IamRotationErrorCode } from '@awskit/iam-rotation';
import { KclMultiLangErrorCode } from '@awskit/kcl-multilang';
import { KinesisAggregationErrorCode } from '@awskit/kinesis-aggregation';
import { KinesisConsumerErrorCode } from '@awskit/kinesis-consumer';
import { KinesisProducerErrorCode } from '@awskit/kinesis-producer';
import { LocalAwsErrorCode } from '@awskit/local';
import { LocalstackHooksErrorCode } from '@awskit/localstack-hooks';
import { ServerErrorCode } from '@awskit/server';
import { describe, expect, it } from 'vitest';

/** Every package's code enum, through its public entry point (as a user imports it). */
const ENUMS: Record<string, Record<string, string>> = {
  '@awskit/core': CoreErrorCode,
  '@awskit/ecr-auth': EcrAuthErrorCode,
  '@awskit/iam-rotation': IamRotationErrorCode,
  '@awskit/kcl-multilang': KclMultiLangErrorCode,
  '@awskit/kinesis-aggregation': KinesisAggregationErrorCode,
  '@awskit/kinesis-consumer': KinesisConsumerErrorCode,
  '@awskit/kinesis-producer': KinesisProducerErrorCode,
  '@awskit/local': LocalAwsErrorCode,
  '@awskit/localstack-hooks': LocalstackHooksErrorCode,
  '@awskit/server': ServerErrorCode,
};

describe('error codes', () => {
  it('no code value is used by two packages (isAwskitError(e, code) names one package)', () => {
    const owners = new Map<string, Set<string>>();
    for (const [pkg, codes] of Object.entries(ENUMS))
      for (const code of Object.values(codes)) owners.set(code, (owners.get(code) ?? new Set()).add(pkg));
    const shared = [...owners]
      .filter(([, pkgs]) => pkgs.size > 1)
      .map(([code, pkgs]) => `${code}: ${[...pkgs].join(', ')}`);
    expect(shared).toEqual([]);
  });

  it('every code is SCREAMING_SNAKE_CASE', () => {
    for (const codes of Object.values(ENUMS))
      for (const code of Object.values(codes)) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it('the CLI usage code is not a package code', () => {
    for (const codes of Object.values(ENUMS)) expect(Object.values(codes)).not.toContain('USAGE');
  });
});
