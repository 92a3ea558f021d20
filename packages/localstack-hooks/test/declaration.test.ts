import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAwskitError } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import {
  DeclarationValidationError,
  defineLocalResources,
  loadDeclaration,
  parseDeclaration,
  parseDeclarationText,
  servicesOf,
} from '../src/index';

const EXAMPLE = fileURLToPath(new URL('../examples/awskit.local.yaml', import.meta.url));

/** Runs `f`, expects a DeclarationValidationError, returns its issues. */
function issuesOf(f: () => unknown) {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DeclarationValidationError);
    return (e as DeclarationValidationError).issues;
  }
  throw new Error('expected a DeclarationValidationError');
}

describe('the shipped example declaration', () => {
  it('declares stream my-event-dev with 1 shard in ap-northeast-2', async () => {
    const d = await loadDeclaration(EXAMPLE);
    expect(d.region).toBe('ap-northeast-2');
    expect(d.kinesis.streams).toEqual([
      {
        name: 'my-event-dev',
        mode: 'provisioned',
        shards: 1,
        retentionHours: 24,
        tags: { team: 'events', env: 'dev' },
        consumers: [],
      },
    ]);
    expect(servicesOf(d)).toEqual(['kinesis']);
  });
});

describe('parseDeclaration', () => {
  it('fills every default', () => {
    const d = parseDeclaration(
      defineLocalResources({
        kinesis: { streams: [{ name: 's1' }, { name: 's2', mode: 'on-demand' }] },
        dynamodb: { tables: [{ name: 'leases', partitionKey: 'leaseKey', sortKey: 'n:N' }] },
        ecr: { repositories: [{ name: 'team/app' }] },
        iam: {
          policies: [{ name: 'p', document: '{"Version":"2012-10-17","Statement":[]}' }],
          users: [{ name: 'u', policies: ['p'] }],
        },
      }),
    );
    expect(d.region).toBe('us-east-1');
    expect(d.kinesis.streams[0]).toMatchObject({ mode: 'provisioned', shards: 1, retentionHours: 24 });
    expect(d.kinesis.streams[1]).not.toHaveProperty('shards');
    expect(d.dynamodb.tables[0]).toEqual({
      name: 'leases',
      partitionKey: { name: 'leaseKey', type: 'S' },
      sortKey: { name: 'n', type: 'N' },
      billing: 'on-demand',
      indexes: [],
      tags: {},
    });
    expect(d.ecr.repositories[0]).toEqual({
      name: 'team/app',
      imageTagMutability: 'MUTABLE',
      scanOnPush: false,
      tags: {},
    });
    expect(d.iam.policies[0]!.document).toEqual({ Version: '2012-10-17', Statement: [] });
    expect(servicesOf(d)).toEqual(['kinesis', 'dynamodb', 'ecr', 'iam', 'sts']);
  });

  it('is idempotent: a normalized declaration validates to itself', () => {
    const once = parseDeclaration({
      region: 'eu-west-1',
      dynamodb: {
        tables: [
          {
            name: 'orders',
            partitionKey: 'id',
            billing: 'provisioned',
            readCapacity: 2,
            writeCapacity: 3,
            indexes: [{ name: 'byCustomer', partitionKey: 'customer' }],
          },
        ],
      },
    });
    expect(parseDeclaration(once)).toEqual(once);
    expect(once.dynamodb.tables[0]!.indexes[0]).toMatchObject({
      readCapacity: 2,
      writeCapacity: 3,
      projection: 'ALL',
    });
  });

  it('reports an unknown resource type with its path and a suggestion', () => {
    const issues = issuesOf(() => parseDeclaration({ kinesis: {}, sqs: { queues: [] }, dynamobd: {} }));
    expect(issues.map((i) => i.path)).toEqual(['sqs', 'dynamobd']);
    expect(issues[0]!.message).toContain("unknown resource type or field 'sqs'");
    expect(issues[1]!.message).toContain("did you mean 'dynamodb'?");
  });

  it('reports bad shard counts precisely', () => {
    const issues = issuesOf(() =>
      parseDeclaration({
        kinesis: {
          streams: [
            { name: 'a', shards: 0 },
            { name: 'b', shards: 1.5 },
            { name: 'c', shards: '2' },
            { name: 'd', mode: 'on-demand', shards: 2 },
          ],
        },
      }),
    );
    expect(issues).toEqual([
      { path: 'kinesis.streams[0].shards', message: 'must be at least 1' },
      { path: 'kinesis.streams[1].shards', message: 'must be a whole number' },
      { path: 'kinesis.streams[2].shards', message: 'must be a number' },
    ]);
    // Cross-field rules run once the structure is valid.
    const onDemand = issuesOf(() =>
      parseDeclaration({ kinesis: { streams: [{ name: 'd', mode: 'on-demand', shards: 2 }] } }),
    );
    expect(onDemand).toEqual([
      {
        path: 'kinesis.streams[0].shards',
        message: expect.stringContaining('must be omitted for an on-demand stream'),
      },
    ]);
  });

  it('reports duplicate names in every collection, together with other problems', () => {
    const issues = issuesOf(() =>
      parseDeclaration({
        region: 'Seoul',
        kinesis: { streams: [{ name: 'x' }, { name: 'x' }] },
        dynamodb: {
          tables: [
            { name: 'tab', partitionKey: 'id' },
            { name: 'tab', partitionKey: 'id' },
          ],
        },
        ecr: { repositories: [{ name: 'r1' }, { name: 'r1' }] },
        iam: { users: [{ name: 'u' }, { name: 'u' }] },
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'region',
        'kinesis.streams[1].name',
        'dynamodb.tables[1].name',
        'ecr.repositories[1].name',
        'iam.users[1].name',
      ].sort(),
    );
    expect(issues.find((i) => i.path === 'kinesis.streams[1].name')!.message).toBe(
      "duplicate stream name 'x' (first declared at kinesis.streams[0])",
    );
  });

  it('checks DynamoDB keys, billing and index attribute types', () => {
    const issues = issuesOf(() =>
      parseDeclaration({
        dynamodb: {
          tables: [
            {
              name: 'events',
              partitionKey: 'id',
              sortKey: { name: 'id', type: 'N' },
              readCapacity: 5,
              indexes: [
                { name: 'byTs', partitionKey: 'ts:N', readCapacity: 1 },
                { name: 'byTs', partitionKey: 'id:B' },
              ],
            },
            { name: 'prov', partitionKey: 'id', billing: 'provisioned' },
          ],
        },
      }),
    );
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "dynamodb.tables[0].sortKey: must differ from the partition key 'id'",
      "dynamodb.tables[0].readCapacity: is only allowed with billing: provisioned (this table is 'on-demand')",
      "dynamodb.tables[0].sortKey: attribute 'id' has type N here but S at dynamodb.tables[0].partitionKey",
      "dynamodb.tables[0].indexes[1].name: duplicate index name 'byTs' (first declared at dynamodb.tables[0].indexes[0])",
      'dynamodb.tables[0].indexes[0].readCapacity: is only allowed on a table with billing: provisioned',
      "dynamodb.tables[0].indexes[1].partitionKey: attribute 'id' has type B here but S at dynamodb.tables[0].partitionKey",
      'dynamodb.tables[1].readCapacity: is required when billing is provisioned',
      'dynamodb.tables[1].writeCapacity: is required when billing is provisioned',
    ]);
  });

  it('checks IAM policy references and documents', () => {
    const issues = issuesOf(() =>
      parseDeclaration({
        iam: {
          policies: [
            { name: 'ok', document: { Version: '2012-10-17' } },
            { name: 'bad', document: '{not json' },
          ],
          users: [{ name: 'u', policies: ['ok', 'missing', 'arn:aws:iam::aws:policy/ReadOnlyAccess'] }],
        },
      }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'iam.policies[0].document.Statement',
      'iam.policies[1].document',
      'iam.users[0].policies[1]',
    ]);
  });

  it('rejects tag characters AWS refuses (a quote), instead of failing mid-apply', () => {
    const issues = issuesOf(() =>
      parseDeclaration({ kinesis: { streams: [{ name: 's', tags: { owner: "o'brien" } }] } }),
    );
    expect(issues).toEqual([
      {
        path: 'kinesis.streams[0].tags.owner',
        message: 'tag values may only contain letters, digits, spaces and _ . : / = + - @',
      },
    ]);
  });

  it('rejects an empty document', () => {
    expect(issuesOf(() => parseDeclarationText('# nothing here\n'))).toEqual([
      { path: '', message: 'is empty; declare at least a region and some resources' },
    ]);
  });
});

