import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

/** Where the restored seed-004 client (`api.py`), its `settings.py` and the driver live. */
const CLIENT_DIR = path.join(__dirname, 'seed004');

/** The error dict the client's `load` builds from an HTTP error. */
export interface ClientErrorDict {
  status: 'error';
  code: number;
  reason: string;
  details: string;
}

/**
 * Throws with what is missing when `python3` or its `six` module is not there: the test needs both and installs
 * nothing.
 */
export function requirePython(): void {
  const probe = spawnSync('python3', ['-c', 'import six'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `The seed-004 client test needs python3 with the six module (pip install six); ${
        probe.error ? `python3 could not be run: ${probe.error.message}` : probe.stderr.trim()
      }`,
    );
  }
}

/**
 * One Python process running the seed's `API` class for several named clients (each its own cookie jar), driven a
 * command at a time (test/compat/seed004/driver.py).
 */
export class Seed004Driver {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly answers: AsyncIterator<string>;
  private stderr = '';

  constructor() {
    this.child = spawn('python3', ['driver.py'], {
      cwd: CLIENT_DIR,
      env: { ...process.env, PYTHONPATH: CLIENT_DIR, PYTHONDONTWRITEBYTECODE: '1' },
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.answers = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** Runs one driver command and answers its result. @throws when the client raised. */
  async run(command: Record<string, unknown>): Promise<unknown> {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    const line = await this.answers.next();
    if (line.done) {
      throw new Error(`the client driver ended: ${this.stderr}`);
    }
    const answer = JSON.parse(line.value) as { ok: boolean; result?: unknown; error?: string };
    if (!answer.ok) {
      throw new Error(`the client raised: ${answer.error ?? ''}`);
    }
    return answer.result;
  }

  /** Constructs `API(username, password, host)` as `name`: it logs in. */
  async connect(name: string, username: string, password: string, host: string): Promise<void> {
    await this.run({ op: 'connect', name, username, password, host });
  }

  /** Calls a method of client `name`'s `API`. */
  async call(name: string, method: string, ...args: unknown[]): Promise<unknown> {
    return await this.run({ op: 'call', name, method, args });
  }

  /** Calls a method of client `name`'s `API` with keyword arguments. */
  async callWith(name: string, method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return await this.run({ op: 'call', name, method, args, kwargs });
  }

  /** Ends the Python process. */
  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }
}
