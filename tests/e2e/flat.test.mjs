// End-to-end test of the flat-governance pages in real headless Chromium: the workload heat map
// by community with the push-down list, the responsibility lists with their check report, and the
// what-if replay comparison chart, in Chinese and English, at 375 px and 1280 px. The demo
// (`gongzhi demo --communities 3`) stores lists with deliberate findings, staffing and forms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, useBrowser, shot, fitsPhone } from "./lib.mjs";

const { as } = useBrowser();

test("flat governance: heat map, push-downs, lists check and replay chart", async () => {
  const leader = await as("shiftleader");
  // The navigation leads to the workload page.
  await Promise.all([leader.waitForURL(/\/flat$/), leader.click("header nav a[href='/flat']")]);
  assert.match(await leader.textContent("h1"), /扁平化治理/);
  const areas = await leader.locator("#heat-map svg.map path.area").count();
  assert.ok(areas >= 1, "the heat map draws the communities");
  const rows = await leader.locator("#workload tbody tr").count();
  assert.ok(rows >= 1, "the workload table has a row per community");
  assert.ok(await leader.locator("#push-downs tbody tr").count() >= 1, "the demo year has push-downs");
  // A push-down links its case.
  const first = leader.locator("#push-downs tbody tr a").first();
  const href = await first.getAttribute("href");
  assert.match(href, /^\/cases\/\d+$/);
  await fitsPhone(leader);
  await shot(leader, "flat-workload");
  await leader.goto(`${BASE}/flat?lang=en`);
  assert.match(await leader.textContent("main"), /Workload heat map/);
  assert.match(await leader.textContent("main"), /Department matters pushed down to grassroots/);
  await leader.goto(`${BASE}/flat?lang=zh`);

  // The lists and the check report: the demo lists have a conflict, a gap and push-downs.
  await Promise.all([leader.waitForURL(/\/flat\/lists$/), leader.click("nav.tabs a[href='/flat/lists']")]);
  for (const id of ["#conflict-count", "#gap-count", "#push-down-count"]) {
    assert.ok(Number(await leader.textContent(id)) > 0, `${id} is not empty`);
  }
  assert.ok(await leader.locator("#lists tbody tr").count() > 100, "every matter is listed");
  await fitsPhone(leader);
  await shot(leader, "flat-lists");
  await leader.goto(`${BASE}/flat/lists?lang=en`);
  assert.match(await leader.textContent("main"), /Conflicts \(two owners\)/);
  await leader.goto(`${BASE}/flat/lists?lang=zh`);

  // The replay: the configured (layered) hierarchy against flat, then the other way round.
  await leader.goto(`${BASE}/flat/replay`);
  assert.equal(await leader.locator("#replay-chart rect.bar").count() >= 8, true, "two bars per metric");
  const head = await leader.textContent("#replay thead");
  assert.match(head, /layered/);
  assert.match(head, /flat/);
  assert.equal(await leader.locator("#assumptions li").count(), 7);
  await leader.selectOption("select[name=hierarchy]", "layered");
  await Promise.all([leader.waitForURL(/hierarchy=layered/), leader.click("form.filters button[type=submit]")]);
  assert.match(await leader.textContent("#replay thead"), /flat/);
  await fitsPhone(leader);
  await shot(leader, "flat-replay");
  await leader.goto(`${BASE}/flat/replay?lang=en`);
  assert.match(await leader.textContent("main"), /Model assumptions/);
  await leader.goto(`${BASE}/flat/replay?lang=zh`);

  // Residents do not see these pages.
  const resident = await as("resident", 375);
  assert.equal(await resident.locator("header nav a[href='/flat']").count(), 0);
  const r = await resident.goto(`${BASE}/flat`);
  assert.equal(r.status(), 403);
});
