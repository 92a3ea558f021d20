// The benchmark's record processor (npm aws-kcl API): decodes every record, checkpoints each batch — the same
// work as the in-process processor it is compared with.
const kcl = require('aws-kcl');

kcl({
  initialize(_input, done) {
    done();
  },
  processRecords(input, done) {
    let bytes = 0;
    for (const r of input.records) bytes += Buffer.from(r.data, 'base64').length;
    if (bytes < 0) process.stderr.write('impossible\n');
    const last = input.records[input.records.length - 1];
    input.checkpointer.checkpoint(last.sequenceNumber, () => done());
  },
  leaseLost(_input, done) {
    done();
  },
  shardEnded(input, done) {
    input.checkpointer.checkpoint(() => done());
  },
  shutdownRequested(input, done) {
    input.checkpointer.checkpoint(() => done());
  },
}).run();
