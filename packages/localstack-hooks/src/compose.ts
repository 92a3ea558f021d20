import { parse, stringify } from 'yaml';
import { servicesOf } from './declaration';
import type { LocalResources } from './types';

/** Options of {@link generateCompose}. */
export interface ComposeOptions {
  /**
   * LocalStack image. The default is the last one that starts without an account; a newer or `latest` image needs
   * `LOCALSTACK_AUTH_TOKEN` in the environment of `docker compose up` (the compose file passes it through).
   * @default 'localstack/localstack:4.14.0'
   */
  image?: string;
  /** Compose service and container name. @default 'localstack' */
  serviceName?: string;
  /** Host path (relative to the compose file) of the init directory holding `ready.d/`. @default './init' */
  initDir?: string;
  /** Keep state across restarts (`PERSISTENCE=1` + a volume at /var/lib/localstack). @default false */
  persistence?: boolean;
  /** Host path (relative to the compose file) of the persistence volume. @default './volume' */
  volumeDir?: string;
  /** Host interface the ports bind to. Loopback keeps the emulator off the network. @default '127.0.0.1' */
  bindHost?: string;
  /** Healthcheck interval. @default '5s' */
  healthcheckInterval?: string;
  /**
   * Bake the hooks into a small image (`Dockerfile.localstack`, `COPY --chmod=755`) instead of bind-mounting them:
   * the exec bit then survives hosts and checkouts that drop it (Windows, some CI caches), the cause of LocalStack's
   * "Permission denied" hook failures. Rebuild (`docker compose build`) after regenerating the hook.
   * @default false
   */
  bake?: boolean;
}

/** File name of the Dockerfile written next to the compose file when `bake` is set. */
export const DOCKERFILE_NAME = 'Dockerfile.localstack';

/**
 * The last LocalStack image that starts without an account: since 23 March 2026 newer images (and `latest`) refuse
 * to start without `LOCALSTACK_AUTH_TOKEN`. It gets no more fixes.
 */
export const LOCALSTACK_FREE_IMAGE = 'localstack/localstack:4.14.0';
const FREE_VERSION = [4, 14, 0] as const;

/** Defaults of {@link ComposeOptions}. */
export const COMPOSE_DEFAULTS = {
  image: LOCALSTACK_FREE_IMAGE,
  serviceName: 'localstack',
  initDir: './init',
  persistence: false,
  volumeDir: './volume',
  bindHost: '127.0.0.1',
  healthcheckInterval: '5s',
  bake: false,
} as const satisfies Required<ComposeOptions>;

/**
 * The healthcheck command: healthy only when the gateway answers `/_localstack/health` AND the READY init stage
 * has completed (so `depends_on: condition: service_healthy` waits for the hook, not just for the port).
 * `curl` ships in the LocalStack image. The regex accepts compact and spaced JSON.
 */
export const COMPOSE_HEALTHCHECK =
  'curl -fsS http://localhost:4566/_localstack/health >/dev/null && ' +
  `curl -fsS http://localhost:4566/_localstack/init/ready | grep -Eq '"completed": ?true'`;

/** The docker-compose document as an object (what {@link generateCompose} serializes). */
export function composeObject(resources: LocalResources, options: ComposeOptions = {}) {
  const o = { ...COMPOSE_DEFAULTS, ...options };
  const services = servicesOf(resources);
  const environment: Record<string, string> = {
    // Only start what the declaration uses: faster boot, less memory. ECR needs a LocalStack Pro image.
    SERVICES: services.join(','),
    AWS_DEFAULT_REGION: resources.region,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation, not a JS template
    DEBUG: '${DEBUG:-0}',
    // Passed through from the shell of `docker compose up`: empty without one (fine for 4.14.0), needed by newer images.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation, not a JS template
    LOCALSTACK_AUTH_TOKEN: '${LOCALSTACK_AUTH_TOKEN:-}',
  };
  if (o.persistence) environment.PERSISTENCE = '1';
  const volumes = o.bake ? [] : [`${o.initDir}/ready.d:/etc/localstack/init/ready.d:ro`];
  if (o.persistence) volumes.push(`${o.volumeDir}:/var/lib/localstack`);
  return {
    services: {
      [o.serviceName]: {
        ...(o.bake
          ? { build: { context: '.', dockerfile: DOCKERFILE_NAME } }
          : { image: localStackImage(o.image) }),
        container_name: o.serviceName,
        ports: [`${o.bindHost}:4566:4566`, `${o.bindHost}:4510-4559:4510-4559`],
        environment,
        ...(volumes.length ? { volumes } : {}),
        healthcheck: {
          test: ['CMD-SHELL', COMPOSE_HEALTHCHECK],
          interval: o.healthcheckInterval,
          timeout: '5s',
          retries: 60,
          start_period: '10s',
        },
      },
    },
  };
}

