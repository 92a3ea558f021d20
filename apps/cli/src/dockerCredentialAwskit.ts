// docker-credential-awskit: Docker runs this as `docker-credential-awskit <get|list|store|erase|version>`.
// The protocol lives in @awskit/ecr-auth; this file only connects it to the process.
import { runCredentialHelper } from '@awskit/ecr-auth';

// The SDK's Node-version notice is left on: it is true information for the user (awskit only silences it in tests).
process.exitCode = await runCredentialHelper({
  argv: process.argv.slice(2),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
