import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** One `roundhouse <role>` process from the TypeScript sources, resolved once `readyText` appears in its output. */
export async function startRole(role: string, env: NodeJS.ProcessEnv, readyText: string): Promise<ChildProcess> {
  return await startScript(path.join(__dirname, '../../src/cli/main.ts'), [role], env, readyText);
}

/** A TypeScript script in a process of its own (tsx), resolved once `readyText` appears in its output. */
export async function startScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  readyText: string,
): Promise<ChildProcess> {
  const role = path.basename(script);
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(readyText)) {
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${role} ${args.join(' ')} exited with ${String(code)}:\n${output}`)),
    );
  });
  return child;
}

/** Sends SIGTERM and resolves with the exit code. */
export function stopRole(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    // Exited already, or killed by a signal (a test's SIGKILL): there is no exit event left to wait for.
    return Promise.resolve(child.exitCode);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}
