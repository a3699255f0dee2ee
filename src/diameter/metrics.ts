// Diameter counters on the process registry (prom-client). Hot-path counts are plain numbers in
// per-(role, peer) objects copied into prom-client at scrape time (as src/radius/metrics.ts).
// Label values are bounded: `peer` is a provisioned peer's name, a configured peer, or "unknown"
// (before a CER is admitted); `command` is a dictionary name or "other"; `result` a Result-Code
// this node sends or receives from the fixed RFC 6733 set (other values count as "other");
// `cause` one of the fixed problem causes of sm.ts / server.ts.
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.ts';
import { Result } from './constants.ts';
import { commandName } from './dictionary.ts';

export interface PeerTraffic {
  /** Requests received, by command name. */
  requests: Record<string, number>;
  /** Answers sent, by Result-Code. */
  answers: Record<string, number>;
  /** Requests answered from the duplicate cache or dropped as in progress (RFC 6733 §3). */
  duplicates: number;
  /** Problems by cause (malformed input, refused CERs, ...). */
  problems: Record<string, number>;
}

const traffic = new Map<string, { role: string; peer: string; t: PeerTraffic }>();
const KNOWN_RESULTS = new Set<number>(Object.values(Result));

/** The counters of a (role, peer) pair; keep it and increment its fields. */
export function trafficFor(role: 'server' | 'client', peer: string): PeerTraffic {
  const k = `${role}\0${peer}`;
  let e = traffic.get(k);
  if (!e) {
    e = { role, peer, t: { requests: {}, answers: {}, duplicates: 0, problems: {} } };
    traffic.set(k, e);
  }
  return e.t;
}

const labels = new Map<number, string>();
/** "AA-Request", "Device-Watchdog-Answer", or "other" (memoised: no string built per message). */
export const commandLabel = (code: number, request: boolean): string => {
  const k = request ? code : -code - 1;
  let l = labels.get(k);
  if (l === undefined) {
    const n = commandName(code, request);
    l = n.startsWith('command ') ? 'other' : n;
    if (labels.size < 64) labels.set(k, l);
  }
  return l;
};
const resultLabels = new Map<number, string>([...KNOWN_RESULTS].map((c) => [c, String(c)]));
export const resultLabel = (code: number | null): string => (code !== null ? resultLabels.get(code) ?? 'other' : 'other');

export const diameterRequests = new Counter({
  name: 'pmip6_diameter_requests_total',
  help: 'Diameter requests received, by role (server, client), peer and command',
  labelNames: ['role', 'peer', 'command'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { role, peer, t } of traffic.values()) for (const [c, v] of Object.entries(t.requests)) this.labels(role, peer, c).inc(v);
  },
});

export const diameterAnswers = new Counter({
  name: 'pmip6_diameter_answers_total',
  help: 'Diameter answers sent, by role, peer and Result-Code',
  labelNames: ['role', 'peer', 'result'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { role, peer, t } of traffic.values()) for (const [c, v] of Object.entries(t.answers)) this.labels(role, peer, c).inc(v);
  },
});

export const diameterDuplicates = new Counter({
  name: 'pmip6_diameter_duplicates_total',
  help: 'Duplicate requests (same Origin-Host and End-to-End Identifier, RFC 6733 §3) answered from cache or dropped while in progress',
  labelNames: ['role', 'peer'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { role, peer, t } of traffic.values()) if (t.duplicates) this.labels(role, peer).inc(t.duplicates);
  },
});

export const diameterProblems = new Counter({
  name: 'pmip6_diameter_problems_total',
  help: 'Diameter input refused, answered with an error or dropped, and connections ended by errors, by role, peer and cause',
  labelNames: ['role', 'peer', 'cause'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { role, peer, t } of traffic.values()) for (const [c, v] of Object.entries(t.problems)) this.labels(role, peer, c).inc(v);
  },
});

export const diameterConnections = new Gauge({
  name: 'pmip6_diameter_connections',
  help: 'Open Diameter peer connections (after CER/CEA), by role',
  labelNames: ['role'] as const,
  registers: [registry],
});

export const diameterSessions = new Gauge({
  name: 'pmip6_diameter_sessions',
  help: 'Authorization sessions the Diameter server keeps (RFC 6733 §8.1) for profile-change pushes',
  registers: [registry],
});

export const diameterPushes = new Counter({
  name: 'pmip6_diameter_pushes_total',
  help: 'Server-initiated RAR (profile change) and ASR (revocation) by outcome: ack, nak, timeout, no_connection',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});
