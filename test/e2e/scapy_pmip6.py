#!/usr/bin/python3
# An independent PMIPv6 peer for interop tests: a MAG or an LMA whose Mobility Headers are
# encoded and decoded by scapy (Debian python3-scapy), not by our codec. Scapy has the
# RFC 6275 messages (BU, BA, BE) and options (MN-ID, Alternate CoA, ...); what it lacks is
# built here from scapy primitives: the RFC 5213 options (HNP 22, Handoff Indicator 23,
# Access Technology Type 24, MN Link-layer Identifier 25, Link-local Address 26,
# Timestamp 27), RFC 5847 Heartbeat (MH 13) with the Restart Counter option (28), and
# RFC 5846 Binding Revocation (MH 16).
#
# Carriage: raw IPv6 sockets, protocol 135. Received MHs are checked by the kernel
# (IPV6_CHECKSUM) and again here with scapy's in6_chksum; sent MHs carry the checksum
# scapy computes (kernel checksumming off on the sending socket).
#
#   scapy_pmip6.py lma --address LMAA [--restart-counter N]
#   scapy_pmip6.py mag --address PROXY_COA --lma LMAA
# Both read commands on stdin and write one JSON object per line on stdout:
#   mag:  register MNID HI [HNP]  -> {"event": "pba", ...}
#         deregister MNID HNP     -> {"event": "pba", ...}
#         heartbeat               -> {"event": "heartbeat-response", ...}
#   both: quit
import json
import select
import socket
import struct
import sys
import threading
import time

from scapy.fields import (BitField, ByteEnumField, ByteField, FieldLenField, IntField, IP6Field,
                          LongField, ShortField, StrLenField, XShortField)
from scapy.layers import inet6
from scapy.layers.inet6 import (IPv6, MIP6MH_BA, MIP6MH_BE, MIP6MH_BU, MIP6OptMNID, MIP6OptUnknown,
                                _MIP6OptAlign, _MobilityHeader, _OptionsField, _PhantomAutoPadField,
                                in6_chksum)
from scapy.packet import Packet

IPPROTO_MH = 135


# ---------------------------------------------------------------- RFC 5213 / 5847 options

class OptHNP(_MIP6OptAlign):  # RFC 5213 §8.3, alignment 8n+4
    name = 'Home Network Prefix'
    fields_desc = [ByteField('otype', 22), ByteField('olen', 18), ByteField('reserved', 0),
                   ByteField('plen', 64), IP6Field('prefix', '::')]
    x = 8
    y = 4


class OptHI(_MIP6OptAlign):  # RFC 5213 §8.4
    name = 'Handoff Indicator'
    fields_desc = [ByteField('otype', 23), ByteField('olen', 2), ByteField('reserved', 0), ByteField('hi', 1)]
    x = 0
    y = 0


class OptATT(_MIP6OptAlign):  # RFC 5213 §8.5
    name = 'Access Technology Type'
    fields_desc = [ByteField('otype', 24), ByteField('olen', 2), ByteField('reserved', 0), ByteField('att', 4)]
    x = 0
    y = 0


class OptMNLLID(_MIP6OptAlign):  # RFC 5213 §8.6
    name = 'Mobile Node Link-layer Identifier'
    fields_desc = [ByteField('otype', 25),
                   FieldLenField('olen', None, length_of='lli', fmt='B', adjust=lambda pkt, x: x + 2),
                   ShortField('reserved', 0),
                   StrLenField('lli', b'', length_from=lambda pkt: pkt.olen - 2)]
    x = 0
    y = 0


class OptLLA(_MIP6OptAlign):  # RFC 5213 §8.7, alignment 8n+6
    name = 'Link-local Address'
    fields_desc = [ByteField('otype', 26), ByteField('olen', 16), IP6Field('lla', '::')]
    x = 8
    y = 6


class OptTimestamp(_MIP6OptAlign):  # RFC 5213 §8.8, alignment 8n+2
    name = 'Timestamp'
    fields_desc = [ByteField('otype', 27), ByteField('olen', 8), LongField('ts', 0)]
    x = 8
    y = 2


