import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  COMPOSE_HEALTHCHECK,
  composeImageWarnings,
  generateCompose,
  generateDockerfile,
  generateReadyScript,
  LOCALSTACK_FREE_IMAGE,
  loadDeclaration,
  localStackImage,
  localStackImageWarning,
  parseDeclaration,
  parseDeclarationText,
  writeInitFiles,
} from '../src/index';
import { readyScriptName, shellQuote } from '../src/readyScript';

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../examples/awskit.local.yaml', import.meta.url));

const everything = parseDeclaration({
  region: 'ap-northeast-2',
  kinesis: {
    streams: [
      {
        name: 'my-event-dev',
        shards: 2,
        retentionHours: 48,
        tags: { owner: 'o brien' },
        consumers: ['efo-1'],
      },
      { name: 'on-demand-dev', mode: 'on-demand' },
    ],
  },
  dynamodb: {
    tables: [
      { name: 'leases', partitionKey: 'leaseKey', indexes: [{ name: 'byOwner', partitionKey: 'owner' }] },
    ],
  },
  ecr: { repositories: [{ name: 'team/app', imageTagMutability: 'IMMUTABLE' }] },
  iam: {
    policies: [
      {
        name: 'producer',
        description: "it's the producer",
        document: { Version: '2012-10-17', Statement: [] },
      },
    ],
    users: [
      {
        name: 'ci',
        policies: ['producer'],
        inlinePolicies: { extra: { Version: '2012-10-17', Statement: [] } },
      },
    ],
  },
});

describe('generateReadyScript', () => {
  it('starts with a bash shebang, uses strict mode and has LF endings only', () => {
    const script = generateReadyScript(everything);
    expect(script.split('\n')[0]).toBe('#!/usr/bin/env bash');
    expect(script).toContain('\nset -euo pipefail\n');
    expect(script).not.toContain('\r');
    expect(script.endsWith('\n')).toBe(true);
  });

  it('is valid bash (bash -n) even with quotes in names, tags and descriptions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-script-'));
    const file = join(dir, 'hook.sh');
    await writeFile(file, generateReadyScript(everything));
    await expect(run('bash', ['-n', file])).resolves.toBeDefined();
  });

  it('creates each declared resource kind with the declared region as default', () => {
    const script = generateReadyScript(everything);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion
    expect(script).toContain('AWSKIT_REGION="${AWSKIT_REGION:-ap-northeast-2}"');
    expect(script).toContain("ensure_stream 'my-event-dev' PROVISIONED '2' 48");
    expect(script).toContain("ensure_stream 'on-demand-dev' ON_DEMAND '' 24");
    expect(script).toContain(`tag_new_stream 'my-event-dev' '{"owner":"o brien"}'`);
    expect(script).toContain("ensure_consumer 'my-event-dev' 'efo-1'");
    expect(script).toMatch(/ensure_table 'leases' '\{"TableName":"leases",.*"GlobalSecondaryIndexes"/);
    expect(script).toContain(`ensure_repository 'team/app'`);
    expect(script).toContain(
      `ensure_policy 'producer' '{"Version":"2012-10-17","Statement":[]}' 'it'\\''s the producer'`,
    );
    expect(script).toContain("attach_user_policy 'ci' 'producer'");
    expect(script).toContain("put_user_policy 'ci' 'extra'");
  });

  it('matches the snapshot for the shipped example', async () => {
    expect(generateReadyScript(await loadDeclaration(EXAMPLE))).toMatchSnapshot();
  });

  it('fails with a clear message and exit 127 when the aws CLI is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-noaws-'));
    const file = join(dir, readyScriptName());
    await writeFile(file, generateReadyScript(everything), { mode: 0o755 });
    // An empty PATH: no aws, no awslocal (bash itself is invoked by absolute path).
    const err = await run('/bin/bash', [file], { env: { PATH: join(dir, 'empty-bin') } }).then(
      () => undefined,
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(err?.code).toBe(127);
    expect(err?.stderr).toContain('the aws CLI is not on PATH');
    expect(err?.stderr).toContain('npx awskit localstack apply');
    expect(err?.stdout).toBe('');
  });

  it('names hooks NN-awskit.sh so they sort lexicographically', () => {
    expect(readyScriptName()).toBe('50-awskit.sh');
    expect(readyScriptName(5)).toBe('05-awskit.sh');
  });

  it('quotes strings for bash', () => {
    expect(shellQuote("a'b $c")).toBe(`'a'\\''b $c'`);
  });
});

