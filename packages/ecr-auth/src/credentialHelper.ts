import { type Clock, createConsoleLogger, type Logger, type LogLevel, resolveEndpoint } from '@awskit/core';
import { getAuthorization, listCachedAuthorizations } from './authorization';
import { EcrAuthError } from './errors';
import { parseRegistry } from './registry';
import type { EcrAuthorization, EcrRegistry, TokenSource } from './types';
import { ECR_AUTH_VERSION } from './version';

/** The program name Docker runs (`credHelpers`/`credsStore` value `awskit`). */
export const CREDENTIAL_HELPER_PROGRAM = 'docker-credential-awskit';

/**
 * The exact "not found" message of docker/docker-credential-helpers. Docker treats it as "no credentials, go on
 * anonymously"; any other message fails the pull/push and is shown to the user.
 */
export const CREDENTIALS_NOT_FOUND_MESSAGE = 'credentials not found in native keychain';

/** Streams and inputs of one helper invocation. */
export interface CredentialHelperOptions {
  /** Arguments after the program name (`['get']`). */
  argv: string[];
  /** Where Docker writes the request. */
  stdin: AsyncIterable<string | Uint8Array>;
  /** The protocol answer (JSON, or the error message). */
  stdout: { write(chunk: string): unknown };
  /** Human-readable reasons and warnings (`AWSKIT_LOG_LEVEL=debug` for more). Never secrets. */
  stderr: { write(chunk: string): unknown };
  /** Environment for AWS/cache resolution. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Clock for the token cache. @default systemClock */
  clock?: Clock;
  /** Token source override (embedding, tests). @default STS/ECR through `@awskit/core` */
  tokenSource?: TokenSource;
}

const USAGE = `Usage: ${CREDENTIAL_HELPER_PROGRAM} <store|get|erase|list|version>`;

async function readAll(stdin: AsyncIterable<string | Uint8Array>): Promise<string> {
  let s = '';
  const decoder = new TextDecoder();
  for await (const chunk of stdin)
    s += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  return s + decoder.decode();
}

class ProtocolError extends Error {}

function logLevel(env: NodeJS.ProcessEnv): LogLevel {
  const v = (env.AWSKIT_LOG_LEVEL ?? '').toLowerCase();
  return (['debug', 'info', 'warn', 'error', 'silent'] as const).find((l) => l === v) ?? 'warn';
}

