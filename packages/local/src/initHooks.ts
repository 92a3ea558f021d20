import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Logger } from '@awskit/core';

/** LocalStack's init stages, in the order they run. */
export const InitStage = { Boot: 'BOOT', Start: 'START', Ready: 'READY', Shutdown: 'SHUTDOWN' } as const;
export type InitStage = (typeof InitStage)[keyof typeof InitStage];

/** LocalStack's script states. */
export type ScriptState = 'UNKNOWN' | 'RUNNING' | 'SUCCESSFUL' | 'ERROR';

/** One init script and what happened to it. */
export interface InitScript {
  stage: InitStage;
  name: string;
  path: string;
  state: ScriptState;
  exitCode?: number | null;
  /** Combined stdout+stderr (last 64 KiB). */
  output: string;
  durationMs?: number;
}

/** The JSON of `GET /_localstack/init`, in LocalStack's shape. */
export interface InitReport {
  completed: Record<InitStage, boolean>;
  scripts: Array<{ stage: InitStage; name: string; state: ScriptState }>;
}

const STAGE_DIRS: Record<InitStage, string> = {
  BOOT: 'boot.d',
  START: 'start.d',
  READY: 'ready.d',
  SHUTDOWN: 'shutdown.d',
};
const MAX_OUTPUT = 64 * 1024;
/** How long a hung script may run before its process group is killed (LocalStack has no limit; we do). */
export const DEFAULT_INIT_TIMEOUT_MS = 120_000;
/** SIGTERM to SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** After a script exits, how long its output may still drain while a background child holds its stdout. */
const DRAIN_MS = 500;

/** Hook process groups still alive in this process (killed synchronously if we exit without cleaning up). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The caller's environment without any `AWS_*` variable: a session token, profile, `AWS_ENDPOINT_URL_<SERVICE>` or
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` from the user's shell would point hooks at real AWS or override the dummy
 * keys.
 */
export function scrubbedHookEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!/^AWS_/i.test(k)) env[k] = v;
  return env;
}

/** Environment handed to init scripts: what a LocalStack container gives its hooks. */
export interface HookEnvironment {
  endpoint: string;
  region: string;
  host: string;
  port: number;
}

/**
 * Runs LocalStack-style init hooks: `<initDir>/{boot,start,ready,shutdown}.d/*.sh` in sorted order, each with the
 * endpoint, region and dummy credentials in its environment and an `awslocal` shim on PATH. A failing script is
 * marked ERROR and the next still runs (as in LocalStack); its output is logged, not hidden.
 */
export class InitHookRunner {
  private readonly scripts: InitScript[] = [];
  private readonly completed: Record<InitStage, boolean> = {
    BOOT: false,
    START: false,
    READY: false,
    SHUTDOWN: false,
  };
  private shimDir?: string;
  /** Process groups of scripts started by this runner (each script leads its own group). */
  private readonly groups = new Set<number>();
  private aborted = false;

  constructor(
    private readonly initDir: string | undefined,
    private readonly logger: Logger,
    /** Per-script limit; 0 means none. */
    private readonly timeoutMs: number = DEFAULT_INIT_TIMEOUT_MS,
  ) {}

  /** Finds the scripts of every stage so `/_localstack/init` lists them (UNKNOWN) before they run. */
  async discover(): Promise<void> {
    if (!this.initDir) return;
    for (const stage of Object.values(InitStage)) {
      const dir = join(this.initDir, STAGE_DIRS[stage]);
      let names: string[] = [];
      try {
        names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
      } catch {
        continue;
      }
      for (const name of names.filter((n) => ['.sh', '.py'].includes(extname(n))).sort())
        this.scripts.push({ stage, name, path: join(dir, name), state: 'UNKNOWN', output: '' });
    }
  }

  report(stage?: InitStage): InitReport {
    const scripts = this.scripts
      .filter((s) => !stage || s.stage === stage)
      .map(({ stage: st, name, state }) => ({ stage: st, name, state }));
    return { completed: { ...this.completed }, scripts };
  }

  /** Full detail, including output and exit codes. */
  details(): readonly InitScript[] {
    return this.scripts;
  }

  private async shim(): Promise<string> {
    if (this.shimDir) return this.shimDir;
    const dir = await mkdtemp(join(tmpdir(), 'awskit-shim-'));
    const awslocal = `#!/bin/sh
# awslocal for awskit's local AWS: the aws CLI pointed at the local endpoint.
if ! command -v aws >/dev/null 2>&1; then
  echo "awslocal: the aws CLI is not installed; install it (https://aws.amazon.com/cli/ or 'apt-get install awscli')" >&2
  exit 127
fi
exec aws --endpoint-url="$AWS_ENDPOINT_URL" "$@"
`;
    await writeFile(join(dir, 'awslocal'), awslocal, { mode: 0o755 });
    this.shimDir = dir;
    return dir;
  }