class OptRestartCounter(_MIP6OptAlign):  # RFC 5847 §3.4, alignment 4n+2
    name = 'Restart Counter'
    fields_desc = [ByteField('otype', 28), ByteField('olen', 4), IntField('counter', 0)]
    x = 4
    y = 2


for _cls in (OptHNP, OptHI, OptATT, OptMNLLID, OptLLA, OptTimestamp, OptRestartCounter):
    inet6.moboptcls[_cls.fields_desc[0].default] = _cls


# ---------------------------------------------------------------- RFC 5847 / 5846 messages

class MH_Heartbeat(_MobilityHeader):  # RFC 5847 §3.1
    name = 'Heartbeat'
    fields_desc = [ByteEnumField('nh', 59, inet6.ipv6nh), ByteField('len', None), ByteField('mhtype', 13),
                   ByteField('res', 0), XShortField('cksum', None),
                   BitField('reserved', 0, 14), BitField('U', 0, 1), BitField('R', 0, 1),
                   IntField('seq', 0),
                   _PhantomAutoPadField('autopad', 1),
                   _OptionsField('options', [], MIP6OptUnknown, 12, length_from=lambda pkt: 8 * pkt.len - 4)]
    overload_fields = {IPv6: {'nh': IPPROTO_MH}}


class MH_BR(_MobilityHeader):  # RFC 5846 §5.1 (BRI) / §5.2 (BRA)
    name = 'Binding Revocation'
    fields_desc = [ByteEnumField('nh', 59, inet6.ipv6nh), ByteField('len', None), ByteField('mhtype', 16),
                   ByteField('res', 0), XShortField('cksum', None),
                   ByteField('brtype', 1), ByteField('code', 0), ShortField('seq', 0),
                   BitField('P', 0, 1), BitField('V', 0, 1), BitField('G', 0, 1), BitField('reserved', 0, 13),
                   _PhantomAutoPadField('autopad', 1),
                   _OptionsField('options', [], MIP6OptUnknown, 12, length_from=lambda pkt: 8 * pkt.len - 4)]
    overload_fields = {IPv6: {'nh': IPPROTO_MH}}


CLASSES = {5: MIP6MH_BU, 6: MIP6MH_BA, 7: MIP6MH_BE, 13: MH_Heartbeat, 16: MH_BR}


# ---------------------------------------------------------------- carriage

_out = threading.Lock()


def emit(obj):
    with _out:
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()


def timestamp_now():
    """RFC 5213 §8.8: 48 bits of seconds since 1970, 16 bits of 1/65536 s."""
    t = time.time()
    sec = int(t)
    return (sec << 16) | int((t - sec) * 65536)


class Endpoint:
    def __init__(self, address):
        self.address = address
        self.rx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_MH)
        self.rx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        self.rx.bind((address, 0))
        # Sending: checksums are scapy's, so the kernel must leave them alone.
        self.tx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_MH)
        self.tx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, -1)
        self.tx.bind((address, 0))

    def send(self, mh, dst):
        pkt = IPv6(src=self.address, dst=dst) / mh
        raw = bytes(pkt)[40:]  # the MH with scapy's checksum over the pseudo-header
        self.tx.sendto(raw, (dst, 0))
        return raw

    def recv(self, timeout):
        r, _, _ = select.select([self.rx], [], [], timeout)
        if not r:
            return None
        data, anc, _flags, addr = self.rx.recvmsg(4096, socket.CMSG_SPACE(20))
        dst = self.address
        for level, typ, val in anc:
            if level == socket.IPPROTO_IPV6 and typ == socket.IPV6_PKTINFO:
                dst = socket.inet_ntop(socket.AF_INET6, val[:16])
        src = addr[0].split('%')[0]
        ok = in6_chksum(IPPROTO_MH, IPv6(src=src, dst=dst), data[:4] + b'\x00\x00' + data[6:]) == struct.unpack('!H', data[4:6])[0]
        cls = CLASSES.get(data[2]) if len(data) > 2 else None
        msg = cls(data) if cls else None
        return src, dst, data, msg, ok


def opts_of(msg, cls):
    return [o for o in msg.options if isinstance(o, cls)]


