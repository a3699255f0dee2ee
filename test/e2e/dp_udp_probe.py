#!/usr/bin/python3
# UDP probe for the data-plane tests: `echo PORT` answers every datagram back to its
# sender; `probe DST PORT INTERVAL_MS` sends a numbered datagram every INTERVAL_MS whatever
# happens (send errors while the link moves are ignored, unlike ping, which backs off for a
# second) and prints "<epoch ms> <seq>" for every answer, one line each. The echo answers
# IPv4 too (a dual-stack socket); the probe speaks IPv4 to an IPv4 DST (an IPv4-only MN).
import socket, sys, time, select

if sys.argv[1] == 'echo':
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(('::', int(sys.argv[2])))
    while True:
        d, a = s.recvfrom(2048)
        s.sendto(d, a)
else:
    dst, port, interval = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000
    s = socket.socket(socket.AF_INET6 if ':' in dst else socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    seq, nxt = 0, time.monotonic()
    while True:
        now = time.monotonic()
        if now >= nxt:
            try:
                s.sendto(seq.to_bytes(4, 'big'), (dst, port))
            except OSError:
                pass
            seq += 1
            nxt += interval
        r, _, _ = select.select([s], [], [], max(0, nxt - time.monotonic()))
        if r:
            try:
                while True:
                    d, _ = s.recvfrom(2048)
                    print(f'{time.time() * 1000:.1f} {int.from_bytes(d[:4], "big")}', flush=True)
            except (BlockingIOError, OSError):
                pass
