// End-to-end test of the micro-renewal works and delivery pages in real headless Chromium: the
// department page of the demo community (report, accepted bundle, a work registered through the
// form), the bundle page with its SVG map and merged schedule, the delivery page with the late
// milestone's warning, a planner adding a milestone and uploading its photo, and a resident on a phone offering help and
// answering the acceptance survey. Each page is also checked in English; screenshots at 375 px
// and 1280 px go to $SCREENSHOTS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, useBrowser, shot, checkEnglish } from "./lib.mjs";

const { as } = useBrowser();

/** A 4×3 PNG: a milestone's site photo. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAEElEQVR4nGM4YaMBRww4OQAZ7g4RX8PtlgAAAABJRU5ErkJggg==", "base64");

/** The demo's delivery project (the pocket park) and its community. */
async function demoPark(page) {
  const r = await page.request.get(`${BASE}/api/renewal/deliveries`);
  const list = await r.json();
  const park = list.find((d) => d.title.includes("口袋公园"));
  assert.ok(park, "the demo has its pocket park");
  return park;
}

test("the department page, the bundle and its map", async () => {
  const page = await as("department");
  const park = await demoPark(page);
  await page.goto(`${BASE}/renewal/${park.community}/works`);
  assert.match(await page.textContent("h1"), /项目整合/);
  assert.ok((await page.locator("#report tbody tr").count()) >= 2);
  assert.ok((await page.locator("#works tbody tr").count()) >= 4);
  // Register a work through the form.
  await page.fill("#register-form input[name=reference]", "E2E-1");
  await page.fill("#register-form input[name=title]", "端到端测试绿化");
  await page.selectOption("#register-form select[name=kind]", "greening");
  await page.fill("#register-form input[name=from]", "2026-09-01");
  await page.fill("#register-form input[name=to]", "2026-09-10");
  await page.fill("#register-form input[name=budget_yuan]", "12000");
  await page.fill("#register-form input[name=lng]", "104.5");
  await page.fill("#register-form input[name=lat]", "30.5");
  await Promise.all([page.waitForLoadState("load"), page.click("#register-form button[type=submit]")]);
  assert.equal(await page.locator("#error").count(), 0);
  assert.match(await page.textContent("#works"), /端到端测试绿化/);
  await shot(page, "renewal-works");
  await checkEnglish(page, /Department works and bundles/);
  // The accepted bundle (the demo merged the road works with the park).
  await page.click("#accepted a");
  await page.waitForURL(/\/bundles\/\d+/);
  assert.equal(await page.locator("#bundle-map svg.places").count(), 1);
  assert.ok((await page.locator("#bundle-map .place").count()) >= 3);
  assert.match(await page.textContent("#lead"), /管网/);
  assert.ok((await page.locator("#schedule tbody tr").count()) >= 3);
  await shot(page, "renewal-bundle");
  await checkEnglish(page, /One schedule/);
});

test("a planner follows the delivery and a resident helps and accepts on a phone", async () => {
  const planner = await as("planner");
  const park = await demoPark(planner);
  const path = `${BASE}/renewal/${park.community}/deliveries/${park.id}`;
  await planner.goto(path);
  assert.match(await planner.textContent("#warnings"), /场地清理与平整/);
  assert.ok((await planner.locator("#milestones tr.late").count()) >= 1);
  await planner.fill("#milestone-form input[name=title]", "端到端里程碑");
  await planner.fill("#milestone-form input[name=date]", "2099-01-01");
  await Promise.all([planner.waitForLoadState("load"), planner.click("#milestone-form button[type=submit]")]);
  assert.match(await planner.textContent("#milestones"), /端到端里程碑/);
  // A site photo for the new milestone (a 4×3 PNG): its thumbnail shows in the milestone's row.
  const row = planner.locator("#milestones tr", { hasText: "端到端里程碑" });
  await row.locator("input[type=file]").setInputFiles({ name: "site.png", mimeType: "image/png", buffer: PNG });
  await Promise.all([planner.waitForLoadState("load"), row.locator(".photo-form button[type=submit]").click()]);
  assert.equal(await planner.locator("#error").count(), 0);
  const thumb = planner.locator("#milestones tr", { hasText: "端到端里程碑" }).locator(".photos img");
  assert.equal(await thumb.count(), 1);
  assert.match(await thumb.getAttribute("src"), /^\/media\//);
  assert.equal(await thumb.evaluate((img) => img.complete && img.naturalWidth), 4, "the thumbnail loads");
  await checkEnglish(planner, /Upload a photo/);

  const resident = await as("resident", 375);
  await resident.goto(path);
  const hoursBefore = Number(await resident.textContent("#hours"));
  await resident.fill("#contribute-form input[name=hours]", "2");
  await Promise.all([resident.waitForLoadState("load"), resident.click("#contribute-form button[type=submit]")]);
  assert.equal(Number(await resident.textContent("#hours")), hoursBefore + 2);
  await resident.check("#acceptance-form input[value=satisfied]");
  await resident.check("#acceptance-form input[name=solved]");
  await Promise.all([resident.waitForLoadState("load"), resident.click("#acceptance-form button[type=submit]")]);
  assert.equal(await resident.locator("#answered").count(), 1);
  assert.match(await resident.textContent("#satisfaction"), /%/);
  await shot(resident, "renewal-delivery");
  await checkEnglish(resident, /Acceptance/);
});
