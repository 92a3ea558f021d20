/** Version of `@awskit/ecr-auth`, printed by the credential helper's `version` action. Kept equal to package.json by a test. */
export const ECR_AUTH_VERSION = '0.1.0';
