import { existsSync, readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const entry: Record<string, string> = { awskit: 'src/main.ts' };
if (existsSync('src/dockerCredentialAwskit.ts'))
  entry['docker-credential-awskit'] = 'src/dockerCredentialAwskit.ts';

// One bundled CLI: every @awskit package and the AWS SDK are inlined; heavy command code is loaded lazily
// (dynamic import → separate chunks) so `awskit --help` stays fast. kinesis-local, dynalite and @awskit/server stay
// external: they ship files (a server bundle, a native LevelDB binding, the dashboard) that must be resolved from
// node_modules. `@awskit/server/flags` (the serve flags, pure data) is bundled.
export default defineConfig({
  entry,
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  splitting: true,
  clean: true,
  sourcemap: false,
  minify: false,
  noExternal: [
    /^@awskit\/(?!server$)/,
    /^@aws-sdk\//,
    /^@smithy\//,
    'commander',
    'yaml',
    'zod',
    'protobufjs',
  ],
  external: ['kinesis-local', 'dynalite', '@awskit/server'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __awskitCreateRequire } from 'node:module';\nconst require = __awskitCreateRequire(import.meta.url);",
  },
  define: { __AWSKIT_VERSION__: JSON.stringify(pkg.version) },
});
