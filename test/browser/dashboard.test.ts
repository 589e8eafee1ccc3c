/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import type { User } from '../../src/db/models/user';
import { buildApiUser, PASSWORD } from '../fixtures/api-app';
import { safetensorsFile } from '../fixtures/datasets';
import { FIXTURES } from '../fixtures/onnx-edge-cases';
import { axeViolations, launchChromium, screenshot, textOf } from '../support/browser';
import {
  type ClientBehaviour,
  createTraining,
  registerClients,
  type SimulatedClient,
  startTrainingStack,
  type TrainingStack,
} from '../support/training-scenario';
import { waitFor } from '../support/wait';
import { FIXTURE_FACTS, mnistBatch } from '../unit/aggregation/helpers/fixtures';

/** The 16 fixture digits as a dataset (x float32 [16, 1, 28, 28], y int64), for the server's evaluation. */
function digitsFile(): Buffer {
  const { mean, std } = FIXTURE_FACTS.normalization;
  const batch = mnistBatch();
  return safetensorsFile({
    x: {
      dtype: 'F32',
      shape: [batch.labels.length, 1, 28, 28],
      values: Float32Array.from(batch.pixels.flat(), (p) => (p / 255 - mean) / std),
    },
    y: { dtype: 'I64', shape: [batch.labels.length], values: new BigInt64Array(batch.labels.map(BigInt)) },
  });
}

/** A promise and the function that settles it: the clients wait on one before each round's upload. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves once `check` holds (asked every 100 ms); throws after `timeoutMs`. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Waits until the chart titled `title` holds `points` values (its table of values has that many rows). Locators, not
 * `waitForFunction`: Playwright evaluates a function's text in the page, which the page's CSP forbids (no eval).
 */
async function waitForPoints(page: Page, title: string, points: number): Promise<void> {
  const rows = page
    .locator('figure.chart')
    .filter({ has: page.getByText(title, { exact: true }) })
    .locator('tbody tr');
  await until(async () => (await rows.count()) === points, `${points} points on "${title}"`);
}

/** Waits until the page shows `text`. */
async function waitForText(page: Page, text: string): Promise<void> {
  await page.getByText(text).first().waitFor({ timeout: 60_000 });
}

/** The status a `fetch` of `path` made by the page (with its cookies) answers. */
async function statusFromPage(page: Page, path: string): Promise<unknown> {
  return await page.evaluate(`fetch(${JSON.stringify(path)}).then((res) => res.status)`);
}

