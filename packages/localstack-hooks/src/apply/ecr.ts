import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
} from '@aws-sdk/client-ecr';
import { createRepositoryInput } from '../requests';
import type { EcrRepository } from '../types';
import { type Ctx, client, errName, type Step, step } from './steps';

export async function planRepository(ctx: Ctx, r: EcrRepository): Promise<Step[]> {
  const ecr = await client(ctx, 'ecr', ECRClient);
  let repo:
    | { imageTagMutability?: string; imageScanningConfiguration?: { scanOnPush?: boolean } }
    | undefined;
  try {
    repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [r.name] }))).repositories?.[0];
  } catch (e) {
    if (errName(e) !== 'RepositoryNotFoundException') throw e;
  }
  if (!repo)
    return [
      step('ecr-repository', r.name, 'create', ['CreateRepository'], async () => {
        try {
          await ecr.send(new CreateRepositoryCommand(createRepositoryInput(r)));
        } catch (e) {
          if (errName(e) !== 'RepositoryAlreadyExistsException') throw e;
        }
      }),
    ];
  const changes: string[] = [];
  const ops: (() => Promise<unknown>)[] = [];
  if ((repo.imageTagMutability ?? 'MUTABLE') !== r.imageTagMutability) {
    changes.push(`imageTagMutability ${repo.imageTagMutability} → ${r.imageTagMutability}`);
    ops.push(() =>
      ecr.send(
        new PutImageTagMutabilityCommand({
          repositoryName: r.name,
          imageTagMutability: r.imageTagMutability,
        }),
      ),
    );
  }
  if ((repo.imageScanningConfiguration?.scanOnPush ?? false) !== r.scanOnPush) {
    changes.push(`scanOnPush → ${r.scanOnPush}`);
    ops.push(() =>
      ecr.send(
        new PutImageScanningConfigurationCommand({
          repositoryName: r.name,
          imageScanningConfiguration: { scanOnPush: r.scanOnPush },
        }),
      ),
    );
  }
  if (!ops.length) return [step('ecr-repository', r.name, 'no-op')];
  return [
    step('ecr-repository', r.name, 'update', changes, async () => {
      for (const op of ops) await op();
    }),
  ];
}
