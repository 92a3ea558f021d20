/**
 * The shipped example declaration (`examples/awskit.local.yaml`, kept identical by a test): stream `my-event-dev`,
 * 1 shard, in ap-northeast-2, with the other resource kinds commented out. `awskit localstack init --example`
 * writes it when a project has no declaration yet.
 */
export const EXAMPLE_DECLARATION_YAML = `# awskit local resources: one declaration for LocalStack init hooks, docker-compose, awskit localstack apply
# and tests. Validate and generate with:  awskit localstack init --config awskit.local.yaml
version: 1
region: ap-northeast-2

kinesis:
  streams:
    - name: my-event-dev
      shards: 1
      retentionHours: 24
      tags:
        team: events
        env: dev

# More resource kinds (uncomment what your project uses):
#
# dynamodb:
#   tables:
#     - name: my-event-dev-leases
#       partitionKey: leaseKey        # type S; 'id:N' for a number key
#       billing: on-demand
#
# ecr:
#   repositories:
#     - name: my-team/my-event-consumer
#       imageTagMutability: IMMUTABLE
#
# iam:
#   policies:
#     - name: my-event-dev-producer
#       document:
#         Version: '2012-10-17'
#         Statement:
#           - Effect: Allow
#             Action: ['kinesis:PutRecord', 'kinesis:PutRecords']
#             Resource: '*'
#   users:
#     - name: my-event-dev-producer
#       policies: [my-event-dev-producer]
`;