  /** Runs one stage's scripts in order; never throws for a failing script. */
  async run(stage: InitStage, hookEnv: HookEnvironment): Promise<InitScript[]> {
    const list = this.scripts.filter((s) => s.stage === stage);
    if (list.length) {
      const shimDir = await this.shim();
      const env: NodeJS.ProcessEnv = {
        ...scrubbedHookEnv(),
        AWS_ENDPOINT_URL: hookEnv.endpoint,
        AWS_DEFAULT_REGION: hookEnv.region,
        AWS_REGION: hookEnv.region,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        LOCALSTACK_HOST: `${hookEnv.host}:${hookEnv.port}`,
        AWSKIT_LOCAL_ENDPOINT: hookEnv.endpoint,
        PATH: `${shimDir}:${process.env.PATH ?? ''}`,
      };
      for (const script of list) {
        // After an abort, the scripts left are not started (shutdown.d runs through its own runner call).
        if (this.aborted && stage !== InitStage.Shutdown) break;
        await this.runScript(script, env);
      }
    }
    this.completed[stage] = true;
    return list;
  }

  private async runScript(script: InitScript, env: NodeJS.ProcessEnv): Promise<void> {
    script.state = 'RUNNING';
    const started = Date.now();
    let cmd: string;
    let args: string[];
    if (extname(script.name) === '.py') {
      cmd = process.env.AWSKIT_PYTHON ?? 'python3';
      args = [script.path];
    } else {
      const executable = await access(script.path, constants.X_OK).then(
        () => true,
        () => false,
      );
      if (executable) {
        cmd = script.path;
        args = [];
      } else {
        // LocalStack would fail this script; we run it with bash and say so.
        this.logger.warn(
          `init: ${script.name} is not executable (chmod +x it: LocalStack will not run it); running it with bash`,
        );
        cmd = 'bash';
        args = [script.path];
      }
    }
    this.logger.info(`init: running ${script.stage} script ${script.name}`);
    let timedOut = false;
    const code = await new Promise<number | null>((resolve) => {
      // Its own process group, so a timeout or a stop kills the script and everything it started.
      const child: ChildProcess = spawn(cmd, args, {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const pgid = child.pid;
      if (pgid !== undefined) {
        installExitHook();
        this.groups.add(pgid);
        liveGroups.add(pgid);
      }
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        script.output = (script.output + text).slice(-MAX_OUTPUT);
        for (const line of text.split('\n')) if (line.trim()) this.logger.info(`[${script.name}] ${line}`);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      const timer =
        this.timeoutMs > 0 && pgid !== undefined
          ? setTimeout(() => {
              timedOut = true;
              this.logger.error(`init: ${script.name} timed out after ${this.timeoutMs} ms; killing it`);
              void this.killGroup(pgid);
            }, this.timeoutMs)
          : undefined;
      let settled = false;
      const finish = (c: number | null) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve(c);
      };
      child.on('error', (err) => {
        script.output += `\n${err.message}`;
        finish(null);
      });
      child.on('close', (c) => finish(c));
      // A background child that keeps the script's stdout open must not hold start-up: the script is done when
      // it exits. Its leftovers keep running until the local AWS stops (then their group is killed).
      child.on('exit', (c) => {
        const drain = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(c);
        }, DRAIN_MS);
        drain.unref();
      });
    });
    if (timedOut) script.output += `\ninit: timed out after ${this.timeoutMs} ms; killed`;
    // Forget a group that is already empty (its id could be reused); one with leftovers is killed at dispose().
    for (const g of this.groups) if (!groupAlive(g)) this.forget(g);
    script.exitCode = code;
    script.durationMs = Date.now() - started;
    script.state = code === 0 ? 'SUCCESSFUL' : 'ERROR';
    if (code === 0) this.logger.info(`init: ${script.name} finished (${script.durationMs} ms)`);
    else
      this.logger.error(
        `init: ${script.name} failed with exit code ${code}${/\r/.test(script.output) || code === 126 || code === 127 ? ' (check the shebang line for CRLF endings and the exec bit)' : ''}`,
      );
  }

  /** SIGTERM to a script's process group, SIGKILL after a grace period; resolves when the group is gone. */
  private async killGroup(pgid: number): Promise<void> {
    if (!killGroup(pgid, 'SIGTERM')) {
      this.forget(pgid);
      return;
    }
    const deadline = Date.now() + KILL_GRACE_MS;
    while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    killGroup(pgid, 'SIGKILL');
    this.forget(pgid);
  }

  private forget(pgid: number): void {
    this.groups.delete(pgid);
    liveGroups.delete(pgid);
  }

  /**
   * Stops what is running: the current script (and its children) is killed and marked ERROR, and the scripts of
   * the stages before SHUTDOWN that have not started are skipped.
   */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.killAll();
  }

  /** Kills every process group a script left behind. */
  async killAll(): Promise<void> {
    await Promise.all([...this.groups].map((g) => this.killGroup(g)));
  }

  /** Kills leftover hook processes and removes the `awslocal` shim directory. */
  async dispose(): Promise<void> {
    await this.killAll();
    if (this.shimDir) await rm(this.shimDir, { recursive: true, force: true });
    this.shimDir = undefined;
  }
}
