import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Runs a command to its end; its output as text. */
export function run(
  file: string,
  args: readonly string[],
  options: SpawnSyncOptions = {},
): { status: number; stdout: string; stderr: string } {
  const child = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 16 << 20, ...options });
  if (child.error) {
    throw child.error;
  }
  return { status: child.status ?? 1, stdout: String(child.stdout ?? ''), stderr: String(child.stderr ?? '') };
}

/**
 * The Python of a virtual environment with `requirements`' pins, made once per requirements file and Python version
 * under ~/.cache/roundhouse-bench/ (built aside, then renamed into place, so a half-made one is never used).
 * `BENCH_PYTHON` chooses the Python it is made from.
 */
export function ensureVenv(requirements: string): string {
  const basePython = process.env.BENCH_PYTHON ?? 'python3';
  const version = run(basePython, ['--version']);
  if (version.status !== 0) {
    throw new Error(`${basePython} --version failed: the benchmark needs Python 3 with venv (BENCH_PYTHON to choose)`);
  }
  const hash = createHash('sha256')
    .update(readFileSync(requirements))
    .update(version.stdout + version.stderr)
    .digest('hex')
    .slice(0, 12);
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'roundhouse-bench');
  const venv = join(cache, `venv-${hash}`);
  const python = join(venv, 'bin', 'python');
  if (existsSync(python)) {
    return python;
  }
  mkdirSync(cache, { recursive: true });
  const building = `${venv}.building-${process.pid}`;
  process.stderr.write(`installing the Python tools into ${venv} (once)\n`);
  try {
    const steps: [string, string[]][] = [
      [basePython, ['-m', 'venv', building]],
      [
        join(building, 'bin', 'python'),
        ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements],
      ],
    ];
    for (const [file, args] of steps) {
      if (run(file, args, { stdio: 'inherit' }).status !== 0) {
        throw new Error(`${file} ${args.join(' ')} failed`);
      }
    }
    renameSync(building, venv);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return python;
}
