/** Stops what globalSetup started and removes its folder. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.roundhouseTestS3?.stop();
  await globalThis.roundhouseTestServices?.stop();
}
