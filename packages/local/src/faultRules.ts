import { LocalAwsError, LocalAwsErrorCode } from './errors';

/** What the fault proxy can do to a call. */
export type FaultKind =
  | 'latency'
  | 'http500'
  | 'http503'
  | 'throttle'
  | 'partialPutRecords'
  | 'resetBeforeForward'
  | 'resetAfterForward'
  | 'hang'
  | 'streamCut'
  | 'streamSilent'
  | 'unavailable';

/** Every {@link FaultKind}, in a stable order. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'latency',
  'http500',
  'http503',
  'throttle',
  'partialPutRecords',
  'resetBeforeForward',
  'resetAfterForward',
  'hang',
  'streamCut',
  'streamSilent',
  'unavailable',
];

/**
 * One fault-injection rule: which calls it matches (service, operation, time window, call count) and what it does
 * to them. A matching call draws from the rule's own seeded random sequence, so with the same seed and the same
 * order of matching calls the same calls are hit.
 */
export interface FaultRule {
  kind: FaultKind;
  /** `'kinesis' | 'dynamodb' | 'iam' | 'sts' | 'ecr'`. @default any service */
  service?: string;
  /**
   * Operation name(s), e.g. `'PutRecords'`. @default any operation, except `partialPutRecords` (PutRecords) and
   * `streamCut`/`streamSilent` (SubscribeToShard)
   */
  operation?: string | string[];
  /** Chance (0..1) that a matching call is hit. @default 1 when `afterCalls`/`maxTimes`/`fromMs`/`untilMs` is set; else required */
  probability?: number;
  /** Skip this many matching calls before the rule may fire. @default 0 */
  afterCalls?: number;
  /** Fire at most this many times. @default unlimited */
  maxTimes?: number;
  /** Active from this many ms after the proxy started (or `setRules` was called). @default 0 */
  fromMs?: number;
  /** Active until this many ms after the proxy started (or `setRules` was called). @default forever */
  untilMs?: number;
  /** `latency`: ms added before forwarding (required). `hang`: ms before the connection is reset. @default hang forever */
  latencyMs?: number;
  /** `partialPutRecords`: fraction of the entries that fail (at least one). @default 0.5 */
  failFraction?: number;
  /** `streamCut`/`streamSilent`: ms of streaming before the cut or the silence. @default 1500 */
  afterMs?: number;
  /**
   * `throttle`: the AWS error code to answer with; `partialPutRecords`: the entries' `ErrorCode`.
   * @default throttle: Kinesis data calls `ProvisionedThroughputExceededException`, other Kinesis calls
   *   `LimitExceededException`, DynamoDB item calls `ProvisionedThroughputExceededException`, other DynamoDB and ECR
   *   calls `ThrottlingException`, IAM/STS `Throttling`; partialPutRecords: `ProvisionedThroughputExceededException`
   */
  errorCode?: string;
  /** `hang`: forward the request first, so the write happens but its answer never comes. @default false */
  forward?: boolean;
}

/** A fault file as read by `awskit local up --faults <file>`. */
export interface FaultConfig {
  seed?: number;
  rules: FaultRule[];
}

