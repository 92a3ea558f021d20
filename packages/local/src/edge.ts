import { Agent, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { Logger } from '@awskit/core';
import type { Backend } from './emulators';
import { type EdgeService, needsBody, routeRequest } from './router';

/** Status of one service as shown by `/_localstack/health`. */
export type ServiceStatus = 'starting' | 'running' | 'unavailable' | 'error' | 'stopped';

/** What the edge needs to know about the services behind it. */
export interface EdgeState {
  backends: Partial<Record<EdgeService, Backend>>;
  status: Record<EdgeService, ServiceStatus>;
  /** Why a service is unavailable or broken, shown in error responses. */
  reasons: Partial<Record<EdgeService, string>>;
  /**
   * Starts still in progress after READY (moto's IAM/STS/ECR): a request for a `starting` service waits for its
   * promise (which never rejects) instead of failing, then is routed by the status it left behind.
   */
  pending?: Partial<Record<EdgeService, Promise<unknown>>>;
}

const JSON_PROTOCOL: Record<EdgeService, boolean> = {
  kinesis: true,
  dynamodb: true,
  ecr: true,
  iam: false,
  sts: false,
};

/** Writes an AWS-shaped error that the SDKs surface by name (JSON or query/XML protocol). */
export function sendAwsError(
  res: ServerResponse,
  service: EdgeService | undefined,
  status: number,
  code: string,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (service && !JSON_PROTOCOL[service]) {
    const xml = `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>awskit-local</RequestId></ErrorResponse>`;
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-errortype': code });
    res.end(xml);
    return;
  }
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': code });
  res.end(JSON.stringify({ __type: code, message }));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Forwards a request to a backend on 127.0.0.1, streaming both ways (SubscribeToShard event streams included). */
export function proxy(
  req: IncomingMessage,
  res: ServerResponse,
  port: number,
  body: Buffer | undefined,
  service: EdgeService,
  logger: Logger,
): void {
  const upstream = request(
    { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
      res.flushHeaders();
      up.pipe(res);
      up.on('error', () => res.destroy());
    },
  );
  upstream.on('error', (err) => {
    logger.debug(`edge: ${service} backend error: ${err.message}`);
    sendAwsError(
      res,
      service,
      502,
      'ServiceUnavailableException',
      `awskit local: the ${service} emulator did not answer (${err.message})`,
    );
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  if (body) upstream.end(body);
  else req.pipe(upstream);
}

/** Routes one AWS request to its emulator, or answers with a clear error. */
export async function handleAwsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  state: EdgeState,
  logger: Logger,
): Promise<void> {
  let body: Buffer | undefined;
  if (needsBody(req.headers, req.url ?? '/')) body = await readBody(req);
  const route = routeRequest(req.headers, req.url ?? '/', body?.toString('utf8'));
  if (!route.service) {
    sendAwsError(
      res,
      undefined,
      400,
      'UnknownServiceException',
      `awskit local: cannot tell which AWS service this request is for (${route.reason})`,
    );
    return;
  }
  const service = route.service;
  const pending = state.pending?.[service];
  if (state.status[service] === 'starting' && pending) {
    logger.debug(`edge: ${service} request waits for its emulator to finish starting`);
    await pending;
  }
  const status = state.status[service];
  const backend = state.backends[service];
  if (status !== 'running' || !backend) {
    const why = state.reasons[service] ?? `the ${service} emulator is ${status}`;
    sendAwsError(
      res,
      service,
      501,
      'ServiceUnavailableException',
      `awskit local: ${service} is ${status}: ${why}`,
    );
    return;
  }
  if (backend.server) {
    if (body) {
      // Re-feed a buffered body to the in-process server.
      const { Readable } = await import('node:stream');
      const replay = Object.assign(Readable.from([body]), {
        headers: req.headers,
        method: req.method,
        url: req.url,
        socket: req.socket,
      });
      backend.server.emit('request', replay, res);
    } else backend.server.emit('request', req, res);
    return;
  }
  proxy(req, res, backend.port!, body, service, logger);
}
