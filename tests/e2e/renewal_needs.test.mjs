// End-to-end test of the micro-renewal needs pages in real headless Chromium: the demo resident,
// on a 375 px phone, opens the community's needs page, sees the demo's clusters, picks the place
// on the map, raises a need and sees it among their own; the planner runs the integration and
// renames a cluster on the staff page; both pages read in English and do not scroll sideways.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, SHOTS, useBrowser, noSideScroll } from "./lib.mjs";

const { as } = useBrowser({ height: 800 });

async function community(page) {
  const me = await (await page.request.get(`${BASE}/api/me`)).json();
  const v = me.grants[0].scope.value;
  return Array.isArray(v) ? v[0].slice(0, 12) : String(v);
}

test("a resident raises a need on the map and a planner integrates the needs", async () => {
  const page = await as("resident", 375);
  const code = await community(page);
  const url = `${BASE}/renewal/${code}/needs`;
  await page.goto(url);
  assert.match(await page.textContent("h1"), /社区微更新/);
  const clusters = await page.locator("#clusters .cluster").count();
  assert.ok(clusters >= 5, `the demo's needs are clustered (${clusters} clusters)`);
  await noSideScroll(page);
  await page.screenshot({ path: `${SHOTS}/renewal-needs-375.png`, fullPage: true });

  // Pick the place on the map: a click fills longitude and latitude.
  const map = page.locator("svg[data-pick]");
  const box = await map.boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  assert.notEqual(await page.inputValue("#lng"), "");
  assert.notEqual(await page.inputValue("#lat"), "");
  await page.selectOption("#category", "charging");
  await page.fill("#text", "小区需要安装电动车充电桩，大家只能飞线充电");
  await Promise.all([page.waitForLoadState("load"), page.click("#submit-need")]);
  const notice = await page.locator("#raised, .error").first().textContent();
  assert.match(notice, /已提交需求|社区/, notice);
  if (await page.locator("#raised").count()) {
    assert.match(await page.textContent("#my-needs"), /电动车充电桩/);
  }
  await page.goto(`${url}?lang=en`);
  assert.match(await page.textContent("body"), /Raise a need/);
  await page.goto(`${url}?lang=zh`);

  // The planner's staff page: run the integration, rename a cluster.
  const staff = await as("planner", 1280);
  await staff.goto(`${BASE}/renewal/${code}/clusters`);
  await Promise.all([staff.waitForLoadState("load"), staff.click("#run-clustering")]);
  const first = staff.locator("article.cluster").first();
  await first.locator("form.rename input[name=name]").fill("东门口路灯整治");
  await Promise.all([staff.waitForLoadState("load"), first.locator("form.rename button").click()]);
  assert.match(await staff.textContent("body"), /东门口路灯整治/);
  await staff.screenshot({ path: `${SHOTS}/renewal-clusters-1280.png`, fullPage: true });
  await staff.goto(`${BASE}/renewal/${code}/clusters?lang=en`);
  assert.match(await staff.textContent("body"), /Run the integration/);
  await staff.goto(`${BASE}/renewal/${code}/clusters?lang=zh`);
});
