// End-to-end test of the web UI in real headless Chromium (Debian's), driven by playwright-core.
// A resident reports a problem on the map; a shift leader registers it, a dispatcher dispatches
// it, the department accepts and completes it, the grid worker verifies it; the dashboard's
// numbers change. Each step also checks the page in English. Screenshots of the main pages at
// 375 px and 1280 px go to $SCREENSHOTS (target/screenshots by default).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, useBrowser, shot, checkEnglish } from "./lib.mjs";

const { as } = useBrowser();

async function step(page, caseUrl, kind, fill = async () => {}) {
  await page.goto(caseUrl);
  const form = page.locator(`form.step[data-step="${kind}"]`);
  assert.equal(await form.count(), 1, `the ${kind} step is offered on ${caseUrl}`);
  await fill(form);
  await Promise.all([page.waitForLoadState("load"), form.locator("button[type=submit]").click()]);
  assert.equal(await page.locator("#step-error").count(), 0, await page.textContent("main"));
}

async function collected(page) {
  await page.goto(`${BASE}/dashboard`);
  return Number(await page.textContent("#kpi-collected"));
}

test("a problem goes round the closed loop in the browser", async () => {
  const admin = await as("admin");
  const before = await collected(admin);
  await shot(admin, "dashboard");

  // The resident reports on the map.
  const resident = await as("resident", 375);
  assert.match(await resident.textContent("h1"), /工作台/);
  await checkEnglish(resident, /My work/);
  await resident.goto(`${BASE}/cases/new`);
  // Submitting empty shows errors next to the fields, in Chinese, and keeps what was typed.
  await resident.fill("#description", "小区门口电力井盖破损，车辆经过有响声");
  await resident.click("#submit-report");
  assert.match(await resident.textContent("#condition-error"), /请选择问题类别/);
  assert.equal(await resident.inputValue("#description"), "小区门口电力井盖破损，车辆经过有响声");
  await resident.selectOption("#condition", "C0105-02");
  const map = resident.locator("svg[data-pick]");
  const box = await map.boundingBox();
  await resident.mouse.click(box.x + box.width * 0.1, box.y + box.height * 0.1);
  assert.notEqual(await resident.inputValue("#lng"), "");
  await shot(resident, "report-form");
  await Promise.all([resident.waitForURL(/\/cases\/\d+$/), resident.click("#submit-report")]);
  const caseUrl = resident.url();
  assert.match(await resident.textContent("main"), /信息收集|立案/);
  await checkEnglish(resident, /Reported/);

  const leader = await as("shiftleader");
  await step(leader, caseUrl, "register");
  await checkEnglish(leader, /Registered/);

  const dispatcher = await as("dispatcher");
  await dispatcher.goto(`${BASE}/work`);
  assert.match(await dispatcher.textContent("main"), /待派遣/);
  await step(dispatcher, caseUrl, "dispatch");
  assert.match(await dispatcher.textContent("main"), /城市管理和综合执法局/);
  await checkEnglish(dispatcher, /Timeline/);
  await shot(dispatcher, "case");

  const dept = await as("department");
  await dept.goto(`${BASE}/work`);
  assert.match(await dept.textContent("main"), /待签收/);
  await checkEnglish(dept, /To accept/);
  await step(dept, caseUrl, "accept");
  await step(dept, caseUrl, "report_handled", (f) => f.locator("textarea[name=note]").fill("已更换井盖"));

  const worker = await as("gridworker", 375);
  await worker.goto(`${BASE}/work`);
  assert.match(await worker.textContent("main"), /待核查/);
  await checkEnglish(worker, /To verify/);
  await step(worker, caseUrl, "verify_pass");
  await shot(worker, "work-grid-worker");

  await step(leader, caseUrl, "close");
  assert.match(await leader.textContent("main"), /结案/);

  const after = await collected(admin);
  assert.equal(after, before + 1, "the dashboard counts the new report");
  await admin.goto(`${BASE}/dashboard?lang=en`);
  assert.match(await admin.textContent("main"), /Closure rate/);
  await admin.goto(`${BASE}/map?within=510104`);
  await shot(admin, "map");
  assert.ok(await admin.locator("svg.map path.area").count() > 0);
});
