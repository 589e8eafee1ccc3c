import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes';

/** What `roundhouse login` stores: the server and the API token it answered. */
export interface StoredCredentials {
  readonly server: string;
  readonly token: string;
  readonly username?: string;
}

/** The config file: `--config`, `ROUNDHOUSE_CONFIG`, or `roundhouse/config.json` under the XDG config folder. */
export function configPath(option: string | undefined, env: NodeJS.ProcessEnv): string {
  if (option !== undefined && option !== '') {
    return option;
  }
  if (env.ROUNDHOUSE_CONFIG !== undefined && env.ROUNDHOUSE_CONFIG !== '') {
    return env.ROUNDHOUSE_CONFIG;
  }
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ''
      ? env.XDG_CONFIG_HOME
      : path.join(env.HOME ?? os.homedir(), '.config');
  return path.join(base, 'roundhouse', 'config.json');
}

/**
 * The stored credentials, or undefined when there is no config file. A file that the group or others may read is
 * refused: it holds a token.
 */
export async function readCredentials(file: string): Promise<StoredCredentials | undefined> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  if ((mode & 0o077) !== 0) {
    throw new CliError(
      `${file} holds a token and is readable by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `run 'chmod 600 ${file}' or log in again`,
      EXIT.FAILED,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new CliError(`${file} is not a JSON config file; remove it or log in again`, EXIT.FAILED);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !('server' in parsed) ||
    !('token' in parsed) ||
    typeof parsed.server !== 'string' ||
    typeof parsed.token !== 'string'
  ) {
    throw new CliError(`${file} lacks "server" and "token"; log in again`, EXIT.FAILED);
  }
  const username = 'username' in parsed && typeof parsed.username === 'string' ? parsed.username : undefined;
  return { server: parsed.server, token: parsed.token, ...(username === undefined ? {} : { username }) };
}

/**
 * Writes the credentials readable by their owner alone: the folder 0700 when it is created, the file 0600, written
 * to a temporary file first so a reader never sees half of it (and never a moment with wider permissions).
 */
export async function writeCredentials(file: string, credentials: StoredCredentials): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile passes through the umask; this one does not.
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** Removes the config file; false when there was none. */
export async function removeCredentials(file: string): Promise<boolean> {
  try {
    await stat(file);
  } catch {
    return false;
  }
  await rm(file);
  return true;
}
