// End-to-end test of the generalist grid's phone page in real headless Chromium: the demo grid
// worker, on a 375 px phone, opens "my grid", records a need, logs a patrol with a finding (a case
// of the closed loop), and confirms a proposed match into a project; the page also reads in
// English and has no horizontal scrolling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, SHOTS, useBrowser, noSideScroll } from "./lib.mjs";

const { as } = useBrowser({ height: 800 });

test("a grid worker on a phone records a need and a patrol finding and confirms a match", async () => {
  const page = await as("gridworker", 375);
  const me = await (await page.request.get(`${BASE}/api/me`)).json();
  const grid = me.grants[0].scope.value[0];
  const url = `${BASE}/grids/${grid}/team`;
  await page.goto(url);
  assert.match(await page.textContent("h1"), /我的网格/);
  assert.match(await page.textContent("#needs"), /社区长者食堂|党员维修志愿队/);
  await noSideScroll(page);
  await page.screenshot({ path: `${SHOTS}/grid-team-375.png`, fullPage: true });

  // A need.
  await page.selectOption("#new-need select[name=category]", "legal");
  await page.fill("#new-need textarea[name=text]", "租房合同纠纷需要法律咨询");
  await Promise.all([page.waitForLoadState("load"), page.click("#new-need button[type=submit]")]);
  assert.match(await page.textContent("#needs"), /租房合同纠纷需要法律咨询/);

  // A patrol with a finding: the finding becomes a case.
  await page.fill("#new-patrol input[name=note]", "傍晚巡查三号楼");
  await page.fill("#new-patrol input[name=condition]", "C0105-02");
  await page.fill("#new-patrol input[name=description]", "三号楼前电力井盖松动");
  await Promise.all([page.waitForLoadState("load"), page.click("#new-patrol button[type=submit]")]);
  const log = await page.textContent("#patrols");
  assert.match(log, /傍晚巡查三号楼/);
  assert.match(log, /#\d+/, "the patrol log links the case it created");

  // Confirm the first proposal with its reason shown.
  const proposal = page.locator("#needs .proposal").first();
  assert.match(await proposal.locator(".reason").textContent(), /服务「.+」；相距 \d+ 米/);
  await Promise.all([page.waitForLoadState("load"), proposal.locator("button[type=submit]").click()]);
  assert.match(await page.textContent("#projects"), /实施中/);
  await noSideScroll(page);

  await page.goto(`${url}?lang=en`);
  assert.match(await page.textContent("body"), /Needs list/);
  await page.goto(`${url}?lang=zh`);
});
