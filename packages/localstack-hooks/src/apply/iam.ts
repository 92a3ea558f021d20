import {
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateUserCommand,
  DeletePolicyVersionCommand,
  GetPolicyVersionCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { toAwskitError } from '@awskit/core';
import { iamTags } from '../requests';
import type { IamPolicy, IamUser } from '../types';
import { type Ctx, canonical, client, decodePolicy, errName, type Step, step } from './steps';

export async function planIam(ctx: Ctx, policies: IamPolicy[], users: IamUser[]): Promise<Step[]> {
  if (!policies.length && !users.length) return [];
  const iam = await client(ctx, 'iam', IAMClient);
  // Customer-managed policies by name (ListPolicies avoids an STS call to learn the account id).
  const arns = new Map<string, { arn: string; version?: string }>();
  let marker: string | undefined;
  do {
    const res = await iam.send(new ListPoliciesCommand({ Scope: 'Local', Marker: marker, MaxItems: 1000 }));
    for (const p of res.Policies ?? [])
      if (p.PolicyName && p.Arn)
        arns.set(p.PolicyName, {
          arn: p.Arn,
          ...(p.DefaultVersionId ? { version: p.DefaultVersionId } : {}),
        });
    marker = res.IsTruncated ? res.Marker : undefined;
  } while (marker);

  const policySteps: Step[] = [];
  for (const p of policies) {
    const doc = JSON.stringify(p.document);
    const found = arns.get(p.name);
    if (!found) {
      policySteps.push(
        step('iam-policy', p.name, 'create', ['CreatePolicy'], async () => {
          const res = await iam.send(
            new CreatePolicyCommand({
              PolicyName: p.name,
              PolicyDocument: doc,
              ...(p.description ? { Description: p.description } : {}),
            }),
          );
          if (res.Policy?.Arn) arns.set(p.name, { arn: res.Policy.Arn });
        }),
      );
      continue;
    }
    const current = found.version
      ? decodePolicy(
          (await iam.send(new GetPolicyVersionCommand({ PolicyArn: found.arn, VersionId: found.version })))
            .PolicyVersion?.Document,
        )
      : undefined;
    if (canonical(current) === canonical(p.document)) {
      policySteps.push(step('iam-policy', p.name, 'no-op'));
      continue;
    }
    policySteps.push(
      step('iam-policy', p.name, 'update', ['CreatePolicyVersion (set as default)'], async () => {
        // A policy keeps at most 5 versions: drop the oldest non-default one first.
        const versions =
          (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: found.arn }))).Versions ?? [];
        if (versions.length >= 5) {
          const oldest = versions
            .filter((v) => !v.IsDefaultVersion)
            .sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))[0];
          if (oldest?.VersionId)
            await iam.send(
              new DeletePolicyVersionCommand({ PolicyArn: found.arn, VersionId: oldest.VersionId }),
            );
        }
        await iam.send(
          new CreatePolicyVersionCommand({ PolicyArn: found.arn, PolicyDocument: doc, SetAsDefault: true }),
        );
      }),
    );
  }

  const userSteps: Step[] = [];
  for (const u of users) {
    let exists = true;
    try {
      await iam.send(new GetUserCommand({ UserName: u.name }));
    } catch (e) {
      if (errName(e) !== 'NoSuchEntity' && errName(e) !== 'NoSuchEntityException') throw e;
      exists = false;
    }
    const changes: string[] = exists ? [] : ['CreateUser'];
    const ops: (() => Promise<unknown>)[] = [];
    if (!exists)
      ops.push(async () => {
        try {
          await iam.send(
            new CreateUserCommand({
              UserName: u.name,
              ...(Object.keys(u.tags).length ? { Tags: iamTags(u.tags) } : {}),
            }),
          );
        } catch (e) {
          if (errName(e) !== 'EntityAlreadyExists' && errName(e) !== 'EntityAlreadyExistsException') throw e;
        }
      });
    for (const [name, document] of Object.entries(u.inlinePolicies)) {
      let current: unknown;
      if (exists) {
        try {
          current = decodePolicy(
            (await iam.send(new GetUserPolicyCommand({ UserName: u.name, PolicyName: name }))).PolicyDocument,
          );
        } catch (e) {
          if (errName(e) !== 'NoSuchEntity' && errName(e) !== 'NoSuchEntityException') throw e;
        }
      }
      if (canonical(current) !== canonical(document)) {
        changes.push(`PutUserPolicy ${name}`);
        ops.push(() =>
          iam.send(
            new PutUserPolicyCommand({
              UserName: u.name,
              PolicyName: name,
              PolicyDocument: JSON.stringify(document),
            }),
          ),
        );
      }
    }
    const attached = new Set<string>();
    if (exists) {
      const res = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: u.name, MaxItems: 1000 }));
      for (const a of res.AttachedPolicies ?? []) {
        if (a.PolicyArn) attached.add(a.PolicyArn);
        if (a.PolicyName) attached.add(a.PolicyName);
      }
    }
    for (const ref of u.policies) {
      const isArn = ref.startsWith('arn:');
      if (attached.has(ref) || (!isArn && arns.has(ref) && attached.has(arns.get(ref)!.arn))) continue;
      changes.push(`AttachUserPolicy ${ref}`);
      ops.push(async () => {
        const arn = isArn ? ref : arns.get(ref)?.arn;
        if (!arn) throw new Error(`policy ${ref} was not created`);
        await iam.send(new AttachUserPolicyCommand({ UserName: u.name, PolicyArn: arn }));
      });
    }
    userSteps.push(
      ops.length === 0
        ? step('iam-user', u.name, 'no-op')
        : step('iam-user', u.name, exists ? 'update' : 'create', changes, async () => {
            for (const op of ops) await op();
          }),
    );
  }
  // Users attach policies by ARN, so they run after every policy step: one hidden step runs the policies in order,
  // then the users; the policy steps themselves are listed for the plan only.
  if (policySteps.length === 0) return userSteps;
  return [
    ...policySteps.map(({ run: _run, ...rest }) => rest),
    {
      ...step('iam-policy', '(policies)', 'no-op'),
      hidden: true,
      run: async () => {
        for (const p of policySteps) {
          try {
            await p.run?.();
          } catch (e) {
            throw Object.assign(toAwskitError(e), { step: { kind: p.kind, name: p.name } });
          }
        }
      },
      after: userSteps,
    },
  ];
}
