/**
 * The admin console in real headless Chromium (Debian's /usr/bin/chromium through playwright-core)
 * against two real nodes: a hub with a writable inbox and a shared collection, and the relay under
 * test, which polls the hub's shared collection and forwards its members' share-back to the hub's
 * inbox. An admin signs in through the page, sees the hub upstream's state, opens a held share
 * with its personal data highlighted, approves it, and sees the outbox send it; the hub holds it.
 *
 * With CONSOLE_SCREENSHOTS=1 the run saves the main pages to docs/console/*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/index.ts';
import { heldAtHub, startForwardingRelay, startHub } from '../support/hub-pair.ts';
import { COLLECTIONS, type TestNode } from '../support/node.ts';
import { organization, postObjects } from '../shareback/inbox-fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? new URL('../../docs/console/', import.meta.url).pathname : undefined;

const SHARE = '66666666-6666-4666-8666-666666666666';
const HUB_INBOX = '7777aaaa-7777-4777-8777-777777777777';
const ALICE_ORG = 'identity--a11ce000-0000-4000-8000-00000000c001';
const T0 = '2026-11-08T09:00:00.000Z';
const EMAIL = 'jennifer.walters@gmail.com';

const upstreamIndicator = {
  type: 'indicator',
  spec_version: '2.1',
  id: 'indicator--0b0e0000-0000-4000-8000-00000000c201',
  created: T0,
  modified: T0,
  name: 'C2 server from the hub',
  pattern: "[ipv4-addr:value = '198.51.100.23']",
  pattern_type: 'stix',
  valid_from: T0,
};
const aliceIdentity = organization(ALICE_ORG, 'Alice Corp', T0);
/** personal data in an optional field: the inbox's review_mode hold keeps the whole object back */
const heldIndicator = {
  type: 'indicator',
  spec_version: '2.1',
  id: 'indicator--a11ce000-0000-4000-8000-00000000c101',
  created: T0,
  modified: T0,
  created_by_ref: ALICE_ORG,
  name: 'Phishing portal',
  description: `Reported by our analyst Jennifer Walters, reach her at ${EMAIL}.`,
  pattern: "[domain-name:value = 'login-paypa1.example']",
  pattern_type: 'stix',
  valid_from: T0,
};

/** held like the first, then edited by the reviewer to drop the personal data */
const editedIndicator = {
  ...heldIndicator,
  id: 'indicator--a11ce000-0000-4000-8000-00000000c102',
  name: 'Credential harvesting kit',
  description: `Kit found by Jennifer Walters (${EMAIL}) on a compromised host.`,
  pattern: "[domain-name:value = 'secure-0ffice365.example']",
};
const EDITED_DESCRIPTION = 'Kit found by our analyst on a compromised host.';

let hub: TestNode;
let relay: TestNode;
let browser: Browser;
let page: Page;
/** uncaught errors in the page's script (a CSP violation of an inline script would be one too) */
const pageErrors: string[] = [];

beforeAll(async () => {
  hub = await startHub(HUB_INBOX, (data) => {
    data.node.id = 'hub';
  });
  await postObjects(hub, COLLECTIONS.shared, 'alice', [upstreamIndicator]);

  relay = await startForwardingRelay(
    hub,
    {
      share: SHARE,
      reviewMode: 'hold',
      polls: [{ remote: 'shared', local: 'empty', poll_interval: '2s', start: 'beginning' }],
    },
    (data) => {
      data.node.title = 'Example ISAC relay';
      data.members[0].policy.attribution_consent = 'usg';
      data.members[0].identity_ids = [ALICE_ORG];
      data.members[0].grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
      data.admins = [{ id: 'operator', name: 'Duty operator', credentials: { basic_secret_hash: hashSecret('operator-secret') } }];
    },
  );

  await postObjects(relay, SHARE, 'alice', [aliceIdentity, heldIndicator, editedIndicator]);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await hub?.close();
});

async function screenshot(name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Clicks `refresh` (bounded) until `probe` holds on the page. */
async function untilShown(what: string, refresh: string, probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await probe()) return;
    await page.waitForTimeout(200);
    await page.click(refresh);
  }
  throw new Error(`the console never showed ${what}`);
}

/** Everything the relay's hub inbox holds, parsed. */
const atHub = () => heldAtHub(hub, HUB_INBOX);

