import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { z } from 'zod';

/** Where Debian (and Ubuntu's deb) put chromium; CHROMIUM_PATH names another. Playwright's own download cannot work here. */
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Where the browser tests write a screenshot of each page they visit (ignored by git). */
export const SCREENSHOTS_DIR =
  process.env.ROUNDHOUSE_SCREENSHOTS_DIR ?? path.resolve(__dirname, '../../test-output/screenshots');

/** The installed chromium. @throws naming how to install it, so a missing browser fails the run rather than skips it. */
export function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CHROMIUM_PATHS;
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) {
    throw new Error(
      `No chromium at ${candidates.join(' or ')}: install Debian's (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  return found;
}

/** Headless chromium; `--no-sandbox` because CI runs as root, where chromium's sandbox refuses to start. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Writes a full-page screenshot of `page` as `<name>.png` in `SCREENSHOTS_DIR`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
}

const violations = z.array(
  z.object({ id: z.string(), impact: z.string().nullable(), nodes: z.array(z.object({ html: z.string() })) }),
);

/**
 * The accessibility violations axe-core finds on the page as it is now, as `rule: element` lines. Axe runs through the
 * DevTools protocol, which the page's Content-Security-Policy does not govern, so the policy stays on for the test.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  // A string, not a function, runs in the page: this project's test code has no DOM types.
  const found: unknown = await page.evaluate('axe.run().then((result) => result.violations)');
  return violations
    .parse(found)
    .flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact ?? 'unknown'}): ${node.html}`));
}

/** The text of the first element `selector` matches, once there is one. */
export async function textOf(page: Page, selector = 'body'): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? '';
}