def mnid_of(msg):
    o = opts_of(msg, MIP6OptMNID)
    return o[0].id.decode() if o else None


# ---------------------------------------------------------------- LMA

def run_lma(address, restart_counter):
    ep = Endpoint(address)
    prefixes = {}   # MN-ID -> HNP (stable across handoffs)
    hb_seq = [1000]
    asked = set()
    emit({'event': 'ready', 'role': 'lma', 'address': address})
    while True:
        if select.select([sys.stdin], [], [], 0)[0] and sys.stdin.readline().strip() in ('quit', ''):
            return
        got = ep.recv(0.1)
        if got is None:
            continue
        src, dst, data, msg, ok = got
        if isinstance(msg, MIP6MH_BU):
            mn = mnid_of(msg)
            hi = opts_of(msg, OptHI)
            att = opts_of(msg, OptATT)
            ts = opts_of(msg, OptTimestamp)
            lli = opts_of(msg, OptMNLLID)
            req = opts_of(msg, OptHNP)
            proxy = (msg.flags & 0x01) != 0 and (msg.flags & 0x40) != 0  # scapy's 7-bit field: P is 0x01, A 0x40
            if mn not in prefixes:
                prefixes[mn] = '2001:db8:77:%x::' % (len(prefixes) + 1)
            hnp = prefixes[mn]
            options = [MIP6OptMNID(id=mn.encode())]
            options.append(OptHNP(plen=64, prefix=hnp))
            if hi:
                options.append(OptHI(hi=hi[0].hi))
            if att:
                options.append(OptATT(att=att[0].att))
            if lli:
                options.append(OptMNLLID(lli=lli[0].lli))
            if ts:
                options.append(OptTimestamp(ts=ts[0].ts))
            ba = MIP6MH_BA(status=0, flags='P', seq=msg.seq, mhtime=msg.mhtime, options=options)
            ep.send(ba, src)
            emit({'event': 'pbu', 'src': src, 'dst': dst, 'checksumOk': ok, 'proxy': proxy, 'mnId': mn,
                  'hi': hi[0].hi if hi else None, 'att': att[0].att if att else None,
                  'lifetime': msg.mhtime * 4, 'timestamp': ts[0].ts if ts else None,
                  'requested': [o.prefix for o in req], 'assigned': hnp, 'seq': msg.seq})
            if msg.mhtime > 0 and src not in asked:
                # RFC 5847 §3.1: ask the MAG, now that it holds a binding with us.
                asked.add(src)
                hb_seq[0] += 1
                ep.send(MH_Heartbeat(R=0, seq=hb_seq[0]), src)
        elif isinstance(msg, MH_Heartbeat):
            rc = opts_of(msg, OptRestartCounter)
            if msg.R == 0:
                ep.send(MH_Heartbeat(R=1, seq=msg.seq, options=[OptRestartCounter(counter=restart_counter)]), src)
                emit({'event': 'heartbeat-request', 'src': src, 'seq': msg.seq, 'checksumOk': ok})
            else:
                emit({'event': 'heartbeat-response', 'src': src, 'seq': msg.seq, 'checksumOk': ok,
                      'restartCounter': rc[0].counter if rc else None})
        else:
            emit({'event': 'other', 'src': src, 'type': data[2] if len(data) > 2 else None, 'checksumOk': ok})


# ---------------------------------------------------------------- MAG

