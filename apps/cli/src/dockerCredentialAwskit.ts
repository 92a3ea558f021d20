// docker-credential-awskit: Docker runs this as `docker-credential-awskit <get|list|store|erase|version>`.
// The protocol lives in @awskit/ecr-auth; this file only connects it to the process.
import { runCredentialHelper } from '@awskit/ecr-auth';
import { silenceSdkNodeVersionWarning } from './nodeVersion';

// Docker shows a helper's stderr to the user on every pull: the SDK's Node-version notice is `awskit env`'s to say.
silenceSdkNodeVersionWarning();
process.exitCode = await runCredentialHelper({
  argv: process.argv.slice(2),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
