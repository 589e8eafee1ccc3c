import fs from 'node:fs/promises';

/** Stops what globalSetup started and removes its folder. */
export default async function globalTeardown(): Promise<void> {
  const services = globalThis.roundhouseTestServices;
  if (!services) {
    return;
  }
  await services.temporal.stop();
  await services.pg.stop();
  await fs.rm(services.root, { recursive: true, force: true });
}
