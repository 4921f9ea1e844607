// Runs a service's own npm command (`npm run -w <service> <script> -- …`), as a person would, and hands back its output.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { processEnv } from '@ridehail/shared';
import { repoRoot, type ServiceInfo } from './services';

export interface CommandResult {
  code: number | string;
  /** stdout and stderr lines, in the order they came. */
  lines: string[];
}

/**
 * `env` adds to (and wins over) this process's environment. Under npm (`npm run …`) the same npm runs the command;
 * otherwise the `npm` on PATH.
 */
export async function runServiceCommand(
  service: ServiceInfo,
  script: string,
  args: readonly string[],
  options: { env?: Record<string, string>; onLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const npmArgs = ['run', '--silent', '-w', service.dir, script, '--', ...args];
  const npmCli = process.env.npm_execpath;
  const [command, argv] = npmCli ? [process.execPath, [npmCli, ...npmArgs]] : ['npm', npmArgs];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...processEnv(), ...options.env })) if (v !== undefined) env[k] = v;
  const child = spawn(command, argv, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      options.onLine?.(line);
    });
  }
  const code = await new Promise<number | string>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 10 * 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (c, signal) => {
      clearTimeout(timer);
      resolve(c ?? signal ?? 'unknown');
    });
  });
  return { code, lines };
}
