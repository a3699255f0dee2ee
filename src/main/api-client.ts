// A small client of the operator API for the CLI (`pmip6 profile ...`, `pmip6 import`,
// `pmip6 simulate --provision`): bearer token, JSON or CSV bodies, the API's error shape
// ({"error": {"code", "message", "fields"}}) turned into typed errors with a readable message.
import { toJson } from '../api/http.ts';

export class ApiUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const c = (cause as { cause?: { code?: string }; message?: string }) ?? {};
    super(`cannot reach the operator API at ${url} (${c.cause?.code ?? c.message ?? String(cause)})`, { cause });
    this.name = 'ApiUnreachableError';
  }
}

export class ApiError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiResponse<T> {
  status: number;
  json: T;
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  /** One request under /api/v1; `body` is sent as JSON unless `contentType` says otherwise. */
  async request<T>(method: string, path: string, body?: unknown, o: { contentType?: string; accept?: number[] } = {}): Promise<ApiResponse<T>> {
    const url = `${this.base.replace(/\/+$/, '')}/api/v1${path}`;
    const contentType = o.contentType ?? 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
        body: body === undefined ? undefined : contentType === 'application/json' ? toJson(body) : String(body),
      });
    } catch (e) {
      throw new ApiUnreachableError(this.base, e);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (res.ok || o.accept?.includes(res.status)) return { status: res.status, json: json as T };
    const err = (json as { error?: { code?: string; message?: string; fields?: { field: string; message: string }[] } })?.error;
    if (res.status === 401) throw new ApiError(this.base, 401, 'unauthorized', `the operator API at ${this.base} refused the token (401)`);
    throw new ApiError(this.base, res.status, err?.code ?? String(res.status), err?.message ?? `${method} ${path}: HTTP ${res.status}`, err?.fields);
  }
}
