// Numbers for the benchmarks: percentiles of latency samples, rates, and the target lines printed with PASS/MISS.
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of samples sorted ascending (ms); NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((s, x) => s + x, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

export function ms(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a';
}

export function rate(value: number, unit: string): string {
  return Number.isFinite(value) ? `${value.toFixed(value >= 100 ? 0 : 1)} ${unit}` : 'n/a';
}

export function pct(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)} %` : 'n/a';
}

export function latencyLine(s: LatencySummary): string {
  return `p50 ${ms(s.p50)}, p90 ${ms(s.p90)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (${s.count} samples)`;
}

export type Verdict = 'PASS' | 'MISS' | 'NOT RUN';

/** One measured figure beside its target, e.g. `sagas/memory p99 at 200/s: 41.2 ms (target ≤ 150 ms) PASS`. */
export interface TargetResult {
  name: string;
  measured: string;
  target: string;
  verdict: Verdict;
  note?: string;
}

export function atLeast(name: string, value: number, min: number, show: (v: number) => string): TargetResult {
  return { name, measured: show(value), target: `≥ ${show(min)}`, verdict: Number.isFinite(value) && value >= min ? 'PASS' : 'MISS' };
}

export function atMost(name: string, value: number, max: number, show: (v: number) => string): TargetResult {
  return { name, measured: show(value), target: `≤ ${show(max)}`, verdict: Number.isFinite(value) && value <= max ? 'PASS' : 'MISS' };
}

export function notRun(name: string, target: string, why: string): TargetResult {
  return { name, measured: '—', target, verdict: 'NOT RUN', note: why };
}

export function targetLine(t: TargetResult): string {
  const mark = t.verdict === 'PASS' ? 'PASS' : t.verdict === 'MISS' ? 'MISS <<<' : 'NOT RUN !!!';
  return `${t.name}: ${t.measured} (target ${t.target}) ${mark}${t.note ? ` — ${t.note}` : ''}`;
}

export const sleep = (msDelay: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msDelay));

/** Seconds since `start` (a performance.now() value). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
