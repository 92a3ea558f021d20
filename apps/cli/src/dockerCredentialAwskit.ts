// docker-credential-awskit: Docker runs this as `docker-credential-awskit <get|list|store|erase|version>`.
// The protocol lives in @awskit/ecr-auth; this file only connects it to the process.
import { runCredentialHelper } from '@awskit/ecr-auth';

// stderr is where the helper explains failures; keep the SDK's 8-line "Node 22 will be required" notice out of it
// (an explicit setting of the variable wins).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await runCredentialHelper({
  argv: process.argv.slice(2),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
