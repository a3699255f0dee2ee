// Waiting for an outcome in tests: polls a condition until it holds, bounded (the tests check
// outcomes, not speed; the bound only keeps a broken run from hanging).
export async function until<T>(what: string, f: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
