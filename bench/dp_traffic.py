#!/usr/bin/python3
# Traffic for `npm run bench -- dataplane`: `sink PORT SECONDS` counts UDP datagrams for
# SECONDS after the first one and prints "<count> <seconds>"; `flood DST PORT IPLEN SECONDS`
# sends IPv6 packets of IPLEN octets (40 IPv6 + 8 UDP + payload) as fast as it can.
import socket, sys, time

if sys.argv[1] == 'sink':
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(('::', int(sys.argv[2])))
    print('ready', flush=True)
    s.recv(2048)
    n, t0, dur = 1, time.monotonic(), float(sys.argv[3])
    s.settimeout(0.2)
    while time.monotonic() - t0 < dur:
        try:
            s.recv(2048)
            n += 1
        except socket.timeout:
            pass
    print(n, time.monotonic() - t0, flush=True)
else:
    dst, port, iplen, dur = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    payload = b'\0' * (iplen - 48)
    sent, end = 0, time.monotonic() + dur
    while time.monotonic() < end:
        for _ in range(256):
            try:
                s.sendto(payload, (dst, port))
                sent += 1
            except OSError:
                pass
    print(sent, flush=True)
