import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  type DeclarationIssue,
  DeclarationValidationError,
  LocalstackHooksError,
  LocalstackHooksErrorCode,
} from './errors';
import { declarationSchema, KNOWN_FIELDS } from './schema';
import type {
  DeclaredService,
  DynamoIndexInput,
  DynamoTable,
  DynamoTableInput,
  KeyAttribute,
  KeyAttributeInput,
  LocalResources,
  LocalResourcesInput,
  PolicyDocumentInput,
} from './types';

/** Region used when the declaration names none (LocalStack's default). */
export const DEFAULT_DECLARATION_REGION = 'us-east-1';

/** File names `findDeclarationFile` looks for, in order. */
export const DECLARATION_FILE_NAMES = [
  'awskit.local.yaml',
  'awskit.local.yml',
  'awskit.local.json',
  'awskit.local.mjs',
  'awskit.local.js',
  'awskit.local.cjs',
] as const;

/**
 * Types a declaration written in TypeScript/JavaScript. Returns its argument unchanged (validation happens when it
 * is used), like Vite's `defineConfig`.
 *
 * @example
 * export default defineLocalResources({
 *   region: 'ap-northeast-2',
 *   kinesis: { streams: [{ name: 'my-event-dev', shards: 1 }] },
 * });
 */
export function defineLocalResources<T extends LocalResourcesInput>(resources: T): T {
  return resources;
}

type PathSeg = string | number;

