// The operator REST API (express 5): /api/v1 resources behind a bearer token, plus
// /healthz, /readyz (includes the database), /metrics and /openapi.json.
import express, { type Request, type Response, type NextFunction } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/index.ts';
import { registry } from '../metrics/registry.ts';
import { errorHandler, HttpError } from './http.ts';
import { profileRoutes, type ProfileChangeHook } from './routes/profiles.ts';
import { resourceRoutes, type PeerChangeHook } from './routes/resources.ts';
import { bindingRoutes, type BindingsSource } from './routes/bindings.ts';
import { openApiDocument } from './openapi.ts';
import { Counter, Histogram } from 'prom-client';
import { isUnavailable } from '../store/db.ts';
import { currentOutages } from '../store/outage.ts';

export interface ApiOptions {
  store: Store;
  /** Bearer token required on /api/v1 (never logged). */
  token: string;
  /** The live binding cache, when an LMA runs in this process. */
  bindings?: () => BindingsSource | undefined;
  onProfileChange?: ProfileChangeHook;
  /**
   * After a MAG or AAA client is created, replaced or deleted: makes this process's peer
   * directory current before the answer, so that a 201 or 204 is already in force here (other
   * processes follow the database's notification within milliseconds).
   */
  onPeerChange?: PeerChangeHook;
  /** Extra routers (other roles' operator endpoints), mounted under /api/v1. */
  extraRouters?: express.Router[];
  bodyLimit?: string;
  /** Longest wait for the database in /readyz. */
  readyTimeoutMs?: number;
}

const httpRequests = new Counter({ name: 'pmip6_api_requests_total', help: 'API requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
const httpDuration = new Histogram({ name: 'pmip6_api_request_duration_seconds', help: 'API request duration', labelNames: ['method', 'route'], buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2], registers: [registry] });

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time bearer check (compares digests, so lengths leak nothing either). */
export function bearerAuth(token: string) {
  if (!token) throw new Error('the API needs a token (api.token / PMIP6_API_TOKEN)');
  const want = digest(token);
  return (req: Request, _res: Response, next: NextFunction) => {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m || !timingSafeEqual(digest(m[1].trim()), want)) {
      next(new HttpError(401, 'unauthorized', m ? 'wrong bearer token' : 'missing "Authorization: Bearer <token>" header'));
      return;
    }
    next();
  };
}

export function createApp(opts: ApiOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      // The route template (bounded by the code), never the request path: a client choosing
      // paths must not create metric series. Refused before routing (401) or unrouted: 'unmatched'.
      const tpl = req.route?.path as string | undefined;
      const route = typeof tpl === 'string' ? tpl : 'unmatched';
      httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const t0 = Date.now();
    try {
      await Promise.race([
        opts.store.db.ping(),
        new Promise((_r, rej) => setTimeout(() => rej(new Error('timeout')), opts.readyTimeoutMs ?? 3000).unref()),
      ]);
      res.json({ status: 'ready', checks: { database: { status: 'up', kind: opts.store.db.kind, latencyMs: Date.now() - t0 } } });
    } catch (e) {
      // The cause in our words (the driver's text may name hosts and users); the details are in the log.
      const timedOut = (e as Error)?.message === 'timeout';
      const cause = timedOut ? 'database did not answer in time' : isUnavailable(e) ? 'database unreachable' : 'database error';
      // RADIUS and the LMA may still answer from memory (store.outageServeMs): "degraded", not dead.
      res.status(503).json({
        status: 'degraded',
        cause,
        checks: { database: { status: 'down', kind: opts.store.db.kind, cause }, servingFromMemory: currentOutages() },
      });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  let doc: object | undefined; // built on first request, once every route is declared
  app.get('/openapi.json', (_req, res) => {
    res.json((doc ??= openApiDocument()));
  });

  const v1 = express.Router();
  v1.use(bearerAuth(opts.token));
  v1.use(express.json({ limit: opts.bodyLimit ?? '64mb', strict: false }));
  v1.use(express.text({ type: ['text/csv', 'text/plain'], limit: opts.bodyLimit ?? '64mb' }));
  const actor = () => 'api';
  v1.use(profileRoutes(opts.store, actor, opts.onProfileChange));
  v1.use(resourceRoutes(opts.store, actor, opts.onPeerChange));
  v1.use(bindingRoutes(opts.store, opts.bindings));
  for (const r of opts.extraRouters ?? []) v1.use(r);
  v1.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.originalUrl}`)));
  app.use('/api/v1', v1);
  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.originalUrl}`)));
  app.use(errorHandler);
  return app;
}
