// End-to-end test of the regeneration pages in real headless Chromium: a community planner opens
// the demo project's dashboard (buildings on the SVG map coloured by consent, every consent rule's
// standing), a holder's page, records a contact and a signature through the forms, and sees the
// dashboard recomputed; the public page shows aggregates and no holder's name. Each page is also
// checked in English; screenshots at 375 px and 1280 px go to $SCREENSHOTS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, useBrowser, shot, checkEnglish } from "./lib.mjs";

const PROJECT = "TF-DEMO";
const { as, browser } = useBrowser();

/** How many holders agree, from the public page's table. */
async function agreeing(page) {
  await page.goto(`${BASE}/regen/${PROJECT}/public`);
  const row = page.locator("#public-counts tr", { hasText: /agree|同意/ }).first();
  return Number((await row.locator("td").nth(1).textContent()).trim());
}

test("a planner coordinates the demo regeneration project", async () => {
  const page = await as("planner");
  const before = await agreeing(page);

  await page.goto(`${BASE}/regen/${PROJECT}`);
  assert.match(await page.textContent("h1"), /天府文创/);
  assert.ok(await page.locator("#regen-map svg.map circle.marker").count() >= 2, "buildings on the map");
  assert.equal(await page.locator("#thresholds article.rule").count(), 5, "five consent rules");
  assert.ok(await page.locator("#thresholds svg.chart").count() >= 5, "a chart per rule");
  assert.ok(await page.locator("#holders tbody tr").count() > 20);
  await shot(page, "regen-dashboard");
  await checkEnglish(page, /Consent thresholds/);

  // A household not yet signed: its sticking points, matched resources, then a contact and a signature.
  await page.goto(`${BASE}/regen/${PROJECT}/holders/H030`);
  assert.ok(await page.locator("#sticking li").count() >= 1);
  assert.ok(await page.locator("#matches li").count() >= 1);
  await page.fill("#contact-form input[name=at]", "2026-06-02T10:30");
  await page.fill("#contact-form input[name=staff]", "社区规划师");
  await page.fill("#contact-form input[name=next_step]", "准备签约");
  await Promise.all([page.waitForLoadState("load"), page.click("#contact-form button[type=submit]")]);
  assert.equal(await page.locator("p.error").count(), 0, await page.textContent("main"));
  assert.equal(await page.locator("#contacts tbody tr").count(), 1);
  await page.selectOption("#decision-form select[name=choice]", "agree");
  await page.fill("#decision-form input[name=date]", "2026-06-03");
  await page.fill("#decision-form input[name=evidence]", "签约确认书 H030");
  await Promise.all([page.waitForLoadState("load"), page.click("#decision-form button[type=submit]")]);
  assert.equal(await page.locator("p.error").count(), 0, await page.textContent("main"));
  assert.match(await page.textContent("#decision"), /同意/);
  await shot(page, "regen-holder");
  await checkEnglish(page, /Sticking points/);

  // A second identical signature is refused with its reason, not applied.
  await page.selectOption("#decision-form select[name=choice]", "agree");
  await page.fill("#decision-form input[name=date]", "2026-06-03");
  await page.fill("#decision-form input[name=evidence]", "重复");
  await Promise.all([page.waitForLoadState("load"), page.click("#decision-form button[type=submit]")]);
  assert.match(await page.textContent("p.error"), /already decided/);

  await page.goto(`${BASE}/regen/${PROJECT}/resources`);
  assert.ok(await page.locator("#resources tbody tr").count() >= 5);
  await checkEnglish(page, /Governance resources/);

  // The public page (no login) counts the new signature and names nobody.
  const visitor = await (await browser().newContext()).newPage();
  assert.equal(await agreeing(visitor), before + 1);
  const text = await visitor.textContent("main");
  assert.doesNotMatch(text, /住户|H0\d\d/);
  await shot(visitor, "regen-public");
});
