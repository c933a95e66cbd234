// End-to-end test of the micro-renewal indicators in real headless Chromium: the street's
// dashboard shows the "社区微更新" section with the same figures as GET /api/renewal/indicators
// (the needs funnel, the voters' share, interventions before and after merging), one row per
// community, in Chinese and English; the map colours the street's communities by the share of
// residents who voted. Screenshots at 375 px and 1280 px go to $SCREENSHOTS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, useBrowser, shot } from "./lib.mjs";

const { as } = useBrowser();

test("the street's dashboard and map show the renewal indicators", async () => {
  const page = await as("street.admin");
  // The demo's renewal community is the one of its delivery project.
  const deliveries = await (await page.request.get(`${BASE}/api/renewal/deliveries`)).json();
  assert.ok(deliveries.length > 0, "the demo has a delivery project");
  const community = deliveries[0].community;
  const street = community.slice(0, 9);

  const r = await page.request.get(`${BASE}/api/renewal/indicators?within=${community}`);
  assert.equal(r.status(), 200, await r.text());
  const ind = await r.json();
  assert.ok(ind.needs.raised >= 60, `the demo raised 60 needs or more (${ind.needs.raised})`);
  assert.ok(ind.needs.clustered > 0 && ind.needs.clustered <= ind.needs.raised);
  assert.ok(ind.needs.in_proposals > 0, "the demo's proposals answer clusters");
  assert.equal(ind.participation.voted.count, 50, "50 residents voted in the demo");
  assert.ok(ind.participation.raised.count > 1, "needs come from several residents");
  assert.ok(ind.interventions.after < ind.interventions.before, "merging saves interventions");

  await page.goto(`${BASE}/dashboard?key=${street}&lang=zh`);
  const section = page.locator("#renewal-work");
  await section.waitFor();
  assert.match(await section.textContent(), /社区微更新/);
  const funnel = `${ind.needs.raised} / ${ind.needs.clustered} / ${ind.needs.in_proposals} / ${ind.needs.delivered}`;
  const row = page.locator("#renewal-breakdown tr", { hasText: community });
  assert.match(await row.textContent(), new RegExp(funnel.replaceAll("/", "\\/")));
  assert.match(await row.textContent(), new RegExp(`50 \\(${ind.participation.voted.share.replace(".", "\\.")}\\)`));
  await shot(page, "renewal-indicators-dashboard");
  await page.goto(`${BASE}/dashboard?key=${street}&lang=en`);
  assert.match(await page.locator("#renewal-work").textContent(), /Community micro-renewal/);
  assert.match(await page.locator("#renewal-work").textContent(), /Residents who voted/);

  await page.goto(`${BASE}/map?within=${street}&indicator=renewal_voted&lang=zh`);
  assert.equal(await page.locator("select[name=indicator]").inputValue(), "renewal_voted");
  const titles = await page.locator("svg.map path.area title").allTextContents();
  const share = (50 * 100 / ind.residents).toFixed(1).replace(/\.0$/, "");
  assert.ok(titles.some((t) => t.endsWith(`: ${share}%`)), `a community shows ${share}% voted: ${titles}`);
  await shot(page, "renewal-indicators-map");
});
