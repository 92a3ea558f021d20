import type { Command } from 'commander';
import { registerEcr } from './ecr';
import { registerEnv } from './env';
import { registerIam } from './iam';
import { registerKcl } from './kcl';
import { registerKinesisPut } from './kinesisPut';
import { registerKinesisTail } from './kinesisTail';
import { registerLocal } from './local';
import { registerLocalstack } from './localstack';
import { registerServe } from './serve';

/**
 * Every command group of the `awskit` CLI. Each group lives in its own file and loads its package lazily inside
 * the action (`await import(...)`), so `awskit --help` does not load the AWS SDK.
 */
export function registerCommands(program: Command): void {
  registerLocal(program);
  registerEnv(program);
  const kinesis = program
    .command('kinesis')
    .description('Put records into and tail Kinesis streams (KPL-style producer, KCL-style consumer)');
  registerKinesisPut(kinesis);
  registerKinesisTail(kinesis);
  registerKcl(program);
  registerEcr(program);
  registerIam(program);
  registerLocalstack(program);
  registerServe(program);
}
