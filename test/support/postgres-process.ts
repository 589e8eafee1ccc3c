import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** An embedded Postgres in a child process (see postgres-child.ts), which a test can stop and start again. */
export class PostgresProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    const script = path.join(__dirname, 'postgres-child.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, this.dataDir, String(this.port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`postgres child exited with ${String(code)}`)));
    });
  }

  /** Stops the server and waits for its process to end. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
