import { spawn } from 'node:child_process';

/** Why `docker login` failed. */
export type DockerLoginFailureReason =
  /** No Docker daemon (older CLIs need one for login). */
  | 'daemon-unavailable'
  /** The registry did not answer (DNS, refused, timeout): nothing was verified. */
  | 'registry-unreachable'
  /** The registry answered and refused the credentials. */
  | 'rejected'
  /** Anything else, including a timeout of the docker process. */
  | 'failed';

/** Result of {@link runDockerLogin}. */
export interface DockerLoginOutcome {
  ok: boolean;
  reason?: DockerLoginFailureReason;
  /** docker's stdout+stderr, with the password scrubbed (it is never there, but we check). */
  output: string;
  exitCode: number | null;
}

/** Options for {@link runDockerLogin}. */
export interface RunDockerLoginOptions {
  /** The docker executable. */
  dockerPath: string;
  /** Registry host. */
  registry: string;
  username: string;
  /** Sent on stdin (`--password-stdin`), never in argv. */
  password: string;
  /** Environment of the docker process (`DOCKER_CONFIG` is honoured by docker). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Kill docker after this long. @default 60_000 */
  timeoutMs?: number;
}

const DAEMON =
  /Cannot connect to the Docker daemon|Is the docker daemon running|docker daemon is not running|error during connect|dial unix [^ ]*docker\.sock/i;
const UNREACHABLE =
  /no such host|connection refused|dial tcp|i\/o timeout|TLS handshake timeout|network is unreachable|Client\.Timeout|no route to host|server misbehaving/i;
const REJECTED = /unauthorized|401|403|denied|authentication required|incorrect username or password/i;

/** Classifies docker login output (exported for tests). */
export function classifyDockerLoginFailure(output: string): DockerLoginFailureReason {
  if (REJECTED.test(output) && !UNREACHABLE.test(output)) return 'rejected';
  if (DAEMON.test(output) && !UNREACHABLE.test(output)) return 'daemon-unavailable';
  if (UNREACHABLE.test(output)) return 'registry-unreachable';
  return 'failed';
}

/** Removes every occurrence of `secret` from `text`. */
export function scrubSecret(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text;
}

/**
 * Runs `docker login --username <user> --password-stdin <registry>`, writing the password to docker's stdin so it
 * never appears in a process list, and classifies a failure (daemon missing, registry unreachable, rejected).
 */
export function runDockerLogin(options: RunDockerLoginOptions): Promise<DockerLoginOutcome> {
  const { dockerPath, registry, username, password, env = process.env, timeoutMs = 60_000 } = options;
  return new Promise((resolve) => {
    const child = spawn(dockerPath, ['login', '--username', username, '--password-stdin', registry], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    // docker may exit before reading stdin (bad flags); ignore EPIPE, the exit code tells the story.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: 'failed', output: scrubSecret(e.message, password), exitCode: null });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = scrubSecret(output, password).trim();
      if (code === 0 && !timedOut) return resolve({ ok: true, output: text, exitCode: 0 });
      resolve({
        ok: false,
        reason: timedOut ? 'failed' : classifyDockerLoginFailure(text),
        output: timedOut ? `docker login timed out after ${timeoutMs} ms\n${text}`.trim() : text,
        exitCode: code,
      });
    });
    child.stdin.end(password);
  });
}
