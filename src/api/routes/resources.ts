// /api/v1/lmas, /mags, /aaa-clients (read-write) and /accounting, /audit (read-only).
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/index.ts';
import { lmaInputSchema, magInputSchema, aaaClientInputSchema } from '../../policy/validate.ts';
import { countAudit, listAudit } from '../../store/repos/audit.ts';
import { HttpError, paging, parseWith, route } from '../http.ts';

const idParam = z.coerce.number().int().positive();

/** Called after a write to the MAG or AAA-client table, before the answer (see ApiOptions.onPeerChange). */
export type PeerChangeHook = (table: 'mags' | 'aaa_clients') => Promise<void>;

export function resourceRoutes(store: Store, actor: (req: Request) => string, onPeerChange: PeerChangeHook = async () => undefined): Router {
  const r = Router();
  /** The write's result, once this process's peer directory holds the change. */
  const peerWrite = async <T>(table: 'mags' | 'aaa_clients', write: Promise<T>): Promise<T> => {
    const v = await write;
    await onPeerChange(table);
    return v;
  };

  const lq = paging.extend({ group: z.string().optional(), adminState: z.enum(['up', 'down', 'drain']).optional() });
  route(r, { method: 'get', path: '/lmas', tag: 'lmas', summary: 'List LMAs', query: lq, response: 'Lma', list: true }, async (req) => {
    const q = parseWith(lq, req.query, 'query');
    return { ...(await store.lmas.list(q)), limit: q.limit, offset: q.offset };
  });
  route(r, { method: 'post', path: '/lmas', tag: 'lmas', summary: 'Create an LMA', body: lmaInputSchema, status: 201, response: 'Lma' }, async (req) =>
    store.lmas.create(parseWith(lmaInputSchema, req.body), actor(req)),
  );
  route(r, { method: 'get', path: '/lmas/:name', tag: 'lmas', summary: 'Read an LMA', response: 'Lma' }, async (req) => store.lmas.get(String(req.params.name)));
  route(r, { method: 'put', path: '/lmas/:name', tag: 'lmas', summary: 'Replace an LMA', body: lmaInputSchema, response: 'Lma' }, async (req) =>
    store.lmas.update(String(req.params.name), parseWith(lmaInputSchema, { ...req.body, name: req.body?.name ?? req.params.name }), actor(req)),
  );
  route(r, { method: 'delete', path: '/lmas/:name', tag: 'lmas', summary: 'Delete an LMA' }, async (req) => {
    await store.lmas.delete(String(req.params.name), actor(req));
    return undefined;
  });

  const mq = paging.extend({ authorized: z.enum(['true', 'false']).transform((v) => v === 'true').optional() });
  route(r, { method: 'get', path: '/mags', tag: 'mags', summary: 'List MAGs', query: mq, response: 'Mag', list: true }, async (req) => {
    const q = parseWith(mq, req.query, 'query');
    return { ...(await store.mags.list(q)), limit: q.limit, offset: q.offset };
  });
  route(r, { method: 'post', path: '/mags', tag: 'mags', summary: 'Create a MAG (authorised for proxy registration by default)', body: magInputSchema, status: 201, response: 'Mag' }, async (req) =>
    peerWrite('mags', store.mags.create(parseWith(magInputSchema, req.body), actor(req))),
  );
  route(r, { method: 'get', path: '/mags/:id', tag: 'mags', summary: 'Read a MAG', response: 'Mag' }, async (req) => store.mags.get(String(req.params.id)));
  route(r, { method: 'put', path: '/mags/:id', tag: 'mags', summary: 'Replace a MAG', body: magInputSchema, response: 'Mag' }, async (req) => {
    const m = parseWith(magInputSchema, { ...req.body, id: req.body?.id ?? req.params.id });
    if (m.id !== req.params.id) throw new HttpError(400, 'validation_failed', 'id: must match the path', [{ field: 'id', message: 'must match the path' }]);
    return peerWrite('mags', store.mags.update(m.id, m, actor(req)));
  });
  route(r, { method: 'delete', path: '/mags/:id', tag: 'mags', summary: 'Delete a MAG' }, async (req) => {
    await peerWrite('mags', store.mags.delete(String(req.params.id), actor(req)));
    return undefined;
  });

  const cq = paging.extend({ kind: z.enum(['radius', 'diameter']).optional() });
  route(r, { method: 'get', path: '/aaa-clients', tag: 'aaa-clients', summary: 'List AAA clients (secrets are never returned)', query: cq, response: 'AaaClient', list: true }, async (req) => {
    const q = parseWith(cq, req.query, 'query');
    return { ...(await store.aaaClients.list(q)), limit: q.limit, offset: q.offset };
  });
  route(r, { method: 'post', path: '/aaa-clients', tag: 'aaa-clients', summary: 'Create a RADIUS client or Diameter peer', body: aaaClientInputSchema, status: 201, response: 'AaaClient' }, async (req) =>
    peerWrite('aaa_clients', store.aaaClients.create(parseWith(aaaClientInputSchema, req.body), actor(req))),
  );
  route(r, { method: 'get', path: '/aaa-clients/:id', tag: 'aaa-clients', summary: 'Read an AAA client', response: 'AaaClient' }, async (req) =>
    store.aaaClients.get(parseWith(idParam, req.params.id, 'path')),
  );
  route(r, { method: 'put', path: '/aaa-clients/:id', tag: 'aaa-clients', summary: 'Replace an AAA client (the secret must be given again)', body: aaaClientInputSchema, response: 'AaaClient' }, async (req) =>
    peerWrite('aaa_clients', store.aaaClients.update(parseWith(idParam, req.params.id, 'path'), parseWith(aaaClientInputSchema, req.body), actor(req))),
  );
  route(r, { method: 'delete', path: '/aaa-clients/:id', tag: 'aaa-clients', summary: 'Delete an AAA client' }, async (req) => {
    await peerWrite('aaa_clients', store.aaaClients.delete(parseWith(idParam, req.params.id, 'path'), actor(req)));
    return undefined;
  });

  const aq = paging.extend({ mnId: z.string().optional(), sessionId: z.string().optional() });
  route(r, { method: 'get', path: '/accounting', tag: 'accounting', summary: 'List accounting records, newest first', query: aq, response: 'AccountingRecord', list: true }, async (req) => {
    const q = parseWith(aq, req.query, 'query');
    return { ...(await store.accounting.list(q)), limit: q.limit, offset: q.offset };
  });

  const uq = paging.extend({ resource: z.string().optional(), resourceId: z.string().optional() });
  route(r, { method: 'get', path: '/audit', tag: 'audit', summary: 'The audit log of operator changes, newest first', query: uq, response: 'AuditEntry', list: true }, async (req) => {
    const q = parseWith(uq, req.query, 'query');
    const [items, total] = await Promise.all([listAudit(store.db, q), countAudit(store.db, q)]);
    return { items, total, limit: q.limit, offset: q.offset };
  });
  return r;
}