function describe(e: unknown): { message: string; hint?: string } {
  if (e instanceof EcrAuthError || (e && typeof e === 'object' && 'isAwskitError' in e)) {
    const a = e as EcrAuthError;
    return { message: a.message, ...(a.hint ? { hint: a.hint } : {}) };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

async function ecrClientConfigFor(
  reg: EcrRegistry,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown> | undefined> {
  if (!reg.fips && !reg.dualStack) return undefined;
  // The SDK refuses FIPS/dual-stack together with a custom endpoint; they only apply to AWS's own endpoints.
  const ep = await resolveEndpoint(reg.service === 'ecr' ? 'ecr' : 'ecrpublic', { env }).catch(
    () => undefined,
  );
  if (ep?.url) return undefined;
  return {
    ...(reg.fips ? { useFipsEndpoint: true } : {}),
    ...(reg.dualStack ? { useDualstackEndpoint: true } : {}),
  };
}

async function get(
  input: string,
  o: CredentialHelperOptions,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<string> {
  const serverUrl = input.trim();
  if (!serverUrl) throw new ProtocolError('no credentials server URL');
  let reg: EcrRegistry;
  try {
    reg = parseRegistry(serverUrl);
  } catch {
    logger.warn(
      `${serverUrl} is not an Amazon ECR registry; answering "not found" so Docker continues without credentials (route only ECR hosts to this helper with credHelpers)`,
    );
    throw new ProtocolError(CREDENTIALS_NOT_FOUND_MESSAGE);
  }
  let auth: EcrAuthorization;
  try {
    const ecrClientConfig = await ecrClientConfigFor(reg, env);
    [auth] = (await getAuthorization({
      env,
      region: reg.region,
      ...(reg.service === 'ecr-public' ? { public: true } : { registryIds: [reg.registryId!] }),
      ...(ecrClientConfig ? { ecrClientConfig } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.tokenSource ? { tokenSource: o.tokenSource } : {}),
      logger,
      maxAttempts: 2,
    })) as [EcrAuthorization];
  } catch (e) {
    const d = describe(e);
    logger.error(`cannot get credentials for ${reg.host}: ${d.message}${d.hint ? `\nhint: ${d.hint}` : ''}`);
    // ECR Public allows anonymous pulls: "not found" lets Docker go on without credentials.
    if (reg.service === 'ecr-public') throw new ProtocolError(CREDENTIALS_NOT_FOUND_MESSAGE);
    throw new ProtocolError(`${CREDENTIAL_HELPER_PROGRAM}: ${d.message}`);
  }
  logger.debug(`credentials for ${reg.host}`, {
    fromCache: auth.fromCache,
    expiresAt: auth.expiresAt?.toISOString(),
  });
  return `${JSON.stringify({ ServerURL: serverUrl, Username: auth.username, Secret: auth.password })}\n`;
}

async function list(o: CredentialHelperOptions, env: NodeJS.ProcessEnv, logger: Logger): Promise<string> {
  const out: Record<string, string> = {};
  const common = {
    env,
    logger,
    maxAttempts: 2,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.tokenSource ? { tokenSource: o.tokenSource } : {}),
  };
  // Like amazon-ecr-credential-helper: prime with the caller's default registry (when a region is configured),
  // then list what the cache holds for this caller.
  try {
    for (const a of await getAuthorization(common)) out[a.serverUrl] = a.username;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'REGION_MISSING') logger.warn(`default registry skipped: ${describe(e).message}`);
  }
  try {
    for (const a of await listCachedAuthorizations(common)) out[a.serverUrl] = a.username;
  } catch (e) {
    if (Object.keys(out).length === 0)
      throw new ProtocolError(`${CREDENTIAL_HELPER_PROGRAM}: ${describe(e).message}`);
  }
  return `${JSON.stringify(out)}\n`;
}

function store(input: string): void {
  let creds: unknown;
  try {
    creds = JSON.parse(input);
  } catch {
    throw new ProtocolError('invalid credentials JSON on stdin');
  }
  const c = (creds ?? {}) as { ServerURL?: unknown; Username?: unknown };
  if (typeof c.ServerURL !== 'string' || c.ServerURL === '')
    throw new ProtocolError('no credentials server URL');
  if (typeof c.Username !== 'string' || c.Username === '') throw new ProtocolError('no credentials username');
}

/**
 * Runs the Docker credential-helper protocol (docker/docker-credential-helpers): `get` (server URL on stdin →
 * `{"ServerURL","Username","Secret"}` on stdout), `list` (`{serverURL: username}`), `store` / `erase` (accepted and
 * ignored: ECR tokens are fetched on demand), `version`. Errors follow the protocol (message on stdout, exit 1) and
 * the real reason (no credentials, expired SSO, wrong region...) goes to stderr. For a private ECR registry the
 * stdout message is that reason too, so Docker shows it instead of "no basic auth credentials"; for non-ECR hosts
 * and ECR Public it is the protocol's "not found", so Docker continues anonymously.
 *
 * @returns the process exit code (0 or 1); it never calls `process.exit`.
 * @example
 * // bin/docker-credential-awskit
 * process.exitCode = await runCredentialHelper({ argv: process.argv.slice(2), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
 */
export async function runCredentialHelper(options: CredentialHelperOptions): Promise<number> {
  const env = options.env ?? process.env;
  const logger = createConsoleLogger({
    level: logLevel(env),
    stream: options.stderr,
    prefix: `${CREDENTIAL_HELPER_PROGRAM}:`,
  });
  const { argv, stdout } = options;
  if (argv.length !== 1) {
    stdout.write(`${USAGE}\n`);
    return 1;
  }
  const action = argv[0]!;
  try {
    switch (action) {
      case '--version':
      case '-v':
      case 'version':
        stdout.write(`${CREDENTIAL_HELPER_PROGRAM} (awskit) ${ECR_AUTH_VERSION}\n`);
        return 0;
      case '--help':
      case '-h':
        stdout.write(`${USAGE}\n`);
        return 0;
      case 'get':
        stdout.write(await get(await readAll(options.stdin), options, env, logger));
        return 0;
      case 'list':
        stdout.write(await list(options, env, logger));
        return 0;
      case 'store':
        store(await readAll(options.stdin));
        logger.debug('store ignored: ECR tokens are fetched on demand');
        return 0;
      case 'erase':
        if (!(await readAll(options.stdin)).trim()) throw new ProtocolError('no credentials server URL');
        logger.debug('erase ignored: nothing is stored');
        return 0;
      default:
        throw new ProtocolError(`${CREDENTIAL_HELPER_PROGRAM}: unknown action: ${action}`);
    }
  } catch (e) {
    if (e instanceof ProtocolError) stdout.write(`${e.message}\n`);
    else {
      const d = describe(e);
      logger.error(d.message);
      stdout.write(`${CREDENTIAL_HELPER_PROGRAM}: ${d.message}\n`);
    }
    return 1;
  }
}