const SERVICES = ['kinesis', 'dynamodb', 'iam', 'sts', 'ecr'];
const COMMON = ['kind', 'service', 'operation', 'probability', 'afterCalls', 'maxTimes', 'fromMs', 'untilMs'];
const KIND_FIELDS: Record<FaultKind, string[]> = {
  latency: ['latencyMs'],
  http500: [],
  http503: [],
  throttle: ['errorCode'],
  partialPutRecords: ['failFraction', 'errorCode'],
  resetBeforeForward: [],
  resetAfterForward: [],
  hang: ['latencyMs', 'forward'],
  streamCut: ['afterMs'],
  streamSilent: ['afterMs'],
  unavailable: [],
};
const ERROR_CODE_RE = /^[A-Za-z][A-Za-z0-9.#:_-]{0,127}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkNumber(
  problems: string[],
  path: string,
  v: unknown,
  { min = 0, max = Number.POSITIVE_INFINITY, integer = false } = {},
): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    problems.push(
      `${path} must be ${integer ? 'an integer' : 'a number'} ${max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`}, got ${JSON.stringify(v)}`,
    );
}

function ruleProblems(rule: unknown, path: string): string[] {
  const problems: string[] = [];
  if (!isObject(rule)) return [`${path} must be an object, got ${JSON.stringify(rule)}`];
  const kind = rule.kind as FaultKind;
  const knownKind = typeof kind === 'string' && FAULT_KINDS.includes(kind);
  if (!knownKind)
    problems.push(
      `${path}.kind must be one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(rule.kind)}${typeof rule.kind === 'string' ? didYouMean(rule.kind, [...FAULT_KINDS]) : ''}`,
    );
  const allowed = new Set([
    ...COMMON,
    ...(knownKind ? KIND_FIELDS[kind] : Object.values(KIND_FIELDS).flat()),
  ]);
  for (const key of Object.keys(rule))
    if (!allowed.has(key))
      problems.push(
        Object.values(KIND_FIELDS).flat().includes(key)
          ? `${path}.${key} does not apply to kind "${kind}"`
          : `${path}.${key} is not a rule field${didYouMean(key, [...allowed])}`,
      );
  if (rule.service !== undefined && !SERVICES.includes(rule.service as string))
    problems.push(
      `${path}.service must be one of ${SERVICES.join(', ')}, got ${JSON.stringify(rule.service)}`,
    );
  const op = rule.operation;
  if (
    op !== undefined &&
    !(typeof op === 'string' && op) &&
    !(Array.isArray(op) && op.length > 0 && op.every((o) => typeof o === 'string' && o))
  )
    problems.push(
      `${path}.operation must be an operation name or a non-empty list of them, got ${JSON.stringify(op)}`,
    );
  checkNumber(problems, `${path}.probability`, rule.probability, { max: 1 });
  checkNumber(problems, `${path}.afterCalls`, rule.afterCalls, { integer: true });
  checkNumber(problems, `${path}.maxTimes`, rule.maxTimes, { integer: true });
  checkNumber(problems, `${path}.fromMs`, rule.fromMs);
  checkNumber(problems, `${path}.untilMs`, rule.untilMs);
  checkNumber(problems, `${path}.latencyMs`, rule.latencyMs);
  checkNumber(problems, `${path}.afterMs`, rule.afterMs);
  if (rule.failFraction !== undefined)
    if (typeof rule.failFraction !== 'number' || !(rule.failFraction > 0 && rule.failFraction <= 1))
      problems.push(
        `${path}.failFraction must be a number above 0 and at most 1, got ${JSON.stringify(rule.failFraction)}`,
      );
  if (
    rule.errorCode !== undefined &&
    !(typeof rule.errorCode === 'string' && ERROR_CODE_RE.test(rule.errorCode))
  )
    problems.push(
      `${path}.errorCode must be an AWS error code such as "ThrottlingException", got ${JSON.stringify(rule.errorCode)}`,
    );
  if (rule.forward !== undefined && typeof rule.forward !== 'boolean')
    problems.push(`${path}.forward must be true or false, got ${JSON.stringify(rule.forward)}`);
  if (typeof rule.fromMs === 'number' && typeof rule.untilMs === 'number' && rule.untilMs <= rule.fromMs)
    problems.push(`${path}.untilMs (${rule.untilMs}) must be after fromMs (${rule.fromMs})`);
  const scheduled = ['afterCalls', 'maxTimes', 'fromMs', 'untilMs'].some((k) => rule[k] !== undefined);
  if (rule.probability === undefined && !scheduled)
    problems.push(
      `${path}.probability is required when no schedule (afterCalls, maxTimes, fromMs, untilMs) is given`,
    );
  if (kind === 'latency' && rule.latencyMs === undefined)
    problems.push(`${path}.latencyMs is required for kind "latency"`);
  if (kind === 'partialPutRecords' && !operationsAllow(op, 'PutRecords'))
    problems.push(`${path}.operation must include PutRecords for kind "partialPutRecords"`);
  if ((kind === 'streamCut' || kind === 'streamSilent') && !operationsAllow(op, 'SubscribeToShard'))
    problems.push(`${path}.operation must include SubscribeToShard for kind "${kind}"`);
  if (
    (kind === 'partialPutRecords' || kind === 'streamCut' || kind === 'streamSilent') &&
    rule.service !== undefined &&
    rule.service !== 'kinesis'
  )
    problems.push(`${path}.service must be "kinesis" for kind "${kind}"`);
  return problems;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function didYouMean(key: string, fields: string[]): string {
  const near = fields.find((f) => distance(key.toLowerCase(), f.toLowerCase()) <= 2);
  return near ? ` (did you mean "${near}"?)` : '';
}

function operationsAllow(op: unknown, name: string): boolean {
  return op === undefined || op === name || (Array.isArray(op) && op.includes(name));
}

function invalid(problems: string[], what: string): LocalAwsError {
  return new LocalAwsError(
    LocalAwsErrorCode.InvalidFaultRules,
    `Invalid ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    {
      hint: `Each rule is { "kind": ${FAULT_KINDS.map((k) => `"${k}"`).join(' | ')}, "probability"?: 0..1, "service"?, "operation"?, ... }; see "Fault injection" in the @awskit/local README.`,
      details: { problems },
    },
  );
}

/**
 * Checks fault rules and returns them typed.
 * @throws LocalAwsError `INVALID_FAULT_RULES` listing every bad field (also in `details.problems`).
 */
export function validateFaultRules(rules: unknown, path = 'rules'): FaultRule[] {
  if (!Array.isArray(rules))
    throw invalid([`${path} must be a list of rules, got ${JSON.stringify(rules)}`], 'fault rules');
  const problems = rules.flatMap((r, i) => ruleProblems(r, `${path}[${i}]`));
  if (problems.length) throw invalid(problems, 'fault rules');
  return rules as FaultRule[];
}

/**
 * Checks a fault file's content (`{ "seed"?: number, "rules": FaultRule[] }`) and returns it typed.
 * @throws LocalAwsError `INVALID_FAULT_RULES` listing every bad field (also in `details.problems`).
 * @example
 * const config = parseFaultConfig(JSON.parse(await readFile('faults.json', 'utf8')));
 * const proxy = await startFaultProxy({ target: aws.endpoint, ...config });
 */
export function parseFaultConfig(value: unknown): FaultConfig {
  if (!isObject(value))
    throw invalid(
      [`the file must hold an object { "seed"?, "rules": [...] }, got ${JSON.stringify(value)}`],
      'fault config',
    );
  const problems: string[] = [];
  for (const key of Object.keys(value))
    if (key !== 'seed' && key !== 'rules')
      problems.push(`${key} is not a fault config field (expected seed, rules)`);
  checkNumber(problems, 'seed', value.seed, { max: 0xffffffff, integer: true });
  if (!Array.isArray(value.rules))
    problems.push(`rules must be a list of rules, got ${JSON.stringify(value.rules)}`);
  else problems.push(...value.rules.flatMap((r, i) => ruleProblems(r, `rules[${i}]`)));
  if (problems.length) throw invalid(problems, 'fault config');
  return value as unknown as FaultConfig;
}

/** mulberry32: a small, fast, seedable 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent 32-bit seed for stream `n` of rule `index` (splitmix-style mixing). */
export function deriveSeed(seed: number, index: number, n = 0): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(n + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
