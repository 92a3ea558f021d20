import { describe, expect, it } from 'vitest';
import { routeRequest, scopeRegion, scopeService } from '../src/router';

const auth = (service: string, region = 'us-east-1') =>
  `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;

describe('routeRequest', () => {
  it.each([
    [{ 'x-amz-target': 'Kinesis_20131202.PutRecords' }, 'kinesis', 'target'],
    [{ 'x-amz-target': 'Kinesis_20131202.SubscribeToShard' }, 'kinesis', 'target'],
    [{ 'x-amz-target': 'DynamoDB_20120810.UpdateItem' }, 'dynamodb', 'target'],
    [{ 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken' }, 'ecr', 'target'],
    [{ authorization: auth('iam') }, 'iam', 'scope'],
    [{ authorization: auth('sts', 'eu-west-1') }, 'sts', 'scope'],
    [{ authorization: auth('kinesis') }, 'kinesis', 'scope'],
  ])('routes %o to %s by %s', (headers, service, by) => {
    expect(routeRequest(headers, '/')).toEqual({ service, by });
  });

  it('routes query-protocol bodies by Action when nothing else identifies the service', () => {
    expect(routeRequest({}, '/', 'Action=GetCallerIdentity&Version=2011-06-15')).toEqual({
      service: 'sts',
      by: 'action',
    });
    expect(routeRequest({}, '/', 'Action=CreateAccessKey&Version=2010-05-08')).toEqual({
      service: 'iam',
      by: 'action',
    });
    expect(routeRequest({}, '/?Action=AssumeRole')).toEqual({ service: 'sts', by: 'action' });
  });

  it('routes presigned URLs by the X-Amz-Credential query parameter', () => {
    const url = `/?Action=ListUsers&X-Amz-Credential=${encodeURIComponent('test/20260101/us-east-1/iam/aws4_request')}`;
    expect(routeRequest({}, url)).toEqual({ service: 'iam', by: 'scope' });
  });

  it('explains what is missing when a request cannot be routed', () => {
    const r = routeRequest({}, '/', 'hello');
    expect(r.service).toBeUndefined();
    expect('reason' in r && r.reason).toMatch(/X-Amz-Target/);
    const s3 = routeRequest({ authorization: auth('s3') }, '/bucket');
    expect('reason' in s3 && s3.reason).toMatch(/"s3" is not emulated/);
    const sqs = routeRequest({ 'x-amz-target': 'AmazonSQS.SendMessage' }, '/');
    expect('reason' in sqs && sqs.reason).toMatch(/unsupported X-Amz-Target/);
  });

  it('reads service and region from a credential scope', () => {
    expect(scopeService(auth('kinesis', 'ap-northeast-2'))).toBe('kinesis');
    expect(scopeRegion(auth('kinesis', 'ap-northeast-2'))).toBe('ap-northeast-2');
    expect(scopeService('Bearer xyz')).toBeUndefined();
  });
});
