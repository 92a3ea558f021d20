// A record processor written only against npm aws-kcl's public API, in the shape of aws-kcl's basic sample
// (samples/basic_sample/consumer/sample_kcl_app.js). It runs unchanged under kcl-bootstrap (Java) or
// `awskit kcl run` (no Java). stdout belongs to the MultiLang protocol: log to stderr (passed through to the
// daemon's log) or to a file, never to stdout.
const kcl = require('aws-kcl');

function log(message) {
  process.stderr.write(`${message}\n`);
}

function recordProcessor() {
  let shardId;
  return {
    initialize(initializeInput, completeCallback) {
      shardId = initializeInput.shardId;
      log(`initialize ${shardId} at ${initializeInput.sequenceNumber}`);
      completeCallback();
    },

    processRecords(processRecordsInput, completeCallback) {
      if (!processRecordsInput?.records) {
        completeCallback();
        return;
      }
      let sequenceNumber;
      for (const record of processRecordsInput.records) {
        const data = Buffer.from(record.data, 'base64').toString();
        sequenceNumber = record.sequenceNumber;
        log(`record ${shardId} ${sequenceNumber} ${record.partitionKey} ${data}`);
      }
      if (!sequenceNumber) {
        completeCallback();
        return;
      }
      // Checkpoint the batch; call completeCallback only once the checkpoint is done.
      processRecordsInput.checkpointer.checkpoint(sequenceNumber, (err, checkpointedSequenceNumber) => {
        if (err) log(`checkpoint ${shardId} failed: ${err}`);
        else log(`checkpointed ${shardId} ${checkpointedSequenceNumber}`);
        completeCallback();
      });
    },

    leaseLost(_leaseLostInput, completeCallback) {
      log(`leaseLost ${shardId}`);
      completeCallback();
    },

    shardEnded(shardEndedInput, completeCallback) {
      log(`shardEnded ${shardId}`);
      // A closed shard must be checkpointed at its end, or its child shards never start (KCL rule).
      shardEndedInput.checkpointer.checkpoint((err) => {
        if (err) log(`SHARD_END checkpoint of ${shardId} failed: ${err}`);
        completeCallback();
      });
    },

    shutdownRequested(shutdownRequestedInput, completeCallback) {
      log(`shutdownRequested ${shardId}`);
      shutdownRequestedInput.checkpointer.checkpoint((err) => {
        if (err) log(`shutdown checkpoint of ${shardId} failed: ${err}`);
        completeCallback();
      });
    },
  };
}

kcl(recordProcessor()).run();
