import { CliError, EXIT } from './errors.js';

export interface AdminClientOptions {
  /** e.g. `http://127.0.0.1:8080` */
  readonly baseUrl: string;
  readonly token?: string | undefined;
  readonly timeoutMs?: number;
}

export interface AdminClient {
  json<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** The response body as a web stream (large raw messages are not buffered). */
  stream(path: string): Promise<ReadableStream<Uint8Array>>;
}

function describeFailure(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  return cause ?? (err instanceof Error ? err.message : String(err));
}

async function errorFrom(response: Response, url: string): Promise<CliError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = `${response.status}: ${body.error}`;
  } catch {
    // not JSON: keep the status line
  }
  const code = response.status === 401 || response.status === 403 ? EXIT.noPermission : EXIT.failure;
  const hint = response.status === 401 ? " (set SMTP_ADMIN_TOKEN to the daemon's token)" : '';
  return new CliError(`${url}: ${message}${hint}`, code);
}

/** A small fetch-based client for a running daemon's admin API. */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function request(method: string, path: string, body?: unknown): Promise<Response> {
    const url = base + path;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err: unknown) {
      throw new CliError(`cannot reach the daemon at ${base}: ${describeFailure(err)}`, EXIT.unavailable);
    }
    if (!response.ok) throw await errorFrom(response, url);
    return response;
  }

  return {
    async json<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const response = await request(method, path, body);
      return (await response.json()) as T;
    },
    async stream(path) {
      const response = await request('GET', path);
      if (!response.body) throw new CliError(`${base + path}: empty response`);
      return response.body;
    },
  };
}
