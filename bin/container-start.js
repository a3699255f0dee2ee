#!/usr/bin/env node
// The container image's entry point: in a container the LMA must listen on the container's
// own address (127.0.0.1, lma.address's default, is unreachable from outside), so unless
// PMIP6_LMA_ADDRESS says otherwise it becomes the first non-loopback IPv4 address of this
// network namespace. Then the `pmip6` command, with the same arguments.
import { networkInterfaces } from 'node:os';

if (!process.env.PMIP6_LMA_ADDRESS) {
  const own = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (own) process.env.PMIP6_LMA_ADDRESS = own.address;
}
await import('./pmip6.js');
