// /api/v1/profiles: mobile-node profiles (create, read, update, delete, list, bulk import)
// and /api/v1/pools: the prefix and address pools profiles draw from.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/index.ts';
import { profileInputSchema, profilePatchSchema, poolInputSchema } from '../../policy/validate.ts';
import { importProfiles, rowsFromCsv, rowsFromJson, ImportFormatError } from '../../policy/import.ts';
import { createPool, deletePool, getPool, listPools } from '../../store/repos/pools.ts';
import type { Profile } from '../../policy/profile.ts';
import { HttpError, paging, parseWith, route } from '../http.ts';

/** Called after a profile changed or was deleted (RADIUS CoA / Disconnect, RFC 5176). */
export type ProfileChangeHook = (change: { before: Profile; after: Profile | null }) => void;

const profileQuery = paging.extend({
  q: z.string().optional(),
  lma: z.string().optional(),
  enabled: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  hnp: z.string().optional(),
  pool: z.string().optional(),
});

export function profileRoutes(store: Store, actor: (req: Request) => string, onChange?: ProfileChangeHook): Router {
  const r = Router();
  const tag = 'profiles';
  const mnIdParam = (req: Request) => String(req.params.mnId);

  route(r, { method: 'get', path: '/profiles', tag, summary: 'List profiles (paginated, filterable)', query: profileQuery, response: 'Profile', list: true }, async (req) => {
    const q = parseWith(profileQuery, req.query, 'query');
    const { items, total } = await store.profiles.list(q);
    return { items, total, limit: q.limit, offset: q.offset };
  });
  route(r, { method: 'post', path: '/profiles', tag, summary: 'Create a profile', body: profileInputSchema, status: 201, response: 'Profile' }, async (req) =>
    store.profiles.create(parseWith(profileInputSchema, req.body), actor(req)),
  );
  route(r, { method: 'post', path: '/profiles/import', tag, summary: 'Bulk import profiles from CSV (text/csv) or JSON, all or nothing', bodyText: 'text/csv', query: z.object({ dryRun: z.enum(['true', 'false']).optional() }), response: 'ImportReport' }, async (req, res) => {
    let rows;
    try {
      if (typeof req.body === 'string') rows = rowsFromCsv(req.body);
      else if (req.body && typeof req.body === 'object') rows = rowsFromJson(req.body);
      else throw new HttpError(415, 'unsupported_media_type', 'send text/csv or application/json');
    } catch (e) {
      if (e instanceof ImportFormatError) throw new HttpError(400, 'invalid_import', e.message);
      throw e;
    }
    const report = await importProfiles(store.db, rows, { actor: actor(req), dryRun: req.query.dryRun === 'true' });
    res.locals.status = report.ok ? (req.query.dryRun === 'true' ? 200 : 201) : 422;
    return report;
  });
  route(r, { method: 'get', path: '/profiles/:mnId', tag, summary: 'Read a profile', response: 'Profile' }, async (req) => store.profiles.get(mnIdParam(req)));
  route(r, { method: 'put', path: '/profiles/:mnId', tag, summary: 'Replace a profile (omitted fields take their defaults)', body: profileInputSchema, response: 'Profile' }, async (req) => {
    const full = parseWith(profileInputSchema, { ...req.body, mnId: req.body?.mnId ?? mnIdParam(req) });
    if (full.mnId !== mnIdParam(req)) throw new HttpError(400, 'validation_failed', 'mnId: must match the path', [{ field: 'mnId', message: 'must match the path' }]);
    const before = await store.profiles.get(full.mnId);
    const { mnId: _m, hnpCount: _c, ...rest } = full;
    const patch = { ...rest, hnps: full.hnps.length || !full.hnpPool ? full.hnps : before.hnps };
    const after = await store.profiles.update(full.mnId, patch, actor(req));
    onChange?.({ before, after });
    return after;
  });
  route(r, { method: 'patch', path: '/profiles/:mnId', tag, summary: 'Change some fields of a profile', body: profilePatchSchema, response: 'Profile' }, async (req) => {
    const patch = parseWith(profilePatchSchema, req.body);
    const before = await store.profiles.get(mnIdParam(req));
    const after = await store.profiles.update(mnIdParam(req), patch, actor(req));
    onChange?.({ before, after });
    return after;
  });
  route(r, { method: 'delete', path: '/profiles/:mnId', tag, summary: 'Delete a profile (its prefixes return to their pools)' }, async (req) => {
    const before = await store.profiles.delete(mnIdParam(req), actor(req));
    onChange?.({ before, after: null });
    return undefined;
  });

  const ptag = 'pools';
  route(r, { method: 'get', path: '/pools', tag: ptag, summary: 'List prefix and address pools with their usage', response: 'Pool', list: true }, async () => {
    const items = await listPools(store.db);
    return { items, total: items.length, limit: items.length, offset: 0 };
  });
  route(r, { method: 'post', path: '/pools', tag: ptag, summary: 'Create a pool (pools may not overlap)', body: poolInputSchema, status: 201, response: 'Pool' }, async (req) =>
    store.db.transaction((tx) => createPool(tx, parseWith(poolInputSchema, req.body), actor(req))),
  );
  route(r, { method: 'get', path: '/pools/:name', tag: ptag, summary: 'Read a pool', response: 'Pool' }, async (req) => getPool(store.db, String(req.params.name)));
  route(r, { method: 'delete', path: '/pools/:name', tag: ptag, summary: 'Delete an unused pool' }, async (req) => {
    await store.db.transaction((tx) => deletePool(tx, String(req.params.name), actor(req)));
    return undefined;
  });
  return r;
}
