// Event sink helpers for wiring the MAG's events to several consumers.
import type { MagEvent, MagEventSink } from './types.ts';

/** One MagEventSink feeding several (e.g. the SNMP adapter, the API's event stream, a log). */
export function fanOut(...sinks: (MagEventSink | undefined)[]): MagEventSink {
  const list = sinks.filter((s): s is MagEventSink => s !== undefined);
  return {
    emit(e: MagEvent) {
      for (const s of list) {
        try {
          s.emit(e);
        } catch {
          // One sink's failure must not hide the event from the others.
        }
      }
    },
  };
}

/** A sink collecting events in an array (tests, the simulator summary). */
export function collectEvents(into: MagEvent[] = []): MagEventSink & { events: MagEvent[] } {
  return { events: into, emit: (e) => void into.push(e) };
}
