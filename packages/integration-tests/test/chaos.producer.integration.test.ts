import { localAwsEndpoint } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { runProducerChaos } from '../src/chaos/producerRun.js';

describe('producer chaos: throttling, partial failures, resets after forwarding, an outage shorter than the TTL', () => {
  it('(seed 3) every acknowledged record is in the stream where its PutResult says, per key in order, none failed', async () => {
    const r = await runProducerChaos({
      endpoint: localAwsEndpoint(),
      seed: 3,
      durationMs: 12_000,
      // Longer than the producer's longest retry delay (5 s), far shorter than the 30 s TTL.
      outageMs: 6_000,
    });
    console.log(JSON.stringify({ ...r, evidence: undefined }), `\n${r.evidence.join('\n')}`);
    for (const kind of ['throttle', 'partialPutRecords', 'resetAfterForward', 'unavailable'])
      expect(r.faults[kind], kind).toBeGreaterThan(0);
    expect(r.produced).toBeGreaterThan(1_000);
    expect({
      lost: r.lost,
      wrongAcks: r.wrongAcks,
      reorders: r.reorders,
      failed: r.failed,
      inStream: r.inStream,
    }).toEqual({ lost: 0, wrongAcks: 0, reorders: 0, failed: 0, inStream: r.produced });
  });
});