describe('parseDeclarationText', () => {
  it('gives every YAML problem with line and column', () => {
    const yaml = [
      'region: ap-northeast-2', // 1
      'kinesis:', // 2
      '  streams:', // 3
      '    - name: my-event-dev', // 4
      '      shards: -1', // 5
      '    - name: my-event-dev', // 6
      '      shard: 2', // 7
      'queues: []', // 8
    ].join('\n');
    let err: DeclarationValidationError | undefined;
    try {
      parseDeclarationText(yaml, { file: 'awskit.local.yaml' });
    } catch (e) {
      err = e as DeclarationValidationError;
    }
    expect(err?.code).toBe('INVALID_DECLARATION');
    expect(err!.issues.map((i) => [i.path, i.line, i.column])).toEqual([
      ['kinesis.streams[0].shards', 5, 15],
      ['kinesis.streams[1].name', 6, 13],
      ['kinesis.streams[1].shard', 7, 7],
      ['queues', 8, 1],
    ]);
    expect(err!.message).toContain('awskit.local.yaml:5:15 kinesis.streams[0].shards: must be at least 1');
    expect(err!.hint).toBeTruthy();
  });

  it('accepts JSON and locates its problems too', () => {
    const json = JSON.stringify(
      { region: 'us-west-2', kinesis: { streams: [{ name: 'a', shards: 0 }] } },
      null,
      2,
    );
    const issues = issuesOf(() => parseDeclarationText(json, { file: 'awskit.local.json' }));
    expect(issues).toEqual([
      { path: 'kinesis.streams[0].shards', message: 'must be at least 1', line: 7, column: 19 },
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    let err: unknown;
    try {
      parseDeclarationText('region: [ap-northeast-2\nkinesis: {}\n', { file: 'x.yaml' });
    } catch (e) {
      err = e;
    }
    expect(isAwskitError(err, 'DECLARATION_PARSE')).toBe(true);
    expect((err as Error).message).toMatch(/x\.yaml:\d+:\d+/);
  });

  it('rejects duplicate keys instead of silently keeping the last one', () => {
    let err: unknown;
    try {
      parseDeclarationText('region: us-east-1\nregion: eu-west-1\n');
    } catch (e) {
      err = e;
    }
    expect(isAwskitError(err, 'DECLARATION_PARSE')).toBe(true);
  });
});

describe('loadDeclaration', () => {
  it('loads a JS module that default-exports defineLocalResources()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-decl-'));
    const file = join(dir, 'awskit.local.mjs');
    await writeFile(
      file,
      "export default { region: 'eu-central-1', kinesis: { streams: [{ name: 'from-js', shards: 2 }] } };\n",
    );
    const d = await loadDeclaration(file);
    expect(d.region).toBe('eu-central-1');
    expect(d.kinesis.streams[0]).toMatchObject({ name: 'from-js', shards: 2 });
  });

  it('says which file is missing', async () => {
    await expect(loadDeclaration('/nonexistent/awskit.local.yaml')).rejects.toMatchObject({
      code: 'DECLARATION_NOT_FOUND',
      message: expect.stringContaining('/nonexistent/awskit.local.yaml'),
    });
  });
});

describe('EXAMPLE_DECLARATION_YAML', () => {
  it('is byte-identical to examples/awskit.local.yaml', async () => {
    const { readFile } = await import('node:fs/promises');
    const { EXAMPLE_DECLARATION_YAML } = await import('../src/index');
    expect(EXAMPLE_DECLARATION_YAML).toBe(await readFile(EXAMPLE, 'utf8'));
  });
});

describe('the commented-out part of the example', () => {
  it('is a valid declaration once uncommented', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(EXAMPLE, 'utf8');
    const start = text.indexOf('# dynamodb:');
    const uncommented = text
      .slice(start)
      .split('\n')
      .map((l) => l.replace(/^# ?/, ''))
      .join('\n');
    const d = parseDeclarationText(`${text.slice(0, start)}${uncommented}`);
    expect(servicesOf(d)).toEqual(['kinesis', 'dynamodb', 'ecr', 'iam', 'sts']);
    expect(d.iam.users[0]!.policies).toEqual(['my-event-dev-producer']);
  });
});
