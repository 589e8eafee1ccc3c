import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** Child processes a benchmark started, stopped together at its end. */
export class Processes {
  private readonly children: ChildProcess[] = [];

  /** `logDir` keeps each child's output (the caller removes it, or keeps it to read). */
  constructor(private readonly logDir: string) {}

  /**
   * `roundhouse <role>` from the sources (tsx), as deployed: resolves once `readyText` appears in its output, which
   * is dropped from then on.
   */
  async role(role: 'api' | 'worker', env: NodeJS.ProcessEnv, readyText: string): Promise<ChildProcess> {
    return await this.start(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), role], {
      env: { ...process.env, ...env },
      readyText,
    });
  }

  /**
   * Any command, its output going to a file of its own in `logDir` (a pipe to this busy process would make a child's
   * synchronous log writes wait for it); resolves once `readyText` appears there (at once without one).
   */
  async start(
    file: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; readyText?: string } = {},
  ): Promise<ChildProcess> {
    const log = path.join(
      this.logDir,
      `${path.basename(file)}-${args.at(-1) ?? ''}-${this.children.length}.log`.replace(/[^\w.-]/g, '_'),
    );
    const fd = fs.openSync(log, 'a');
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.children.push(child);
    const readyText = options.readyText;
    if (readyText === undefined) {
      return child;
    }
    const until = Date.now() + 120_000;
    for (;;) {
      const output = fs.readFileSync(log, 'utf8');
      if (output.includes(readyText)) {
        return child;
      }
      if (child.exitCode !== null || Date.now() > until) {
        throw new Error(
          `${path.basename(file)} ${args.join(' ')} ${child.exitCode === null ? 'was not ready in 2 minutes' : `exited with ${child.exitCode}`}:\n${output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM to every child still running; resolves once all have exited. */
  async stop(): Promise<void> {
    const running = this.children.filter((child) => child.exitCode === null && child.signalCode === null);
    const exited = running.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
    running.forEach((child) => child.kill('SIGTERM'));
    await Promise.all(exited);
  }
}

/** Runs a TypeScript script to its end and parses the JSON line it prints (its stderr passes through). */
export function runJsonScript<T>(script: string, options: unknown): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<T>((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(output) as T) : reject(new Error(`${script} exited with ${String(code)}`)),
    );
  });
}
