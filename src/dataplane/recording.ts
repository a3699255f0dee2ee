// A data plane that only records what it was asked to do: for unit tests and for running
// the signalling without forwarding (lab, load tests). It keeps the resulting state so
// tests can assert "this prefix is routed over that tunnel" and that nothing leaked.
import type { DataPlane, TunnelId, TunnelSpec } from './types.ts';

export type DataPlaneOp =
  | { op: 'ensureTunnel'; spec: TunnelSpec; id: TunnelId }
  | { op: 'removeTunnel'; id: TunnelId }
  | { op: 'addRoute'; prefix: string; tunnel: TunnelId }
  | { op: 'removeRoute'; prefix: string; tunnel: TunnelId };

/** One settled promise for every call: no promise (nor async frame) per route in load runs. */
const DONE: Promise<void> = Promise.resolve();

export class RecordingDataPlane implements DataPlane {
  readonly ops: DataPlaneOp[] = [];
  /** Live tunnels by id. */
  readonly tunnels = new Map<TunnelId, TunnelSpec>();
  /** Live routes: prefix -> tunnel id. */
  readonly routes = new Map<string, TunnelId>();
  /** Keep the op log (off for load runs, where it would grow without bound). */
  constructor(private readonly keepLog = true) {}

  async ensureTunnel(spec: TunnelSpec): Promise<TunnelId> {
    const id = `${spec.encap}:${spec.local}>${spec.remote}${spec.greKeyOut !== undefined ? `#${spec.greKeyOut}` : ''}`;
    this.tunnels.set(id, spec);
    if (this.keepLog) this.ops.push({ op: 'ensureTunnel', spec, id });
    return id;
  }
  async removeTunnel(id: TunnelId): Promise<void> {
    this.tunnels.delete(id);
    if (this.keepLog) this.ops.push({ op: 'removeTunnel', id });
  }
  addRoute(prefix: string, tunnel: TunnelId): Promise<void> {
    this.routes.set(prefix, tunnel);
    if (this.keepLog) this.ops.push({ op: 'addRoute', prefix, tunnel });
    return DONE;
  }
  removeRoute(prefix: string, tunnel: TunnelId): Promise<void> {
    if (this.routes.get(prefix) === tunnel) this.routes.delete(prefix);
    if (this.keepLog) this.ops.push({ op: 'removeRoute', prefix, tunnel });
    return DONE;
  }
}
