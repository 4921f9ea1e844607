// Numbers for the benchmarks: percentiles of latency samples, rates, and the target lines printed with PASS/MISS.
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Samples are kept in microseconds: integers for the histogram, and finer than any latency measured here. */
const US_PER_MS = 1000;

/**
 * Latency samples (ms) in an HDR histogram: constant memory however many sagas a phase runs, percentiles to three
 * significant digits.
 */
export class LatencyRecorder {
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3 });

  record(latencyMs: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(latencyMs * US_PER_MS)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** p50/p90/p99/max/mean in ms; NaN each when nothing was recorded. */
  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
    const at = (p: number) => h.getValueAtPercentile(p) / US_PER_MS;
    return { count: h.totalCount, p50: at(50), p90: at(90), p99: at(99), max: h.maxValue / US_PER_MS, mean: h.mean / US_PER_MS };
  }
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
