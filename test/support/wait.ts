/** Resolves once `condition` holds (checked every `stepMs`); throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
