import { spawn } from 'node:child_process';
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

  constructor(
    private readonly initDir: string | undefined,
    private readonly logger: Logger,
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
        ...process.env,
        AWS_ENDPOINT_URL: hookEnv.endpoint,
        AWS_DEFAULT_REGION: hookEnv.region,
        AWS_REGION: hookEnv.region,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        LOCALSTACK_HOST: `${hookEnv.host}:${hookEnv.port}`,
        AWSKIT_LOCAL_ENDPOINT: hookEnv.endpoint,
        PATH: `${shimDir}:${process.env.PATH ?? ''}`,
      };
      // A profile or session token from the user's shell would override the dummy keys.
      delete env.AWS_PROFILE;
      delete env.AWS_SESSION_TOKEN;
      for (const script of list) await this.runScript(script, env);
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
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        script.output = (script.output + text).slice(-MAX_OUTPUT);
        for (const line of text.split('\n')) if (line.trim()) this.logger.info(`[${script.name}] ${line}`);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (err) => {
        script.output += `\n${err.message}`;
        resolve(null);
      });
      child.on('close', (c) => resolve(c));
    });
    script.exitCode = code;
    script.durationMs = Date.now() - started;
    script.state = code === 0 ? 'SUCCESSFUL' : 'ERROR';
    if (code === 0) this.logger.info(`init: ${script.name} finished (${script.durationMs} ms)`);
    else
      this.logger.error(
        `init: ${script.name} failed with exit code ${code}${/\r/.test(script.output) || code === 126 || code === 127 ? ' (check the shebang line for CRLF endings and the exec bit)' : ''}`,
      );
  }

  async dispose(): Promise<void> {
    if (this.shimDir) await rm(this.shimDir, { recursive: true, force: true });
  }
}
