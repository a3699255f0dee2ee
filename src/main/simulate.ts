// `pmip6 simulate`: drives MAGs with synthetic attach / move / detach events for demos and
// load (the simulator is an attach detector behind the same interface as the real ones).
// With --provision it first creates, through the operator API, the pool, the MAGs and
// the simulated MNs' profiles the LMA needs.
import { isIPv6 } from 'node:net';
import type { Config } from '../config/index.ts';
import { ipv6ToString, parseIpv6 } from '../mh/index.ts';
import { AttachSimulator, type SimScenario } from '../attach/simulator.ts';
import { systemClock } from '../util/clock.ts';
import { startMagRole, type MagRole } from './mag-role.ts';
import { RecordingDataPlane } from '../dataplane/recording.ts';
import { logger } from '../util/log.ts';
import { ApiClient, ApiError } from './api-client.ts';

export interface SimulateOptions {
  mns: number;
  rate: number;
  mags: number;
  scenario?: SimScenario;
  realm: string;
  /** First Proxy-CoA; further MAGs take the following addresses (127.0.0.2, .3, ...). */
  baseAddress: string;
  port: number;
  provision?: { api: string; token: string; pool: string };
  /** Wait after the last event for outstanding signalling, ms. */
  settleMs?: number;
}

export interface SimulateReport {
  summary: ReturnType<AttachSimulator['summary']>;
  pbaStatus: Record<string, number>;
  pbuSent: number;
  retransmissions: number;
  bulEntriesAtEnd: number;
  elapsedMs: number;
}

/** The n-th address after `base` (IPv4, or IPv6 counting in its last 32 bits). */
export function nthAddress(base: string, n: number): string {
  if (isIPv6(base)) {
    const a = parseIpv6(base);
    const v = (((a[12] << 24) | (a[13] << 16) | (a[14] << 8) | a[15]) >>> 0) + n;
    a[12] = (v >>> 24) & 255;
    a[13] = (v >>> 16) & 255;
    a[14] = (v >>> 8) & 255;
    a[15] = v & 255;
    return ipv6ToString(a);
  }
  const parts = base.split('.').map(Number);
  if (parts.length !== 4) throw new Error(`--base-address must be an IPv4 or IPv6 address (got ${base})`);
  const v = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) + n;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** Pool, MAGs and profiles for the simulated MNs; what already exists is left as it is. */
export async function provision(o: SimulateOptions, sim: AttachSimulator, magAddresses: string[]): Promise<void> {
  const p = o.provision!;
  const api = new ApiClient(p.api, p.token);
  const conflict = { accept: [409] };
  await api.request('POST', '/pools', { name: p.pool, prefix: '2001:db8:5100::/40', assignLength: 64 }, conflict);
  for (let i = 0; i < magAddresses.length; i++) {
    await api.request('POST', '/mags', { id: `sim-mag${i + 1}`, proxyCoa: [magAddresses[i]], authorized: true }, conflict);
  }
  const profiles = Array.from({ length: o.mns }, (_, i) => ({ mnId: sim.mnId(i), hnpPool: p.pool, mnLinkLayerIds: [sim.mac(i)] }));
  const r = await api.request<{ errors?: { field: string; message: string }[] }>('POST', '/profiles/import', profiles, { accept: [422] });
  if (r.status !== 422) return;
  const onlyExisting = r.json?.errors?.every((e) => e.field === 'mnId' && /already in use/.test(e.message));
  if (!onlyExisting) throw new ApiError(p.api, 422, 'import_failed', `provisioning profiles: ${JSON.stringify(r.json).slice(0, 2000)}`);
}

export async function simulate(config: Config, o: SimulateOptions): Promise<SimulateReport> {
  const log = logger('simulate');
  const labels = Array.from({ length: o.mags }, (_, i) => `sim-mag${i + 1}`);
  const addresses = labels.map((_, i) => nthAddress(o.baseAddress, i));
  const sim = new AttachSimulator({ mns: o.mns, rate: o.rate, mags: labels, scenario: o.scenario, realm: o.realm, clock: systemClock });
  if (o.provision) await provision(o, sim, addresses);
  const roles: MagRole[] = [];
  try {
    for (let i = 0; i < labels.length; i++) {
      roles.push(await startMagRole(config, { id: labels[i], proxyCoa: addresses[i], port: o.port, detector: sim.detectorFor(labels[i]), dataPlane: new RecordingDataPlane(false) }));
    }
    const t0 = Date.now();
    log.info({ mns: o.mns, rate: o.rate, mags: addresses }, 'simulation started');
    await sim.start();
    const summary = await sim.done;
    for (const r of roles) await r.mag.drained();
    if (o.settleMs) await new Promise((r) => setTimeout(r, o.settleMs));
    const pbaStatus: Record<string, number> = {};
    let pbuSent = 0;
    let retransmissions = 0;
    let bul = 0;
    for (const r of roles) {
      const c = r.mag.counters;
      for (const [k, v] of Object.entries(c.pbaStatus)) pbaStatus[k] = (pbaStatus[k] ?? 0) + v;
      pbuSent += c.sent.pbu ?? 0;
      retransmissions += c.retransmissions;
      bul += r.mag.view.size();
    }
    return { summary, pbaStatus, pbuSent, retransmissions, bulEntriesAtEnd: bul, elapsedMs: Date.now() - t0 };
  } finally {
    for (const r of roles) await r.stop({ deregister: true }).catch(() => undefined);
  }
}
