// The MAG process's small API (`pmip6 mag`): inject attach / detach events (the API
// attach detector, until link-layer detectors exist) and read the Binding Update List.
import express from 'express';
import { z } from 'zod';
import type { ManualDetector } from '../attach/manual.ts';
import type { Mag } from '../mag/index.ts';
import { registry } from '../metrics/registry.ts';
import { bearerAuth } from './app.ts';
import { errorHandler, HttpError, parseWith, paging } from './http.ts';

const attachBody = z
  .object({
    mnId: z.string().min(1).max(253),
    mnLinkLayerId: z.string().regex(/^([0-9a-fA-F]{2}[:-]){1,31}[0-9a-fA-F]{2}$/, 'hex octets like 02:00:5e:00:53:01').optional(),
    /** RFC 5213 §8.5 Access Technology Type (default 4, IEEE 802.11a/b/g). */
    accessTechType: z.number().int().min(1).max(255).default(4),
    link: z.string().min(1).max(64).default('access0'),
    handoffIndicator: z.number().int().min(1).max(5).optional(),
  })
  .strict();

export function createMagApp(mag: Mag, detector: ManualDetector, token: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  const v1 = express.Router();
  v1.use(bearerAuth(token));
  v1.use(express.json({ limit: '1mb' }));
  v1.post('/mag/attach', (req, res) => {
    const b = parseWith(attachBody, req.body);
    detector.attach({ mnId: b.mnId, mnLinkLayerId: b.mnLinkLayerId?.toLowerCase().replace(/-/g, ':'), accessTechType: b.accessTechType, link: b.link, handoffIndicator: b.handoffIndicator });
    res.status(202).json({ accepted: true });
  });
  v1.post('/mag/detach', (req, res) => {
    const b = parseWith(attachBody.pick({ mnId: true, mnLinkLayerId: true, link: true }), req.body);
    if (!detector.isAttached(b.mnId, b.link)) throw new HttpError(404, 'not_found', `${b.mnId} is not attached on ${b.link}`);
    detector.detach({ mnId: b.mnId, mnLinkLayerId: b.mnLinkLayerId, link: b.link });
    res.status(202).json({ accepted: true });
  });
  v1.get('/mag/bul', (req, res) => {
    const q = parseWith(paging, req.query, 'query');
    const all = mag.view.list(q.offset + q.limit);
    res.json({ items: all.slice(q.offset), total: mag.view.size(), limit: q.limit, offset: q.offset });
  });
  v1.get('/mag/lmas', (_req, res) => {
    res.json({ items: mag.view.lmas() });
  });
  app.use('/api/v1', v1);
  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.originalUrl}`)));
  app.use(errorHandler);
  return app;
}
