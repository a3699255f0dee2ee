// The agent's UDP sockets. net-snmp's Listener creates its sockets through a module we
// give it (its documented dgramModule option): we bind them ourselves (port 0 allowed,
// exclusive) and see every datagram before net-snmp does.
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

/** Called for each datagram; `next` hands it on to net-snmp. */
export type OnDatagram = (socket: dgram.Socket, buf: Buffer, rinfo: dgram.RemoteInfo, next: (...a: unknown[]) => void) => void;

export interface AgentSockets {
  /** net-snmp's dgramModule option. */
  dgramModule: { createSocket(type: 'udp4' | 'udp6'): dgram.Socket };
  /** The sockets created so far, in the order of the bind addresses. */
  created: dgram.Socket[];
  /** One per created socket: resolves when it listens, rejects on a bind error. */
  listening: Promise<void>[];
}

export function agentSockets(bind: readonly string[], port: number, onDatagram: OnDatagram): AgentSockets {
  const created: dgram.Socket[] = [];
  const listening: Promise<void>[] = [];
  const v6only = bind.some(isIPv4) && bind.some(isIPv6);
  const dgramModule = {
    createSocket: (type: 'udp4' | 'udp6') => {
      const s = dgram.createSocket({ type, ipv6Only: type === 'udp6' && v6only });
      created.push(s);
      listening.push(
        new Promise<void>((resolve, reject) => {
          s.once('listening', resolve);
          s.once('error', reject);
        }),
      );
      const on = s.on.bind(s);
      (s as { on: unknown }).on = (event: string, fn: (...a: unknown[]) => void) =>
        event === 'message' ? on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => onDatagram(s, buf, rinfo, fn)) : on(event, fn);
      const bindTo = s.bind.bind(s);
      (s as { bind: unknown }).bind = (_port: number, address: string) => bindTo({ port, address, exclusive: true });
      return s;
    },
  };
  return { dgramModule, created, listening };
}
