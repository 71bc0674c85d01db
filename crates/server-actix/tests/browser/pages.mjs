// Browser tests of the pages (issue #15), run by ../pages_browser.rs against a real server:
//   node pages.mjs BASE_URL OUT_DIR [PAGES_JSON]
// Debian's headless Chromium through playwright-core; axe-core for accessibility. Every page
// type is loaded, checked with axe (no serious or critical violation), checked for width at
// 375 px and screenshotted at 375 and 1,280 px into OUT_DIR; then navigation, paging,
// filters, the Verify control (good, and with a tampered proof and checkpoint), hostile
// values and the pages without JavaScript. Prints one line per check and `N passed, N failed`;
// exits 1 on any failure.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [base, out, pagesJson] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node pages.mjs BASE_URL OUT_DIR [PAGES_JSON]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const pages = JSON.parse(pagesJson || '[]');

let passed = 0;
let failed = 0;
async function check(name, f) {
  try {
    await f();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
context.setDefaultTimeout(15000);
const page = await context.newPage();
const dialogs = [];
page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
});

async function axe() {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    await window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

const summary = [];
// Every page type: loads, no serious/critical axe violation at either width, fits 375 px.
for (const [name, path] of pages) {
  await check(`page ${name} (${path})`, async () => {
    const expected = name === 'not-found' ? 404 : 200;
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
      const response = await page.goto(base + path);
      assert(response.status() === expected, `status ${response.status()}, expected ${expected}`);
      assert((response.headers()['content-type'] || '').startsWith('text/html'), 'not HTML');
      const bytes = (await response.body()).length;
      assert(bytes < 40 * 1024, `${bytes} bytes`);
      const h1 = await page.locator('h1').count();
      assert(h1 === 1, `${h1} h1 elements`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `the page is ${overflow} px wider than ${width} px`);
      const violations = await axe();
      assert(violations.length === 0, `axe at ${width} px: ` + violations.map((v) =>
        `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`).join('; '));
      await page.screenshot({ path: join(out, `${name}-${width}.png`), fullPage: true });
      if (width === 1280) summary.push(`${name}=${bytes}B`);
    }
  });
}
console.log(`page sizes: ${summary.join(' ')}`);
await page.setViewportSize({ width: 1280, height: 900 });

await check('navigation: home → register → records → record → history → linked record', async () => {
  await page.goto(base + '/');
  await page.getByRole('link', { name: 'Place', exact: true }).click();
  await page.waitForURL(base + '/registers/place/register');
  await page.getByRole('link', { name: 'Records', exact: true }).first().click();
  await page.waitForURL(base + '/registers/place/records');
  await page.getByRole('link', { name: 'P1', exact: true }).click();
  await page.waitForURL(base + '/registers/place/records/P1');
  assert(await page.locator('h1').innerText() === 'P1', 'h1 of the record');
  await page.getByRole('link', { name: 'History', exact: true }).click();
  await page.waitForURL(base + '/registers/place/records/P1/entries');
  const changes = await page.locator('table.changes').first().innerText();
  assert(changes.includes('London') && changes.includes('Greater London'), `changes: ${changes}`);
  // The country of the place, linked from the history's first version.
  await page.getByRole('link', { name: 'GB', exact: true }).first().click();
  await page.waitForURL(base + '/registers/country/records/GB');
  assert(await page.locator('h1').innerText() === 'GB', 'h1 of the linked record');
  assert((await page.locator('main').innerText()).includes('United Kingdom'), 'GB fields');
});

await check('keyboard: the skip link and the Verify button are reachable', async () => {
  await page.goto(base + '/registers/country/records/GB');
  await page.keyboard.press('Tab');
  assert(await page.evaluate(() => document.activeElement.className) === 'skip', 'first Tab: skip link');
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate(() => document.activeElement.id) === 'verify') return;
    await page.keyboard.press('Tab');
  }
  throw new Error('Verify never took the focus');
});

await check('paging: records and entries, next and previous', async () => {
  await page.goto(base + '/registers/country/records');
  assert((await page.locator('caption').innerText()).startsWith('Records 1 to 25 of 199'), 'first caption');
  const first = await page.locator('tbody th a').first().innerText();
  await page.getByRole('link', { name: 'Next page →' }).click();
  assert((await page.locator('caption').innerText()).startsWith('Records 26 to 50 of 199'), 'second caption');
  assert(await page.locator('tbody th a').first().innerText() !== first, 'another page');
  await page.getByRole('link', { name: '← Previous page' }).click();
  assert(await page.locator('tbody th a').first().innerText() === first, 'back to the first');
  await page.goto(base + '/registers/country/entries');
  await page.getByRole('link', { name: 'Next page →' }).click();
  assert((await page.locator('caption').innerText()).startsWith('Entries 26 to 50 of 208'), 'entries page 2');
});

