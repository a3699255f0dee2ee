// Heap measurements for the flood tests: garbage collected first, so what is left is what the
// process holds (node --test runs without --expose-gc; V8 can be asked for gc() at run time).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap used after a full garbage collection. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