/** Renders `['kinesis','streams',0,'shards']` as `kinesis.streams[0].shards`. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** `kinesis.streams[3].tags` → `kinesis.streams[].tags` (the key of {@link KNOWN_FIELDS}). */
const shapeKey = (path: readonly PathSeg[]) =>
  formatPath(path.map((s) => (typeof s === 'number' ? -1 : s))).replace(/\[-1\]/g, '[]');

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = levenshtein(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

interface RawIssue {
  path: PathSeg[];
  message: string;
  /** Point at the key of the last segment rather than its value (unknown fields). */
  atKey?: boolean;
}

function valueAt(root: unknown, path: readonly PathSeg[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function zodIssues(error: z.ZodError, input: unknown): RawIssue[] {
  const out: RawIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((s): s is PathSeg => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = KNOWN_FIELDS[shapeKey(path)] ?? [];
      for (const key of issue.keys) {
        const guess = didYouMean(key, known);
        const what = path.length === 0 ? 'unknown resource type or field' : 'unknown field';
        out.push({
          path: [...path, key],
          message: `${what} '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}; allowed: ${known.join(', ')}`,
          atKey: true,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_type' && valueAt(input, path) === undefined) {
      out.push({ path, message: 'is required' });
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

const keyOf = (k: KeyAttributeInput): KeyAttribute => {
  if (typeof k === 'string') {
    const [name, type] = k.split(':') as [string, KeyAttribute['type'] | undefined];
    return { name, type: type ?? 'S' };
  }
  return { name: k.name, type: k.type ?? 'S' };
};

function parsePolicyDocument(
  doc: PolicyDocumentInput,
  path: PathSeg[],
  issues: RawIssue[],
): Record<string, unknown> {
  let value: unknown = doc;
  if (typeof doc === 'string') {
    try {
      value = JSON.parse(doc);
    } catch (e) {
      issues.push({ path, message: `is not valid JSON (${(e as Error).message})` });
      return {};
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ path, message: 'must be a JSON object' });
    return {};
  }
  const v = value as Record<string, unknown>;
  if (v.Statement === undefined)
    issues.push({ path: [...path, 'Statement'], message: 'is required in a policy document' });
  if (v.Version !== undefined && v.Version !== '2012-10-17' && v.Version !== '2008-10-17')
    issues.push({ path: [...path, 'Version'], message: "must be '2012-10-17'" });
  return v;
}

function checkDuplicates(
  items: readonly ({ name?: unknown } | null)[] | undefined,
  base: PathSeg[],
  what: string,
  issues: RawIssue[],
) {
  const seen = new Map<string, number>();
  (items ?? []).forEach((item, i) => {
    if (typeof item?.name !== 'string') return;
    const first = seen.get(item.name);
    if (first !== undefined)
      issues.push({
        path: [...base, i, 'name'],
        message: `duplicate ${what} name '${item.name}' (first declared at ${formatPath([...base, first])})`,
      });
    else seen.set(item.name, i);
  });
}

function checkTable(t: DynamoTableInput, path: PathSeg[], issues: RawIssue[]): DynamoTable {
  const billing = t.billing ?? 'on-demand';
  const pk = keyOf(t.partitionKey);
  const sk = t.sortKey === undefined ? undefined : keyOf(t.sortKey);
  if (sk && sk.name === pk.name)
    issues.push({ path: [...path, 'sortKey'], message: `must differ from the partition key '${pk.name}'` });
  if (billing === 'provisioned') {
    for (const f of ['readCapacity', 'writeCapacity'] as const)
      if (t[f] === undefined)
        issues.push({ path: [...path, f], message: 'is required when billing is provisioned' });
  } else {
    for (const f of ['readCapacity', 'writeCapacity'] as const)
      if (t[f] !== undefined)
        issues.push({
          path: [...path, f],
          message: "is only allowed with billing: provisioned (this table is 'on-demand')",
        });
  }
  // Every key attribute, of the table or any index, needs one AttributeDefinition: same name ⇒ same type.
  const types = new Map<string, { type: string; at: string }>();
  const noteType = (k: KeyAttribute, at: PathSeg[]) => {
    const prev = types.get(k.name);
    if (prev && prev.type !== k.type)
      issues.push({
        path: at,
        message: `attribute '${k.name}' has type ${k.type} here but ${prev.type} at ${prev.at}`,
      });
    else if (!prev) types.set(k.name, { type: k.type, at: formatPath(at) });
  };
  noteType(pk, [...path, 'partitionKey']);
  if (sk) noteType(sk, [...path, 'sortKey']);
  checkDuplicates(t.indexes, [...path, 'indexes'], 'index', issues);
  const indexes = (t.indexes ?? []).map((ix: DynamoIndexInput, i) => {
    const ipath = [...path, 'indexes', i];
    const ipk = keyOf(ix.partitionKey);
    const isk = ix.sortKey === undefined ? undefined : keyOf(ix.sortKey);
    noteType(ipk, [...ipath, 'partitionKey']);
    if (isk) noteType(isk, [...ipath, 'sortKey']);
    if (billing === 'on-demand')
      for (const f of ['readCapacity', 'writeCapacity'] as const)
        if (ix[f] !== undefined)
          issues.push({
            path: [...ipath, f],
            message: 'is only allowed on a table with billing: provisioned',
          });
    return {
      name: ix.name,
      partitionKey: ipk,
      ...(isk ? { sortKey: isk } : {}),
      projection: ix.projection ?? 'ALL',
      ...(billing === 'provisioned'
        ? {
            readCapacity: ix.readCapacity ?? t.readCapacity,
            writeCapacity: ix.writeCapacity ?? t.writeCapacity,
          }
        : {}),
    };
  });
  return {
    name: t.name,
    partitionKey: pk,
    ...(sk ? { sortKey: sk } : {}),
    billing,
    ...(billing === 'provisioned' ? { readCapacity: t.readCapacity, writeCapacity: t.writeCapacity } : {}),
    indexes,
    tags: t.tags ?? {},
  };
}

const COLLECTIONS = [
  [['kinesis', 'streams'], 'stream'],
  [['dynamodb', 'tables'], 'table'],
  [['ecr', 'repositories'], 'repository'],
  [['iam', 'policies'], 'policy'],
  [['iam', 'users'], 'user'],
] as const;

/** Duplicate names, checked on the raw input so they are reported together with structural problems. */
function checkAllDuplicates(input: unknown, issues: RawIssue[]) {
  for (const [path, what] of COLLECTIONS) {
    const items = valueAt(input, path);
    if (Array.isArray(items)) checkDuplicates(items as { name?: unknown }[], [...path], what, issues);
  }
}

/** Cross-field rules and normalization; only called on structurally valid input. */
function normalize(d: LocalResourcesInput, issues: RawIssue[]): LocalResources {
  const streams = d.kinesis?.streams ?? [];
  const normStreams = streams.map((s, i) => {
    const mode = s.mode ?? 'provisioned';
    if (mode === 'on-demand' && s.shards !== undefined)
      issues.push({
        path: ['kinesis', 'streams', i, 'shards'],
        message:
          'must be omitted for an on-demand stream (Kinesis sizes it); use mode: provisioned to fix a count',
      });
    const consumers = s.consumers ?? [];
    consumers.forEach((c, j) => {
      if (consumers.indexOf(c) !== j)
        issues.push({
          path: ['kinesis', 'streams', i, 'consumers', j],
          message: `duplicate consumer name '${c}'`,
        });
    });
    return {
      name: s.name,
      mode,
      ...(mode === 'provisioned' ? { shards: s.shards ?? 1 } : {}),
      retentionHours: s.retentionHours ?? 24,
      tags: s.tags ?? {},
      consumers,
    };
  });
  const tables = d.dynamodb?.tables ?? [];
  const normTables = tables.map((t, i) => checkTable(t, ['dynamodb', 'tables', i], issues));
  const repos = d.ecr?.repositories ?? [];
  const policies = d.iam?.policies ?? [];
  const policyNames = new Set(policies.map((p) => p.name));
  const users = d.iam?.users ?? [];
  return {
    version: 1,
    region: d.region ?? DEFAULT_DECLARATION_REGION,
    kinesis: { streams: normStreams },
    dynamodb: { tables: normTables },
    ecr: {
      repositories: repos.map((r) => ({
        name: r.name,
        imageTagMutability: r.imageTagMutability ?? 'MUTABLE',
        scanOnPush: r.scanOnPush ?? false,
        tags: r.tags ?? {},
      })),
    },
    iam: {
      policies: policies.map((p, i) => ({
        name: p.name,
        ...(p.description !== undefined ? { description: p.description } : {}),
        document: parsePolicyDocument(p.document, ['iam', 'policies', i, 'document'], issues),
      })),
      users: users.map((u, i) => {
        (u.policies ?? []).forEach((p, j) => {
          if (!policyNames.has(p) && !/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\//.test(p))
            issues.push({
              path: ['iam', 'users', i, 'policies', j],
              message: `'${p}' is neither a policy declared under iam.policies nor a policy ARN`,
            });
        });
        const inline: Record<string, Record<string, unknown>> = {};
        for (const [name, doc] of Object.entries(u.inlinePolicies ?? {}))
          inline[name] = parsePolicyDocument(doc, ['iam', 'users', i, 'inlinePolicies', name], issues);
        return { name: u.name, policies: u.policies ?? [], inlinePolicies: inline, tags: u.tags ?? {} };
      }),
    },
  };
}

/** Where a declaration's text came from, so issues can carry line and column. */
interface SourceMap {
  locate(path: readonly PathSeg[], atKey: boolean): { line: number; column: number } | undefined;
}

function yamlSourceMap(doc: ReturnType<typeof parseDocument>, lc: LineCounter): SourceMap {
  return {
    locate(path, atKey) {
      let node: unknown = doc.contents;
      let last: { range?: [number, number, number] | null } | undefined = node as Node | undefined;
      for (let i = 0; i < path.length; i++) {
        const seg = path[i]!;
        if (isAlias(node)) node = node.resolve(doc);
        if (isMap(node)) {
          const pair = node.items.find(
            (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
          );
          if (!pair) break;
          const isLast = i === path.length - 1;
          const target = isLast && atKey ? pair.key : (pair.value ?? pair.key);
          node = target;
          last = target as Node;
        } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
          node = node.items[seg];
          last = node as Node;
        } else break;
      }
      const offset = last?.range?.[0];
      if (offset === undefined) return undefined;
      const pos = lc.linePos(offset);
      return { line: pos.line, column: pos.col };
    },
  };
}

/** Options of {@link parseDeclaration}. */
export interface ParseDeclarationOptions {
  /** File name used in messages. */
  file?: string;
  /** @internal maps issue paths to line/column */
  sourceMap?: SourceMap;
}

/**
 * Validates and normalizes a declaration object (already parsed from YAML/JSON, or written in code).
 *
 * @throws {DeclarationValidationError} with every problem and its field path, when the declaration is invalid.
 * @example
 * const resources = parseDeclaration({ region: 'ap-northeast-2', kinesis: { streams: [{ name: 'my-event-dev' }] } });
 */
export function parseDeclaration(input: unknown, options: ParseDeclarationOptions = {}): LocalResources {
  const raw: RawIssue[] = [];
  let result: LocalResources | undefined;
  if (input === null || input === undefined) {
    raw.push({ path: [], message: 'is empty; declare at least a region and some resources' });
  } else {
    const parsed = declarationSchema.safeParse(input);
    checkAllDuplicates(input, raw);
    if (!parsed.success) raw.push(...zodIssues(parsed.error, input));
    else result = normalize(parsed.data as LocalResourcesInput, raw);
  }
  if (raw.length > 0 || !result) {
    const issues: DeclarationIssue[] = raw.map((r) => {
      const loc = options.sourceMap?.locate(r.path, r.atKey ?? false);
      return {
        path: formatPath(r.path),
        message: r.message,
        ...(loc ? { line: loc.line, column: loc.column } : {}),
      };
    });
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new DeclarationValidationError(issues, options.file);
  }
  return result;
}

/**
 * Parses declaration text (YAML; JSON is accepted too, as a subset of YAML) and validates it. Issues carry the line
 * and column of the offending field.
 *
 * @throws {LocalstackHooksError} `DECLARATION_PARSE` for syntax errors, {@link DeclarationValidationError} for schema problems.
 */
export function parseDeclarationText(text: string, options: { file?: string } = {}): LocalResources {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const where = options.file ?? 'declaration';
    const msgs = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `${where}:${pos.line}:${pos.col} ${e.message.split('\n')[0]}`;
    });
    throw new LocalstackHooksError(
      LocalstackHooksErrorCode.DeclarationParse,
      `cannot parse ${where}:\n  ${msgs.join('\n  ')}`,
      {
        hint: 'Fix the YAML/JSON syntax at the position shown (indentation, quotes, duplicate keys).',
        cause: doc.errors[0],
      },
    );
  }
  return parseDeclaration(doc.toJS({ maxAliasCount: 100 }), {
    ...(options.file !== undefined ? { file: options.file } : {}),
    sourceMap: yamlSourceMap(doc, lineCounter),
  });
}

/**
 * Loads a declaration file: `.yaml`/`.yml`/`.json`, or a JS module (`.mjs`/`.js`/`.cjs`) whose default export (or
 * `resources` export) is the declaration. TypeScript files work when the runtime can import them (Node ≥ 22.6 with
 * type stripping, tsx, Bun).
 *
 * @throws {LocalstackHooksError} `DECLARATION_NOT_FOUND` / `DECLARATION_PARSE`, or {@link DeclarationValidationError}.
 */
export async function loadDeclaration(file: string): Promise<LocalResources> {
  const abs = resolve(file);
  const ext = extname(abs).toLowerCase();
  if (['.mjs', '.js', '.cjs', '.ts', '.mts', '.cts'].includes(ext)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT') throw notFound(file, e);
      throw new LocalstackHooksError(
        LocalstackHooksErrorCode.DeclarationParse,
        `cannot load ${file}: ${(e as Error).message}`,
        {
          hint: ext.endsWith('ts')
            ? 'This runtime cannot import TypeScript directly; use awskit.local.mjs or YAML, or run under tsx.'
            : 'Fix the module so it can be imported and default-exports defineLocalResources({...}).',
          cause: e,
        },
      );
    }
    const value =
      (mod.default as Record<string, unknown> | undefined)?.default ?? mod.default ?? mod.resources;
    return parseDeclaration(value, { file });
  }
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw notFound(file, e);
  }
  return parseDeclarationText(text, { file });
}

function notFound(file: string, cause: unknown) {
  return new LocalstackHooksError(
    LocalstackHooksErrorCode.DeclarationNotFound,
    `cannot read declaration ${file}`,
    {
      hint: `Create it (see examples/awskit.local.yaml in @awskit/localstack-hooks) or pass --config <file>. Looked for ${file}.`,
      cause,
    },
  );
}

/** The first of {@link DECLARATION_FILE_NAMES} that exists in `dir`, or undefined. */
export async function findDeclarationFile(dir = '.'): Promise<string | undefined> {
  const { access } = await import('node:fs/promises');
  for (const name of DECLARATION_FILE_NAMES) {
    const p = resolve(dir, name);
    try {
      await access(p);
      return p;
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/**
 * Accepts what callers have: a file path, YAML/JSON text (any string containing a line break, e.g.
 * {@link EXAMPLE_DECLARATION_YAML}), an already validated declaration, or a raw object. Always returns a validated
 * {@link LocalResources}.
 */
export async function resolveDeclaration(
  declaration: string | LocalResourcesInput | LocalResources,
): Promise<LocalResources> {
  if (typeof declaration === 'string')
    return declaration.includes('\n') ? parseDeclarationText(declaration) : loadDeclaration(declaration);
  return parseDeclaration(declaration);
}

/**
 * The services a declaration needs, in LocalStack's names (for `SERVICES=` and `waitForReady`). IAM implies STS
 * (the scripts look the account id up with `sts get-caller-identity`).
 */
export function servicesOf(d: LocalResources): DeclaredService[] {
  const out: DeclaredService[] = [];
  if (d.kinesis.streams.length) out.push('kinesis');
  if (d.dynamodb.tables.length) out.push('dynamodb');
  if (d.ecr.repositories.length) out.push('ecr');
  if (d.iam.policies.length || d.iam.users.length) out.push('iam', 'sts');
  return out;
}

/** Counts resources per kind, for messages. */
export function countResources(d: LocalResources): number {
  return (
    d.kinesis.streams.length +
    d.kinesis.streams.reduce((n, s) => n + s.consumers.length, 0) +
    d.dynamodb.tables.length +
    d.ecr.repositories.length +
    d.iam.policies.length +
    d.iam.users.length
  );
}
