/** Runs `check` on every case and fails once, listing every case that failed (one test per bug class, every instance named). */
export function eachCase<T>(cases: readonly T[], check: (c: T) => void, label: (c: T) => string = (c) => JSON.stringify(c).slice(0, 80)): void {
  const failed: string[] = [];
  for (const c of cases) {
    try {
      check(c);
    } catch (e) {
      failed.push(`${label(c)}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (failed.length) throw new Error(`${failed.length} of ${cases.length} cases failed:\n${failed.join('\n')}`);
}
