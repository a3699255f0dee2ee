// /api/v1/bindings: read-only view of mobility bindings. From the live binding cache of
// the LMA running in this process when there is one; otherwise from the bindings the
// LMAs persisted to the store (docs/ARCHITECTURE.md "Scale-out").
import { Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/index.ts';
import { NotFoundError } from '../../store/errors.ts';
import { paging, parseWith, route } from '../http.ts';

/** One mobility session as the API shows it. */
export interface BindingJson {
  mnId: string;
  mnLinkLayerId: string | null;
  accessTechType: number | null;
  proxyCoa: string;
  lma: string;
  hnps: string[];
  ipv4HoA: string | null;
  lifetime: number;
  registeredAt: string;
  expiresAt: string;
  state: string;
}

/** The live binding cache, as the LMA exposes it to the API. */
export interface BindingsSource {
  list(f: { mnId?: string; proxyCoa?: string; limit: number; offset: number }): { items: BindingJson[]; total: number };
}

const bq = paging.extend({ mnId: z.string().optional(), proxyCoa: z.string().optional() });

export function bindingRoutes(store: Store, live?: () => BindingsSource | undefined): Router {
  const r = Router();
  const fromStore = async (f: z.output<typeof bq>) => {
    const { items, total } = await store.bindings.list(f);
    return {
      total,
      items: items.map(
        (b): BindingJson => ({
          mnId: b.mnId,
          mnLinkLayerId: b.mnLlId,
          accessTechType: b.att,
          proxyCoa: b.proxyCoa,
          lma: b.lmaId,
          hnps: b.hnps,
          ipv4HoA: b.ipv4HoA,
          lifetime: b.lifetimeS,
          registeredAt: b.registeredAt.toISOString(),
          expiresAt: b.expiresAt.toISOString(),
          state: String(b.state.state ?? 'registered'),
        }),
      ),
    };
  };
  const list = async (f: z.output<typeof bq>) => {
    const src = live?.();
    return src ? src.list(f) : fromStore(f);
  };
  route(r, { method: 'get', path: '/bindings', tag: 'bindings', summary: 'List mobility bindings (live binding cache)', query: bq, response: 'Binding', list: true }, async (req) => {
    const q = parseWith(bq, req.query, 'query');
    return { ...(await list(q)), limit: q.limit, offset: q.offset };
  });
  route(r, { method: 'get', path: '/bindings/:mnId', tag: 'bindings', summary: "A mobile node's bindings (one per mobility session)", response: 'Binding', list: true }, async (req) => {
    const res = await list({ mnId: String(req.params.mnId), limit: 1000, offset: 0 });
    if (res.total === 0) throw new NotFoundError('binding', String(req.params.mnId));
    return { ...res, limit: 1000, offset: 0 };
  });
  return r;
}