describe('generateCompose', () => {
  it('matches the snapshot for the shipped example', async () => {
    expect(generateCompose(await loadDeclaration(EXAMPLE))).toMatchSnapshot();
  });

  it('parses as YAML with the ports, ready.d mount, derived SERVICES and a healthcheck', async () => {
    const doc = parse(generateCompose(everything, { persistence: true }));
    const ls = doc.services.localstack;
    expect(ls.image).toBe('localstack/localstack:4.14.0');
    expect(ls.ports).toEqual(['127.0.0.1:4566:4566', '127.0.0.1:4510-4559:4510-4559']);
    expect(ls.volumes).toEqual([
      './init/ready.d:/etc/localstack/init/ready.d:ro',
      './volume:/var/lib/localstack',
    ]);
    expect(ls.environment).toMatchObject({
      SERVICES: 'kinesis,dynamodb,ecr,iam,sts',
      AWS_DEFAULT_REGION: 'ap-northeast-2',
      PERSISTENCE: '1',
    });
    expect(ls.healthcheck.test).toEqual(['CMD-SHELL', COMPOSE_HEALTHCHECK]);
    expect(ls.healthcheck.test[1]).toContain('/_localstack/health');
    expect(ls.healthcheck.test[1]).toContain('/_localstack/init/ready');
  });

  it('leaves persistence off by default and only lists used services', async () => {
    const doc = parse(generateCompose(await loadDeclaration(EXAMPLE)));
    const ls = doc.services.localstack;
    expect(ls.environment.SERVICES).toBe('kinesis');
    expect(ls.environment).not.toHaveProperty('PERSISTENCE');
    expect(ls.volumes).toHaveLength(1);
  });

  it('has a healthcheck that accepts both compact and spaced JSON from /_localstack/init/ready', async () => {
    const grep = COMPOSE_HEALTHCHECK.split('| ')[1]!;
    for (const [body, ok] of [
      ['{"completed": true, "scripts": []}', true],
      ['{"completed":true,"scripts":[]}', true],
      ['{"completed": false, "scripts": []}', false],
    ] as const) {
      const res = await run('sh', ['-c', `printf '%s' '${body}' | ${grep}`]).then(
        () => true,
        () => false,
      );
      expect(res).toBe(ok);
    }
  });
});

describe('bake: hooks copied into an image with COPY --chmod=755', () => {
  it('builds from Dockerfile.localstack instead of mounting ready.d', async () => {
    const doc = parse(generateCompose(await loadDeclaration(EXAMPLE), { bake: true, persistence: true }));
    const ls = doc.services.localstack;
    expect(ls.build).toEqual({ context: '.', dockerfile: 'Dockerfile.localstack' });
    expect(ls).not.toHaveProperty('image');
    expect(ls.volumes).toEqual(['./volume:/var/lib/localstack']);
    expect(generateDockerfile({ initDir: './init' })).toBe(
      [
        '# Generated by awskit (@awskit/localstack-hooks). Regenerate with `awskit localstack init --bake`.',
        'FROM localstack/localstack:4.14.0',
        'COPY --chmod=755 init/ready.d/ /etc/localstack/init/ready.d/',
        '',
      ].join('\n'),
    );
  });

  it('writeInitFiles writes the Dockerfile next to the compose file', async () => {
    const out = await mkdtemp(join(tmpdir(), 'awskit-init-'));
    const r = await writeInitFiles({
      resources: await loadDeclaration(EXAMPLE),
      outDir: out,
      compose: { bake: true },
    });
    expect(r.files.map((f) => f.kind)).toEqual(['ready-hook', 'compose', 'dockerfile']);
    expect(await readFile(join(out, 'Dockerfile.localstack'), 'utf8')).toContain(
      'COPY --chmod=755 init/ready.d/ /etc/localstack/init/ready.d/',
    );
  });
});

