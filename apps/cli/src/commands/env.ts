import type { Command } from 'commander';
import { clientOptions, globalFlags, output, UsageError } from '../context';
import { nodeVersionNotice } from '../nodeVersion';

const ALL = ['kinesis', 'dynamodb', 'iam', 'sts', 'ecr', 'ecrpublic'] as const;

/** `awskit env`: which endpoint, region and credentials each client would use, and why. */
export function registerEnv(program: Command): void {
  program
    .command('env')
    .description(
      'Show, per service, the endpoint, region and credential source awskit resolves, and why (no secrets printed)',
    )
    .option('-s, --service <name...>', `only these services (${ALL.join(', ')})`)
    .addHelpText(
      'after',
      `
Precedence: --endpoint-url > AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL > profile services/endpoint_url
            > local stack (AWSKIT_LOCAL=1, LOCALSTACK_HOST, LOCALSTACK_ENDPOINT, --local) > AWS.
Examples:
  $ awskit env
  $ AWSKIT_LOCAL=1 awskit env --service kinesis --json
  $ awskit env --profile dev --region eu-west-1`,
    )
    .action(async (opts: { service?: string[] }, cmd: Command) => {
      const flags = globalFlags(cmd);
      const services = opts.service ?? [...ALL];
      for (const s of services)
        if (!(ALL as readonly string[]).includes(s))
          throw new UsageError(`Unknown service "${s}"`, `Choose from ${ALL.join(', ')}.`);
      const { resolveServiceConfig } = await import('@awskit/core');
      const rows: Array<Record<string, string | boolean>> = [];
      for (const s of services) {
        const r = await resolveServiceConfig(s as (typeof ALL)[number], clientOptions(flags));
        rows.push({
          service: s,
          endpoint: r.endpoint.url ?? 'aws (SDK default for the region)',
          endpointSource: r.endpoint.source,
          endpointReason: r.endpoint.reason,
          local: r.endpoint.local,
          region: r.region.value,
          regionSource: r.region.source,
          credentials: r.credentials.source,
          credentialsReason: r.credentials.reason,
          profile: r.profile,
        });
      }
      const notice = nodeVersionNotice();
      output(
        flags,
        () =>
          rows
            .map(
              (r) =>
                `${r.service}\n  endpoint     ${r.endpoint}  [${r.endpointReason}]\n  region       ${r.region}  [${r.regionSource}]\n  credentials  ${r.credentials}  [${r.credentialsReason}]`,
            )
            .concat(notice ? [`\n${notice}`] : [])
            .join('\n'),
        rows,
      );
      // JSON output stays the rows alone; the notice goes to stderr there.
      if (notice && flags.json && !flags.quiet) process.stderr.write(`${notice}\n`);
    });
}
