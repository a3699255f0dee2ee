// Route registration shared by every resource: each route is declared once, registered on
// express and described in the OpenAPI document, so the document cannot drift from the
// routes (a test compares the two). Errors become JSON bodies that name the bad field.
import type { Request, Response, NextFunction, Router } from 'express';
import { z } from 'zod';
import { ConflictError, InvalidError, NotFoundError } from '../store/errors.ts';
import { DbUnavailableError, isUnavailable } from '../store/db.ts';
import { formatIssues } from '../policy/validate.ts';
import { logger } from '../util/log.ts';
import { requestTextProblem } from './text-guard.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteDoc {
  method: Method;
  /** Express path under /api/v1, e.g. "/profiles/:mnId". */
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  /** Body given as text (CSV import). */
  bodyText?: string;
  query?: z.ZodObject;
  /** Status of the success response. */
  status?: number;
  /** Name of the response schema in components (documented), or undefined for 204. */
  response?: string;
  list?: boolean;
}

export const routeDocs: RouteDoc[] = [];

/** A 4xx/5xx with a machine code, a message and optional per-field problems. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

export function badRequest(err: z.ZodError, where: 'body' | 'query' | 'path' = 'body'): HttpError {
  const fields = formatIssues(err);
  return new HttpError(400, 'validation_failed', `invalid ${where}: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, fields);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path' = 'body'): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw badRequest(r.error, where);
  return r.data;
}

type Handler = (req: Request, res: Response) => Promise<unknown>;

/** Declares a route: documented, registered, its async errors routed to the error handler. */
export function route(router: Router, doc: RouteDoc, handler: Handler): void {
  if (!routeDocs.some((d) => d.method === doc.method && d.path === doc.path)) routeDocs.push(doc);
  router[doc.method](doc.path, (req: Request, res: Response, next: NextFunction) => {
    // Bad text stops here (NUL, broken UTF-8, control characters in identifiers), never at the database.
    const bad = requestTextProblem(req);
    if (bad) {
      next(new HttpError(400, 'validation_failed', `${bad.field}: ${bad.message}`, [bad]));
      return;
    }
    handler(req, res).then(
      (out) => {
        if (res.headersSent) return;
        // A handler may choose the status (res.locals.status), e.g. 422 for a failed import.
        const status = (res.locals.status as number | undefined) ?? doc.status;
        if (out === undefined) res.status(status ?? 204).end();
        else res.status(status ?? 200).type('application/json').send(toJson(out));
      },
      (e: unknown) => next(e),
    );
  });
}

/** JSON with bigints as strings and no secrets. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (k, val) => {
    if (typeof val === 'bigint') return k === 'mip6FeatureVector' ? `0x${val.toString(16).padStart(16, '0')}` : val.toString();
    if (k === 'secret') return undefined;
    return val;
  });
}

export const paging = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const log = logger('api');

/** Maps typed errors to statuses: 400/404/409/413/415/422/503; anything else is a logged 500. */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  let e: HttpError;
  const anyErr = err as { type?: string; status?: number; message?: string; body?: unknown };
  if (err instanceof HttpError) e = err;
  else if (err instanceof NotFoundError) e = new HttpError(404, 'not_found', err.message);
  else if (err instanceof ConflictError) e = new HttpError(409, 'conflict', `${err.field}: ${err.message}`, [{ field: err.field, message: err.message }]);
  else if (err instanceof InvalidError) e = new HttpError(422, 'unprocessable', `${err.field}: ${err.message}`, [{ field: err.field, message: err.message }]);
  else if (err instanceof DbUnavailableError || isUnavailable(err)) {
    res.setHeader('Retry-After', '5');
    e = new HttpError(503, 'database_unavailable', 'the policy store is unavailable; retry later');
  } else if (anyErr?.type === 'entity.parse.failed') e = new HttpError(400, 'invalid_json', `request body is not valid JSON: ${anyErr.message}`);
  else if (anyErr?.type === 'entity.too.large') e = new HttpError(413, 'too_large', 'request body too large');
  else if (anyErr?.type === 'encoding.unsupported' || anyErr?.type === 'charset.unsupported') e = new HttpError(415, 'unsupported_encoding', anyErr.message ?? 'unsupported encoding');
  else if (typeof anyErr?.status === 'number' && anyErr.status >= 400 && anyErr.status < 500) e = new HttpError(anyErr.status, 'bad_request', anyErr.message ?? 'bad request');
  else {
    log.error({ err, method: req.method, url: req.originalUrl }, 'unhandled API error');
    e = new HttpError(500, 'internal', 'internal error');
  }
  if (e.status >= 500 && e.status !== 503) log.warn({ status: e.status, url: req.originalUrl }, e.message);
  res.status(e.status).type('application/json').send(JSON.stringify({ error: { code: e.code, message: e.message, ...(e.fields ? { fields: e.fields } : {}) } }));
}
