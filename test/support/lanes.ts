// Lane banners: each lane says once, loudly, whether it ran and against what (DESIGN §8).
const announced = new Set<string>();

export function announceLane(lane: string, status: 'ran' | 'did not run', detail: string): void {
  const key = `${lane}:${status}`;
  if (announced.has(key)) return;
  announced.add(key);
  const line = `lane ${lane}: ${status} ${status === 'ran' ? 'against' : '('}${status === 'ran' ? ' ' + detail : detail + ')'}`;
  process.stdout.write(`\n${status === 'ran' ? '' : '!!! '}${line}\n`);
}