describe('the admin console', () => {
  it('is served under a strict Content-Security-Policy, without credentials and without inline script', async () => {
    const res = await relay.request('/admin/console');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // the data behind it is for admins only
    expect((await relay.request('/admin/status')).status).toBe(401);
    expect((await relay.request('/admin/status', { member: 'alice' })).status).toBe(403);
  });

  it('refuses wrong credentials and signs an admin in', async () => {
    await page.goto(`${relay.baseUrl}/admin/console`);
    await screenshot('login');
    await page.fill('#login-user', 'operator');
    await page.fill('#login-password', 'not-the-password');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:has-text("Wrong admin id or password")');
    await page.fill('#login-user', 'alice');
    await page.fill('#login-password', 'alice-secret');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:has-text("member credentials")');
    await page.fill('#login-user', 'operator');
    await page.fill('#login-password', 'operator-secret');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#status-body table#upstreams');
    expect(await page.textContent('#node-title')).toBe('Example ISAC relay');
    expect(await page.locator('#status-body .card').first().innerText()).toContain('test-node');
  });

  it("shows the hub upstream's state once it has polled", async () => {
    const row = '#upstreams tr[data-upstream^="hub/"]';
    await untilShown('the hub upstream polled', '#status-refresh', async () => {
      const text = (await page.textContent(row)) ?? '';
      return !text.includes('never-polled') && /\b1\b/.test(await page.locator(`${row} td:nth-child(5)`).innerText());
    });
    const state = await page.locator(`${row} .badge`).innerText();
    expect(relay.node.upstreams.status().map((s) => s.state)).toContain(state);
    expect(state).not.toBe('never-polled');
    expect(await page.locator(`${row} td:nth-child(6)`).innerText()).toBe('—');
    await screenshot('status');
  });

  it('lists members with their policy and never a secret hash', async () => {
    await page.click('#tabs button[data-tab=members]');
    await page.waitForSelector('#members-table tr[data-member=alice]');
    expect(await page.locator('#members-table tr[data-member=alice]').innerText()).toContain('TLP ≤ AMBER');
    const body = await page.content();
    expect(body).not.toContain('scrypt$');
    // the page's credentials are in its memory, not the browser's: a call of its own is refused
    const refused = await page.evaluate(async () => {
      const res = await fetch('/admin/members', { headers: { 'X-Relay-Console': '1' } });
      return { status: res.status, challenge: res.headers.get('www-authenticate') };
    });
    expect(refused).toEqual({ status: 401, challenge: expect.not.stringMatching(/basic/i) });
    await screenshot('members');
  });

  it('charts objects in per upstream and out per member', async () => {
    // alice polls the collection the hub feeds: objects out
    const served = await relay.get(`/isac/collections/${COLLECTIONS.empty}/objects/`, 'alice');
    expect(served.status).toBe(200);
    expect(served.body.objects.map((o: any) => o.id)).toEqual([upstreamIndicator.id]);
    await relay.node.store.audit.flushed();
    await page.click('#tabs button[data-tab=activity]');
    await page.waitForSelector('#chart-in svg');
    expect(await page.locator('#chart-in g[data-series="upstream hub"]').count()).toBe(1);
    expect(await page.locator('#chart-out g[data-series="alice"] circle').count()).toBe(1);
    expect(await page.locator('#chart-out .legend').innerText()).toContain('alice: 1');
    await screenshot('activity');
  });

  it('highlights the held object’s personal data, approves it, and the outbox sends it to the hub', async () => {
    await page.click('#tabs button[data-tab=reviews]');
    const row = `#reviews-table tr[data-object="${heldIndicator.id}"]`;
    await untilShown('the held share in the queue', '#reviews-refresh', async () => (await page.locator(row).count()) === 1);
    await page.click(`${row} button`);
    await page.waitForSelector('#review mark');
    const marked = await page.locator('#review mark').allInnerTexts();
    expect(marked).toContain(EMAIL);
    expect(await page.locator('#review blockquote').first().innerText()).toContain('Reported by our analyst');
    await screenshot('review');
    expect(atHub().some((o) => o.pattern === heldIndicator.pattern)).toBe(false);

    await page.click('#review-approve');
    await page.waitForSelector('#message:has-text("Approved")');
    const sent = `#outbox-table tr[data-outbox="${heldIndicator.id}"][data-state=sent]`;
    await untilShown('the approved object sent', '#reviews-refresh', async () => (await page.locator(sent).count()) > 0);
    expect(await page.locator(row).count()).toBe(0);
    const arrived = atHub().filter((o) => o.pattern === heldIndicator.pattern);
    expect(arrived.map((o) => o.description)).toContain(heldIndicator.description);
    await screenshot('outbox');
  });

  it('edits a held object to drop the personal data and approves the edit: the hub gets the edited object', async () => {
    await page.click('#tabs button[data-tab=reviews]');
    const row = `#reviews-table tr[data-object="${editedIndicator.id}"]`;
    await untilShown('the second held share in the queue', '#reviews-refresh', async () => (await page.locator(row).count()) === 1);
    await page.click(`${row} button`);
    await page.waitForSelector('#review mark');
    await page.click('#review-edit-open');
    const submitted = JSON.parse(await page.inputValue('#review-edit')) as Record<string, unknown>;
    expect(submitted.description).toContain(EMAIL);
    await page.fill('#review-edit', JSON.stringify({ ...submitted, description: EDITED_DESCRIPTION }, null, 2));
    await page.click('#review-approve-edited');
    await page.waitForSelector('#message:has-text("Approved")');
    // an edited object is the ISAC's wording, no longer the member's own version: it goes out re-issued
    // (a new id derived from the original, ARCHITECTURE.md "Share-back"), so it is found by its pattern
    const reissued = () => atHub().find((o) => o.pattern === editedIndicator.pattern);
    await untilShown('the edited object at the hub', '#reviews-refresh', async () => reissued() !== undefined);
    const arrived = reissued() as { id: string; description?: string };
    expect(arrived.id).not.toBe(editedIndicator.id);
    expect(arrived.description).toBe(EDITED_DESCRIPTION);
    const sent = `#outbox-table tr[data-outbox="${arrived.id}"][data-state=sent]`;
    await untilShown('the edited object sent', '#reviews-refresh', async () => (await page.locator(sent).count()) === 1);
    expect(atHub().filter((o) => o.pattern === editedIndicator.pattern)).toHaveLength(1);
    // the first approval sent its email as the member wrote it; this one carries none
    expect(JSON.stringify(arrived)).not.toContain(EMAIL);
  });

  it('explains the policy for a member and an object', async () => {
    await page.click('#tabs button[data-tab=explain]');
    await page.waitForSelector('#explain-member option[value=alice]', { state: 'attached' });
    await page.selectOption('#explain-member', 'alice');
    await page.fill('#explain-object', upstreamIndicator.id);
    await page.click('#explain-form button[type=submit]');
    await page.waitForSelector('#explain-body .explanation');
    const text = await page.locator('#explain-body').innerText();
    expect(text).toContain('isac/empty');
    expect(text).toMatch(/allowed/);
    expect(text).toContain('the member may read this collection');
    await screenshot('explain');
    expect(pageErrors).toEqual([]);
  });
});
