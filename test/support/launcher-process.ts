import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** `roundhouse dev` (what npm start runs) in a child process, from the TypeScript sources. */
export class LauncherProcess {
  private child: ChildProcess | undefined;
  output = '';

  /** `clone`: the checkout whose sources run, and the working folder (default: this one, from the test's folder). */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly clone?: string,
  ) {}

  /** Starts the launcher and resolves once it prints its URLs. */
  async start(): Promise<void> {
    const main = path.join(this.clone ?? path.join(__dirname, '../..'), 'src/cli/main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'dev'], {
      env: this.env,
      ...(this.clone ? { cwd: this.clone } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('Roundhouse is running')) {
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`launcher exited with ${String(code)}:\n${this.output}`)));
    });
  }

  /** Sends `signal` and resolves with the exit code once the launcher has exited. */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) {
      return child?.exitCode ?? null;
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }
}