/**
 * Generates `docker-compose.yml` for LocalStack from a declaration: ports 4566 and 4510–4559, `SERVICES` derived
 * from the declared resources, the init dir mounted at `/etc/localstack/init/ready.d`, a healthcheck that waits for
 * the ready hooks, and optional persistence.
 *
 * @example
 * await writeFile('docker-compose.yml', generateCompose(resources, { persistence: true }));
 */
export function generateCompose(resources: LocalResources, options: ComposeOptions = {}): string {
  const header = [
    '# Generated by awskit (@awskit/localstack-hooks). Regenerate with `awskit localstack init`.',
    `# The hooks in ${options.initDir ?? COMPOSE_DEFAULTS.initDir}/ready.d create the declared resources; the`,
    '# healthcheck turns healthy once it has run, so other services can `depends_on: { localstack: { condition: service_healthy } }`.',
    `# Image: ${LOCALSTACK_FREE_IMAGE} is the last one that starts without a LocalStack account; newer ones and "latest"`,
    '# need LOCALSTACK_AUTH_TOKEN in the shell running `docker compose up` (passed through below).',
    '',
  ].join('\n');
  return header + stringify(composeObject(resources, options), { lineWidth: 0 });
}

/**
 * The Dockerfile used with `bake: true`: the LocalStack image plus the hooks copied in with mode 0755 (BuildKit's
 * `COPY --chmod`, the default builder since Docker 23), so the exec bit never depends on the host.
 */
export function generateDockerfile(options: Pick<ComposeOptions, 'image' | 'initDir'> = {}): string {
  const image = localStackImage(options.image ?? COMPOSE_DEFAULTS.image);
  const initDir = (options.initDir ?? COMPOSE_DEFAULTS.initDir).replace(/^\.\//, '');
  return [
    '# Generated by awskit (@awskit/localstack-hooks). Regenerate with `awskit localstack init --bake`.',
    `FROM ${image}`,
    `COPY --chmod=755 ${initDir}/ready.d/ /etc/localstack/init/ready.d/`,
    '',
  ].join('\n');
}

/**
 * A warning when `image` will not start without a LocalStack account and no token is at hand: no tag or `latest`,
 * a floating or newer tag than 4.14.0, or the Pro image. A digest (`@sha256:`) counts as pinned.
 * @param options.authToken the user's `LOCALSTACK_AUTH_TOKEN`, if any
 * @returns the warning, or undefined when the image starts as it is
 */
export function localStackImageWarning(
  image: string,
  options: { authToken?: string } = {},
): string | undefined {
  if (options.authToken) return undefined;
  if (image.includes('@sha256:')) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  const repo = colon < 0 ? image : image.slice(0, colon);
  const tag = colon < 0 ? undefined : image.slice(colon + 1);
  let reason: string | undefined;
  if (/-pro$/.test(repo)) reason = 'is LocalStack Pro';
  else if (!tag || tag === 'latest') reason = tag ? 'is "latest"' : 'has no tag (= "latest")';
  else {
    const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(tag);
    if (!m) reason = `has the floating tag "${tag}"`;
    else {
      const v = [Number(m[1]), Number(m[2]), Number(m[3])];
      const newer = v[0]! - FREE_VERSION[0] || v[1]! - FREE_VERSION[1] || v[2]! - FREE_VERSION[2];
      if (newer > 0) reason = 'is newer than 4.14.0';
    }
  }
  if (!reason) return undefined;
  return `LocalStack image "${image}" ${reason}: since 23 March 2026 such images refuse to start without LOCALSTACK_AUTH_TOKEN. Set LOCALSTACK_AUTH_TOKEN, or pin ${LOCALSTACK_FREE_IMAGE} (the last image without an account; no more fixes), or use \`awskit local up\` (no Docker, no account).`;
}

/**
 * The image `--image`/`image` names: a full reference as is, or a bare tag (`latest`, `2026.03`, `4.14.0`) of
 * `localstack/localstack`. Picking a newer image than {@link LOCALSTACK_FREE_IMAGE} is the user's explicit choice.
 * @example localStackImage('latest') === 'localstack/localstack:latest'
 */
export function localStackImage(imageOrTag: string): string {
  const v = imageOrTag.trim();
  return v.includes('/') || v.includes(':') || v.includes('@') ? v : `localstack/localstack:${v}`;
}

/**
 * {@link localStackImageWarning} for every service of a compose file whose image is a LocalStack one.
 * @returns one warning per such service (none when the file does not parse)
 */
export function composeImageWarnings(composeYaml: string, options: { authToken?: string } = {}): string[] {
  let doc: unknown;
  try {
    doc = parse(composeYaml);
  } catch {
    return [];
  }
  const services = (doc as { services?: Record<string, { image?: unknown }> } | null)?.services ?? {};
  const out: string[] = [];
  for (const [name, svc] of Object.entries(services)) {
    const image = svc?.image;
    if (typeof image !== 'string' || !/(^|\/)localstack\/localstack(-pro)?([:@]|$)/.test(image)) continue;
    const w = localStackImageWarning(image, options);
    if (w) out.push(`service "${name}": ${w}`);
  }
  return out;
}
