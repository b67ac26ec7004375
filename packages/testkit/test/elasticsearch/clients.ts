import { Client } from '@elastic/elasticsearch';
import { request } from 'node:http';

type ClientOptions = ConstructorParameters<typeof Client>[0];

const open = new Set<Client>();

/** A real @elastic/elasticsearch client; closed by {@link closeClients}. */
export function esClient(options: ClientOptions): Client {
  const client = new Client(options);
  open.add(client);
  return client;
}

/** Closes every client made by {@link esClient} (call in afterEach). */
export async function closeClients(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.allSettled(all.map((c) => c.close()));
}

/** The headers that configure a 9.x client for an 8.x server (REST compatibility with 8). */
export const compatibleWith8 = {
  accept: 'application/vnd.elasticsearch+json; compatible-with=8',
  'content-type': 'application/vnd.elasticsearch+json; compatible-with=8',
};

/** The error body of an Elasticsearch answer, as far as the tests read it. */
export interface EsErrorBody {
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
  status?: number;
}

/** What the error a promise rejects with looks like (name, status, ES error type), or `resolved`. */
export async function failure(promise: Promise<unknown>): Promise<{
  name: string;
  statusCode: number | undefined;
  type: string | undefined;
  headers: Record<string, unknown>;
  body: EsErrorBody | undefined;
  message: string;
}> {
  try {
    await promise;
  } catch (error) {
    const e = error as {
      name: string;
      message: string;
      meta?: { statusCode?: number; headers?: Record<string, unknown>; body?: EsErrorBody };
    };
    return {
      name: e.name,
      message: e.message,
      statusCode: e.meta?.statusCode,
      type: e.meta?.body?.error?.type,
      headers: e.meta?.headers ?? {},
      body: e.meta?.body,
    };
  }
  return {
    name: 'resolved',
    statusCode: undefined,
    type: undefined,
    headers: {},
    body: undefined,
    message: '',
  };
}

/** A plain HTTP request (no client library): status, headers, body text. Bounded by `timeoutMs`. */
export function rawHttp(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 5000, () => req.destroy(new Error('raw request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}