class Mag:
    def __init__(self, address, lma, restart_counter):
        self.ep = Endpoint(address)
        self.lma = lma
        self.rc = restart_counter
        self.seq = 1
        self.waiting = {}
        self.lock = threading.Condition()
        self.hb_seq = 1
        threading.Thread(target=self.receive, daemon=True).start()

    def receive(self):
        while True:
            got = self.ep.recv(0.5)
            if got is None:
                continue
            src, dst, data, msg, ok = got
            if isinstance(msg, MIP6MH_BA):
                with self.lock:
                    self.waiting[('ba', msg.seq)] = (src, msg, ok)
                    self.lock.notify_all()
            elif isinstance(msg, MH_Heartbeat) and msg.R == 0:
                # RFC 5847 §3.3: every request is answered, with our Restart Counter.
                self.ep.send(MH_Heartbeat(R=1, seq=msg.seq, options=[OptRestartCounter(counter=self.rc)]), src)
                emit({'event': 'heartbeat-request', 'src': src, 'seq': msg.seq, 'checksumOk': ok})
            elif isinstance(msg, MH_Heartbeat):
                with self.lock:
                    self.waiting[('hb', msg.seq)] = (src, msg, ok)
                    self.lock.notify_all()
            elif isinstance(msg, MH_BR) and msg.brtype == 1:
                # RFC 5846 §9.1: acknowledge (status 0), copying P, V, G.
                self.ep.send(MH_BR(brtype=2, code=0, seq=msg.seq, P=msg.P, V=msg.V, G=msg.G), src)
                emit({'event': 'bri', 'src': src, 'trigger': msg.code, 'mnId': mnid_of(msg), 'checksumOk': ok})
            else:
                emit({'event': 'other', 'src': src, 'type': data[2] if len(data) > 2 else None, 'checksumOk': ok})

    def wait(self, key, timeout=5):
        end = time.time() + timeout
        with self.lock:
            while key not in self.waiting and time.time() < end:
                self.lock.wait(end - time.time())
            return self.waiting.pop(key, None)

    def pbu(self, mn, hi, hnp, lifetime_s):
        self.seq += 1
        options = [MIP6OptMNID(id=mn.encode()), OptHNP(plen=64 if hnp != '::' else 0, prefix=hnp),
                   OptHI(hi=hi), OptATT(att=4), OptTimestamp(ts=timestamp_now())]
        bu = MIP6MH_BU(seq=self.seq, flags='AP', mhtime=lifetime_s // 4, options=options)
        self.ep.send(bu, self.lma)
        got = self.wait(('ba', self.seq))
        if got is None:
            emit({'event': 'timeout', 'seq': self.seq})
            return
        src, ba, ok = got
        hnps = opts_of(ba, OptHNP)
        hi_echo = opts_of(ba, OptHI)
        ts = opts_of(ba, OptTimestamp)
        emit({'event': 'pba', 'src': src, 'status': ba.status, 'seq': ba.seq, 'checksumOk': ok, 'mnId': mnid_of(ba),
              'proxyFlag': (ba.flags & 0x1) != 0, 'lifetime': ba.mhtime * 4,
              'hnps': ['%s/%d' % (o.prefix, o.plen) for o in hnps], 'hi': hi_echo[0].hi if hi_echo else None,
              'timestampEcho': bool(ts) and ts[0].ts == options[4].ts})

    def heartbeat(self):
        self.hb_seq += 1
        self.ep.send(MH_Heartbeat(R=0, seq=self.hb_seq), self.lma)
        got = self.wait(('hb', self.hb_seq))
        if got is None:
            emit({'event': 'timeout', 'heartbeat': self.hb_seq})
            return
        src, hb, ok = got
        rc = opts_of(hb, OptRestartCounter)
        emit({'event': 'heartbeat-response', 'src': src, 'seq': hb.seq, 'checksumOk': ok, 'restartCounter': rc[0].counter if rc else None})


def run_mag(address, lma, restart_counter):
    m = Mag(address, lma, restart_counter)
    emit({'event': 'ready', 'role': 'mag', 'address': address})
    for line in sys.stdin:
        w = line.split()
        if not w or w[0] == 'quit':
            return
        if w[0] == 'register':
            m.pbu(w[1], int(w[2]), w[3] if len(w) > 3 else '::', 300)
        elif w[0] == 'deregister':
            m.pbu(w[1], 4, w[2], 0)
        elif w[0] == 'heartbeat':
            m.heartbeat()
        else:
            emit({'event': 'error', 'line': line.strip()})


if __name__ == '__main__':
    args = sys.argv[1:]
    opt = {args[i]: args[i + 1] for i in range(1, len(args) - 1, 2)}
    rc = int(opt.get('--restart-counter', '1'))
    if args[0] == 'lma':
        run_lma(opt['--address'], rc)
    else:
        run_mag(opt['--address'], opt['--lma'], rc)
