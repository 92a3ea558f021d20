import { describe, expect, it } from 'vitest';
import { waitForReady } from '../src/index';
import { defaultLocalEndpoint } from '../src/waitForReady';

type Reply = { status: number; body: unknown } | 'refused';

/** A fake LocalStack: each poll takes the next scripted state (the last one repeats). */
function fakeLocalStack(states: { health: Reply; init?: Reply }[]) {
  let i = 0;
  const calls: string[] = [];
  const fetchFake = (async (url: string) => {
    calls.push(url);
    const state = states[Math.min(i, states.length - 1)]!;
    const isInit = url.endsWith('/_localstack/init');
    const reply = isInit ? (state.init ?? { status: 404, body: 'not found' }) : state.health;
    if (isInit) i++;
    if (reply === 'refused') {
      if (!isInit) i++;
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    }
    return new Response(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), {
      status: reply.status,
    });
  }) as unknown as typeof fetch;
  let now = 0;
  const clock = { now: () => now };
  const sleep = async (ms: number) => {
    now += ms;
  };
  return { fetch: fetchFake, clock, sleep, calls };
}

const health = (services: Record<string, string>) => ({
  status: 200,
  body: { services, version: '4.0.0', edition: 'community' },
});
const init = (ready: boolean, scripts: { stage: string; name: string; state: string }[] = []) => ({
  status: 200,
  body: { completed: { BOOT: true, START: true, READY: ready, SHUTDOWN: false }, scripts },
});

describe('waitForReady', () => {
  it('polls until the services run and the READY stage completed', async () => {
    const f = fakeLocalStack([
      { health: 'refused' },
      { health: health({ kinesis: 'starting' }), init: init(false) },
      {
        health: health({ kinesis: 'running', dynamodb: 'available' }),
        init: init(false, [{ stage: 'READY', name: '50-awskit.sh', state: 'RUNNING' }]),
      },
      {
        health: health({ kinesis: 'running', dynamodb: 'available' }),
        init: init(true, [{ stage: 'READY', name: '50-awskit.sh', state: 'SUCCESSFUL' }]),
      },
    ]);
    const state = await waitForReady({
      endpoint: 'http://ls:4566/',
      services: ['kinesis', 'dynamodb'],
      ...f,
    });
    expect(state).toMatchObject({
      endpoint: 'http://ls:4566',
      attempts: 4,
      version: '4.0.0',
      edition: 'community',
    });
    expect(state.init?.scripts).toEqual([{ stage: 'READY', name: '50-awskit.sh', state: 'SUCCESSFUL' }]);
    expect(f.calls[0]).toBe('http://ls:4566/_localstack/health');
    expect(state.elapsedMs).toBe(1500);
  });

  it('fails at once when an init script ends in ERROR, naming it', async () => {
    const f = fakeLocalStack([
      {
        health: health({ kinesis: 'running' }),
        init: init(false, [
          { stage: 'READY', name: '10-seed.sh', state: 'ERROR' },
          { stage: 'READY', name: '50-awskit.sh', state: 'UNKNOWN' },
        ]),
      },
    ]);
    await expect(
      waitForReady({ endpoint: 'http://ls:4566', services: ['kinesis'], ...f }),
    ).rejects.toMatchObject({
      code: 'NOT_READY',
      message: expect.stringContaining('10-seed.sh (READY)'),
    });
  });

  it('fails at once when a needed service is disabled', async () => {
    const f = fakeLocalStack([{ health: health({ kinesis: 'disabled' }), init: init(true) }]);
    await expect(
      waitForReady({ endpoint: 'http://ls:4566', services: ['kinesis'], ...f }),
    ).rejects.toMatchObject({
      code: 'NOT_READY',
      message: expect.stringContaining('service kinesis is disabled'),
    });
  });

  it('says on timeout what was still missing', async () => {
    const f = fakeLocalStack([
      {
        health: health({ kinesis: 'running', dynamodb: 'starting' }),
        init: init(false, [{ stage: 'READY', name: '50-awskit.sh', state: 'RUNNING' }]),
      },
    ]);
    const err = await waitForReady({
      endpoint: 'http://ls:4566',
      services: ['kinesis', 'dynamodb', 'ecr'],
      timeoutMs: 3_000,
      intervalMs: 1_000,
      ...f,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WAIT_TIMEOUT' });
    const msg = (err as Error).message;
    expect(msg).toContain('dynamodb (starting)');
    expect(msg).toContain('ecr (not listed)');
    expect(msg).toContain('READY init stage (50-awskit.sh RUNNING)');
    expect(msg).not.toContain('kinesis');
  });

  it('reports an unreachable endpoint in the timeout message', async () => {
    const f = fakeLocalStack([{ health: 'refused' }]);
    await expect(waitForReady({ endpoint: 'http://ls:4566', timeoutMs: 1_000, ...f })).rejects.toThrow(
      /http:\/\/ls:4566 to answer \(ECONNREFUSED\)/,
    );
  });

  it('can skip the init check for endpoints without /_localstack/init', async () => {
    const f = fakeLocalStack([{ health: health({ kinesis: 'running' }) }]);
    await expect(
      waitForReady({ endpoint: 'http://ls:4566', services: ['kinesis'], requireInit: false, ...f }),
    ).resolves.toMatchObject({ attempts: 1 });
    const g = fakeLocalStack([{ health: health({ kinesis: 'running' }) }]);
    await expect(waitForReady({ endpoint: 'http://ls:4566', timeoutMs: 1_000, ...g })).rejects.toThrow(
      /no init endpoint/,
    );
  });

  it('defaults to AWS_ENDPOINT_URL, then LocalStack variables, then 127.0.0.1:4566', () => {
    expect(defaultLocalEndpoint({ AWS_ENDPOINT_URL: 'http://x:1/' })).toBe('http://x:1');
    expect(defaultLocalEndpoint({ LOCALSTACK_HOST: 'ls' })).toBe('http://ls:4566');
    expect(defaultLocalEndpoint({})).toBe('http://127.0.0.1:4566');
  });
});