describe('the dashboard in chromium', () => {
  let stack: TrainingStack;
  let server: http.Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let actor: User;
  let clients: SimulatedClient[];
  const behaviour: ClientBehaviour = {};
  const round0 = gate();
  /**
   * Console errors other than HTTP refusals (the tests provoke a 401 and a 400 and check them): script errors and
   * Content-Security-Policy violations.
   */
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    stack = await startTrainingStack('browser');
    const handle = stack.api.app.callback();
    server = http.createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The actor shares a group with three clients (so it may pick them) and owns the evaluation dataset.
    actor = await buildApiUser(stack.api.knex, { actor: true, username: `ada-${Date.now()}` });
    behaviour.gate = round0.promise;
    clients = await registerClients(base, `browser-${Date.now()}`, behaviour);
    stack.clients.push(...clients);
    const auth = `Token ${actor.token}`;
    const group = await request(base)
      .post('/api/groups/')
      .set('Authorization', auth)
      .send({ name: `lab-${Date.now()}` });
    const members = await request(base)
      .post(`/api/groups/${(group.body as { id: number }).id}/members/`)
      .set('Authorization', auth)
      .send({ user_ids: clients.map((c) => c.id) });
    expect(members.status).toBe(200);
    const dataset = await request(base)
      .post('/api/datasets/')
      .set('Authorization', auth)
      .field('name', 'digits')
      .field('description', '16 MNIST digits')
      .attach('file', digitsFile(), 'digits.safetensors');
    expect(dataset.status).toBe(201);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded')) {
        consoleErrors.push(message.text());
      }
    });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  afterAll(async () => {
    round0.open();
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stack.close();
  });

  // The steps share one browser page, in order, as one person would use the dashboard.
  it('when a visitor is not signed in, any page is the sign-in form, and the API refuses the page its data', async () => {
    await page.goto(`${base}/ui/trainings/5b0f1f0e-1111-4b6a-9d0c-0a4e5d0c1a2b`, { waitUntil: 'networkidle' });
    await page.waitForSelector('#username');
    expect(await textOf(page, 'h1')).toBe('Sign in to Roundhouse');
    expect(await statusFromPage(page, '/api/dashboard/trainings/')).toBe(401);
    await screenshot(page, '01-sign-in');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('when the password is wrong, says so; when right, shows the trainings and keeps nothing in browser storage', async () => {
    await page.fill('#username', actor.username);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    expect(await textOf(page, '[role=alert]')).toBe('Invalid username/password.');
    // From the server's root this time: it redirects to the dashboard, which asks for the sign-in again.
    await page.goto(`${base}/`, { waitUntil: 'networkidle' });
    expect(page.url()).toBe(`${base}/ui/`);
    await page.fill('#username', actor.username);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await waitForText(page, 'You have no trainings yet');
    expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
    await screenshot(page, '02-trainings-empty');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('when the actor creates and starts a training, its page follows the rounds, a chart point per round', async () => {
    await page.click('a[href="/ui/trainings/new"]');
    await page.waitForSelector('#model-file');
    expect(await axeViolations(page)).toEqual([]);
    await page.setInputFiles('#model-file', path.join(FIXTURES, 'mlp-global-r0.onnx'));
    await page.fill('#model-name', 'mnist-mlp');
    await page.fill('#input-shape', 'None, 1, 28, 28');
    await page.fill('#rounds', '2');
    await page.selectOption('#dataset', { label: 'digits (16 rows)' });
    // The three clients as participants, and no test rounds, so each round ends with its uploads.
    for (const label of [...clients.map((c) => c.username), "Skip the clients' test rounds"]) {
      await page.getByLabel(label).check();
    }
    await screenshot(page, '03-new-training');
    await page.click('form.stacked button[type=submit]');
    await page.waitForURL(/\/ui\/trainings\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    // Version 0 is evaluated at the start: one point. The clients hold their round-0 uploads until the gate opens.
    await waitForPoints(page, 'Server accuracy', 1);
    await waitForText(page, '0 of 3');
    await screenshot(page, '04-training-started');
    expect(await axeViolations(page)).toEqual([]);
    await waitFor(
      () => clients.every((c) => c.receiver.received.some((n) => n.notification_type === 'UPDATE_ROUND_START')),
      30_000,
    );
    const round1 = gate();
    behaviour.gate = round1.promise;
    round0.open();
    await waitForPoints(page, 'Server accuracy', 2);
    await waitForText(page, '1 of 2');
    await screenshot(page, '05-training-round-1');
    round1.open();
    await waitForPoints(page, 'Server accuracy', 3);
    await waitForText(page, 'Completed');
    await screenshot(page, '06-training-completed');
    expect(await axeViolations(page)).toEqual([]);
    const text = await textOf(page);
    for (const client of clients) {
      expect(text).toContain(client.username);
    }
    expect(text).toContain('Download version 2');
    // The download links work with the session cookie alone (a GET needs no CSRF token).
    const link: unknown = await page.evaluate(`document.querySelector('ul.versions a').getAttribute('href')`);
    expect(link).toMatch(/^\/api\/models\/[0-9a-f-]{36}\/\?round=2$/);
    expect(await statusFromPage(page, String(link))).toBe(200);
  });

  it('when the page is as narrow as a phone, nothing is wider than the screen', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await screenshot(page, '07-training-phone');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBe(375);
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it('when the trainings page is shown, it lists the training completed with its accuracy', async () => {
    await page.click('header a[href="/ui/trainings"]');
    await waitForText(page, 'Completed');
    const row = await textOf(page, 'tbody tr');
    expect(row).toMatch(/^mnist-mlpCompletedFedAvg2 of 23[0-9.]+ \(round 2\)actor$/);
    await screenshot(page, '08-trainings');
  });

  it('when the people and groups page is shown, it lists the group and its members', async () => {
    await page.click('header a[href="/ui/groups"]');
    await page.waitForSelector('#group-name');
    await waitForText(page, clients[0]?.username ?? '');
    await screenshot(page, '09-groups');
    expect(await axeViolations(page)).toEqual([]);
  });

  it("when the actor adds and removes a participant on an Initial training's page, the page follows", async () => {
    const created = await createTraining(base, `browser-idle-${Date.now()}`, [], 1, {
      actor: { id: actor.id, token: actor.token },
    });
    // Not networkidle: the training's page always holds one long-poll open.
    await page.goto(`${base}/ui/trainings/${created.trainingId}`, { waitUntil: 'domcontentloaded' });
    await waitForText(page, 'No participants yet.');
    const first = clients[0];
    await page.selectOption('#add-participant', first?.id ?? '');
    await page.click('form.inline-form button[type=submit]');
    const remove = page.getByRole('button', { name: `Remove ${first?.username ?? ''} from the training` });
    await remove.waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, '10-training-participants');
    await remove.click();
    await waitForText(page, 'No participants yet.');
    await page.getByRole('button', { name: 'Start the training' }).click();
    await page.waitForSelector('[role=alert]');
    expect(await textOf(page, '[role=alert]')).toBe('At least one participant must be registered!');
  });

  it('when numbers are pasted into the inference form, shows the prediction', async () => {
    await page.click('header a[href="/ui/inference"]');
    await page.waitForSelector('#inference-model');
    await page.getByLabel('Paste numbers').check();
    await page.waitForSelector('#inference-numbers');
    const pixels = JSON.stringify(Array.from({ length: 784 }, (_, i) => (i % 7) / 7));
    await page.fill('#inference-numbers', pixels);
    await page.fill('#inference-shape', '1, 1, 28, 28');
    await page.click('form.stacked button[type=submit]');
    await page.waitForSelector('#answer');
    expect(await textOf(page)).toMatch(/Prediction[0-9]Outputs/);
    await screenshot(page, '11-inference');
    expect(await axeViolations(page)).toEqual([]);
  });

  it("when an image is run on a model without a preprocessing graph, shows the server's refusal", async () => {
    await page.getByLabel('Upload an image').check();
    await page.waitForSelector('#inference-file');
    const png = new PNG({ width: 28, height: 28 });
    const file = path.join(os.tmpdir(), `digit-${Date.now()}.png`);
    fs.writeFileSync(file, PNG.sync.write(png));
    try {
      await page.setInputFiles('#inference-file', file);
      await page.fill('#inference-shape', '');
      await page.click('form.stacked button[type=submit]');
      await page.waitForSelector('[role=alert]');
      expect(await textOf(page, '[role=alert]')).toBe(
        'The model has no preprocessing graph to turn an image into its input; send a tensor instead.',
      );
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('when the actor signs out, the sign-in form comes back and the session no longer reads anything', async () => {
    await page.click('header button');
    await page.waitForSelector('#username');
    expect(await statusFromPage(page, '/api/dashboard/trainings/')).toBe(401);
    expect(consoleErrors).toEqual([]);
  });
});
