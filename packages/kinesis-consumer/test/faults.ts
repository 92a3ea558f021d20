import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { testClientOptions } from '@awskit/local/testing';

/**
 * A fault injected into real SDK calls by a client middleware (the request goes to the real local AWS or not,
 * as the fault says). `before` runs before the request is sent, `after` once it came back.
 */
export interface ClientFault {
  /** Command names (`UpdateItemCommand`) this fault looks at; every command when absent. */
  commands?: string[];
  before?: (input: Record<string, unknown>) => Promise<void> | void;
  after?: (input: Record<string, unknown>, output: unknown) => Promise<void> | void;
  /** Runs when the call failed (an AWS error such as a failed condition, a network error, an abort). */
  failed?: (input: Record<string, unknown>, error: unknown) => void;
}

function injectFaults(client: DynamoDBClient | KinesisClient, faults: ClientFault[]): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? '';
      const input = args.input as Record<string, unknown>;
      const active = faults.filter((f) => !f.commands || f.commands.includes(name));
      for (const f of active) await f.before?.(input);
      let out: Awaited<ReturnType<typeof next>>;
      try {
        out = await next(args);
      } catch (e) {
        for (const f of active) f.failed?.(input, e);
        throw e;
      }
      for (const f of active) await f.after?.(input, out.output);
      return out;
    },
    { step: 'initialize', name: 'awskitTestFaults' },
  );
}

/** Test clients with fault hooks; push to `dynamoFaults`/`kinesisFaults` at any time to inject. */
export async function faultyClients(): Promise<{
  kinesis: KinesisClient;
  dynamo: DynamoDBClient;
  dynamoFaults: ClientFault[];
  kinesisFaults: ClientFault[];
}> {
  const kinesis = await createClient(KinesisClient, testClientOptions());
  const dynamo = await createClient(DynamoDBClient, testClientOptions({ maxAttempts: 1 }));
  const dynamoFaults: ClientFault[] = [];
  const kinesisFaults: ClientFault[] = [];
  injectFaults(dynamo, dynamoFaults);
  injectFaults(kinesis, kinesisFaults);
  return { kinesis, dynamo, dynamoFaults, kinesisFaults };
}

/** An error that looks like the named AWS error to the code under test. */
export function awsError(name: string, message = `injected ${name}`): Error {
  return Object.assign(new Error(message), { name, $fault: 'server', $metadata: {} });
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