await check('filters: search by key, and records by field value', async () => {
  await page.goto(base + '/registers/country/records');
  await page.getByLabel('Find a record by key').fill('FR');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForURL(base + '/registers/country/records/FR');
  await page.goto(base + '/registers/country/records');
  await page.getByLabel('Find a record by key').fill('NOPE');
  await page.getByRole('button', { name: 'Find' }).click();
  assert((await page.getByRole('status').first().innerText()).includes('No record has the key'), 'not found notice');
  await page.getByLabel('Field').selectOption('name');
  await page.getByLabel('Value').fill('Tajikistan');
  await page.getByRole('button', { name: 'Filter' }).click();
  const keys = await page.locator('tbody th a').allInnerTexts();
  assert(keys.length === 1 && keys[0] === 'TJ', `filtered keys: ${keys}`);
});

async function verifyResult() {
  await page.getByRole('button', { name: 'Verify' }).click();
  const result = page.locator('#verify-result');
  await page.waitForFunction(() => ['ok', 'failed'].includes(document.getElementById('verify-result').className)
    && !document.getElementById('verify-result').textContent.startsWith('Verifying'));
  return { ok: (await result.getAttribute('class')) === 'ok', text: await result.innerText() };
}

await check('Verify succeeds on a good record', async () => {
  await page.goto(base + '/registers/country/records/GB');
  const { ok, text } = await verifyResult();
  console.log(`     verify says: ${text}`);
  assert(ok, text);
  assert(/entry 6 is in the register of 208 entries whose checkpoint is signed by \S+; no cosignatures yet\./.test(text), text);
});

await check('Verify succeeds on an index record (several items)', async () => {
  await page.goto(base + '/registers/place/indexes/by-country/records/GB');
  const { ok, text } = await verifyResult();
  assert(ok, text);
  assert(text.includes('items hash to what the entry names'), text);
});

await check('Verify reports a tampered proof', async () => {
  await page.route('**/proof/entry/**', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const first = body['merkle-audit-path'][0];
    body['merkle-audit-path'][0] = first.slice(0, -1) + (first.endsWith('0') ? '1' : '0');
    await route.fulfill({ response, json: body });
  });
  await page.goto(base + '/registers/country/records/GB');
  const { ok, text } = await verifyResult();
  await page.unroute('**/proof/entry/**');
  console.log(`     verify says: ${text}`);
  assert(!ok, `verified a tampered proof: ${text}`);
  assert(text.includes('does not lead to the signed checkpoint'), text);
});

await check('Verify reports a tampered checkpoint signature', async () => {
  await page.route('**/checkpoint', async (route) => {
    const response = await route.fetch();
    const note = await response.text();
    // Change the size line: the signature no longer matches the body.
    const lines = note.split('\n');
    lines[1] = String(Number(lines[1]) + 1);
    await route.fulfill({ response, body: lines.join('\n') });
  });
  await page.goto(base + '/registers/country/records/GB');
  const { ok, text } = await verifyResult();
  await page.unroute('**/checkpoint');
  assert(!ok, `verified a tampered checkpoint: ${text}`);
  assert(text.includes('does not verify'), text);
});

await check('Verify reports an item that does not match its entry', async () => {
  await page.route('**/items/**', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: (await response.text()).replace('United Kingdom', 'United Kingdoms') });
  });
  await page.goto(base + '/registers/country/records/GB');
  const { ok, text } = await verifyResult();
  await page.unroute('**/items/**');
  assert(!ok && text.includes('does not hash to its name'), text);
});

await check('hostile values render as text, never markup or live links', async () => {
  for (const path of ['/registers/place/records/EVIL', '/registers/place/records', '/registers/place/records/EVIL/entries']) {
    await page.goto(base + path);
    const found = await page.evaluate(() => ({
      scripts: Array.from(document.scripts).map((s) => s.getAttribute('src')),
      javascriptLinks: Array.from(document.querySelectorAll('a[href]'))
        .filter((a) => !/^(https?:|\/|#)/i.test(a.getAttribute('href'))).map((a) => a.getAttribute('href')),
      images: document.images.length,
      bold: document.querySelectorAll('main b, main i').length,
      text: document.querySelector('main').innerText,
    }));
    assert(found.scripts.every((src) => src === '/assets/verify.js'), `scripts: ${found.scripts}`);
    assert(found.javascriptLinks.length === 0, `links: ${found.javascriptLinks}`);
    assert(found.images === 0 && found.bold === 0, 'markup from values');
    assert(found.text.includes('<script>alert("name")</script>'), 'the name as text');
  }
  await page.goto(base + '/registers/place/records/EVIL');
  assert((await page.locator('main').innerText()).includes('javascript:alert(document.domain)'), 'the URL as text');
  assert(dialogs.length === 0, `dialogs: ${dialogs}`);
});

await check('usable without JavaScript', async () => {
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const p = await plain.newPage();
  await p.goto(base + '/registers/country/records/GB');
  assert(!(await p.getByRole('button', { name: 'Verify' }).isVisible()), 'Verify shows without JavaScript');
  await p.goto(base + '/registers/country/records');
  await p.getByLabel('Find a record by key').fill('GB');
  await p.getByRole('button', { name: 'Find' }).click();
  await p.waitForURL(base + '/registers/country/records/GB');
  await plain.close();
});

await check('no script errors on any page', async () => {
  assert(pageErrors.length === 0, pageErrors.join('; '));
});

await browser.close();
console.log(`screenshots: ${out}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