describe('writeInitFiles', () => {
  it('writes an executable hook and the compose file, and is a no-op the second time', async () => {
    const out = await mkdtemp(join(tmpdir(), 'awskit-init-'));
    const resources = await loadDeclaration(EXAMPLE);
    const first = await writeInitFiles({ resources, outDir: out });
    const hook = join(out, 'init', 'ready.d', '50-awskit.sh');
    expect(first.files.map((f) => [f.path, f.changed])).toEqual([
      [hook, true],
      [join(out, 'docker-compose.yml'), true],
    ]);
    expect((await stat(hook)).mode & 0o777).toBe(0o755);
    expect(first.initDir).toBe(join(out, 'init'));
    expect(first.warnings).toEqual([]);
    const second = await writeInitFiles({ resources, outDir: out });
    expect(second.files.every((f) => !f.changed)).toBe(true);
  });

  it('repairs a lost exec bit on an unchanged hook', async () => {
    const out = await mkdtemp(join(tmpdir(), 'awskit-init-'));
    const resources = await loadDeclaration(EXAMPLE);
    await writeInitFiles({ resources, outDir: out, compose: false });
    const hook = join(out, 'init', 'ready.d', '50-awskit.sh');
    await chmod(hook, 0o644);
    await writeInitFiles({ resources, outDir: out, compose: false });
    expect((await stat(hook)).mode & 0o777).toBe(0o755);
  });

  it('refuses to replace a hand-written compose file unless told to', async () => {
    const out = await mkdtemp(join(tmpdir(), 'awskit-init-'));
    await writeFile(join(out, 'docker-compose.yml'), 'services: {}\n');
    const resources = await loadDeclaration(EXAMPLE);
    await expect(writeInitFiles({ resources, outDir: out })).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    expect(await readFile(join(out, 'docker-compose.yml'), 'utf8')).toBe('services: {}\n');
    await writeInitFiles({ resources, outDir: out, overwrite: true });
    expect(await readFile(join(out, 'docker-compose.yml'), 'utf8')).toContain('Generated by awskit');
  });

  it('warns that ECR needs LocalStack Pro', async () => {
    const out = await mkdtemp(join(tmpdir(), 'awskit-init-'));
    const r = await writeInitFiles({ resources: everything, outDir: out, order: 10 });
    expect(r.files[0]!.path).toBe(join(out, 'init', 'ready.d', '10-awskit.sh'));
    expect(r.warnings.join()).toContain('LocalStack Pro');
  });
});

describe('CRLF declarations (written on Windows)', () => {
  it('parse, and the generated hook still has LF endings only', () => {
    const crlf =
      'region: ap-northeast-2\r\nkinesis:\r\n  streams:\r\n    - name: my-event-dev\r\n      shards: 1\r\n';
    const script = generateReadyScript(parseDeclarationText(crlf));
    expect(script).not.toContain('\r');
    expect(script).toContain("ensure_stream 'my-event-dev' PROVISIONED '1' 24\n");
  });
});

