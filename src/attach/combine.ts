// Several attach detectors feeding one MAG (e.g. the REST API's manual detector next to the
// access-link detector): every event of each goes to the MAG; the presence check (RFC 5213
// §6.13) asks the detector that reported the MN on that link last.
import type { AttachDetachEvent, AttachDetector } from './types.ts';

export function combineDetectors(...detectors: AttachDetector[]): AttachDetector {
  /** (mnId, link) -> the detector whose attach was last; bounded by the MNs attached. */
  const owner = new Map<string, AttachDetector>();
  const key = (mnId: string, link: string) => `${mnId}\n${link}`;
  return {
    onEvent(handler: (e: AttachDetachEvent) => void) {
      for (const d of detectors) {
        d.onEvent((e) => {
          if (e.kind === 'attach') owner.set(key(e.mnId, e.link), d);
          else owner.delete(key(e.mnId, e.link));
          handler(e);
        });
      }
    },
    async start() {
      for (const d of detectors) await d.start();
    },
    async stop() {
      for (const d of detectors) await d.stop();
    },
    isAttached(mnId: string, link: string) {
      const d = owner.get(key(mnId, link));
      if (!d) return detectors.every((x) => x.isAttached?.(mnId, link) ?? true);
      return d.isAttached?.(mnId, link) ?? true;
    },
  };
}