describe("LocalStack's licence change (images after 4.14.0 and latest need LOCALSTACK_AUTH_TOKEN)", () => {
  it('pins the last image that starts without an account and passes a token through when the user has one', async () => {
    expect(LOCALSTACK_FREE_IMAGE).toBe('localstack/localstack:4.14.0');
    const ls = parse(generateCompose(await loadDeclaration(EXAMPLE))).services.localstack;
    expect(ls.image).toBe(LOCALSTACK_FREE_IMAGE);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation
    expect(ls.environment.LOCALSTACK_AUTH_TOKEN).toBe('${LOCALSTACK_AUTH_TOKEN:-}');
    const chosen = parse(
      generateCompose(await loadDeclaration(EXAMPLE), { image: 'localstack/localstack:2026.03' }),
    );
    expect(chosen.services.localstack.image).toBe('localstack/localstack:2026.03');
  });

  it('warns about an unpinned, latest or post-4.14.0 image without a token, and only then', () => {
    for (const image of [
      'localstack/localstack',
      'localstack/localstack:latest',
      'localstack/localstack:4',
      'localstack/localstack:4.15.0',
      'localstack/localstack-pro:4.14.0',
      'registry.example.com:5000/localstack/localstack',
    ])
      expect(localStackImageWarning(image), image).toMatch(/LOCALSTACK_AUTH_TOKEN/);
    for (const image of [
      'localstack/localstack:4.14.0',
      'localstack/localstack:3.8.1',
      'registry.example.com:5000/localstack/localstack:4.14.0',
      'localstack/localstack@sha256:0123456789abcdef',
    ])
      expect(localStackImageWarning(image), image).toBeUndefined();
    expect(localStackImageWarning('localstack/localstack:latest', { authToken: 'ls-xyz' })).toBeUndefined();
    expect(localStackImageWarning('localstack/localstack:latest')).toContain(
      '"localstack/localstack:latest"',
    );
  });

  it('takes a bare tag as a tag of localstack/localstack (the explicit choice of the current image)', async () => {
    expect(localStackImage('latest')).toBe('localstack/localstack:latest');
    expect(localStackImage('2026.03')).toBe('localstack/localstack:2026.03');
    expect(localStackImage('localstack/localstack-pro:latest')).toBe('localstack/localstack-pro:latest');
    const resources = await loadDeclaration(EXAMPLE);
    expect(parse(generateCompose(resources, { image: 'latest' })).services.localstack.image).toBe(
      'localstack/localstack:latest',
    );
    expect(generateDockerfile({ image: 'latest' })).toContain('FROM localstack/localstack:latest\n');
  });

  it('writeInitFiles warns (one line, what to do) about a latest image only when no token is set', async () => {
    const resources = await loadDeclaration(EXAMPLE);
    const out = await mkdtemp(join(tmpdir(), 'awskit-init-'));
    const pinned = await writeInitFiles({ resources, outDir: out, env: {} });
    expect(pinned.warnings).toEqual([]);
    const latest = await writeInitFiles({ resources, outDir: out, compose: { image: 'latest' }, env: {} });
    expect(latest.warnings).toHaveLength(1);
    expect(latest.warnings[0]).not.toContain('\n');
    expect(latest.warnings[0]).toMatch(/LOCALSTACK_AUTH_TOKEN.*pin localstack\/localstack:4\.14\.0/);
    const withToken = await writeInitFiles({
      resources,
      outDir: out,
      compose: { image: 'latest' },
      env: { LOCALSTACK_AUTH_TOKEN: 'ls-secret' },
    });
    expect(withToken.warnings).toEqual([]);
    const written = await readFile(join(out, 'docker-compose.yml'), 'utf8');
    expect(composeImageWarnings(written)).toHaveLength(1);
    expect(written).not.toContain('ls-secret');
  });

  it('the generated compose file parses with PyYAML too, the token interpolation left for compose', async () => {
    const yaml = generateCompose(everything, { persistence: true });
    const file = join(await mkdtemp(join(tmpdir(), 'awskit-compose-')), 'docker-compose.yml');
    await writeFile(file, yaml);
    const script = 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))';
    const doc = JSON.parse((await run('python3', ['-c', script, file])).stdout);
    expect(doc).toEqual(parse(yaml));
    expect(doc.services.localstack.image).toBe('localstack/localstack:4.14.0');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation
    expect(doc.services.localstack.environment.LOCALSTACK_AUTH_TOKEN).toBe('${LOCALSTACK_AUTH_TOKEN:-}');
  });

  it('finds such images in a compose file (what awskit localstack validate checks)', () => {
    const compose = [
      'services:',
      '  localstack:',
      '    image: localstack/localstack:latest',
      '  app:',
      '    image: node:24',
      '  pinned:',
      '    image: localstack/localstack:4.14.0',
      '',
    ].join('\n');
    const warnings = composeImageWarnings(compose);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('service "localstack"');
    expect(composeImageWarnings(compose, { authToken: 't' })).toEqual([]);
  });
});
