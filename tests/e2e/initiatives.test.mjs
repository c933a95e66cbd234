// Wicked-problem initiative in real Chromium: the committee member works the front stage on a
// 375 px phone (contact, unit survey, a hand-off), the street office answers from the back stage
// with internal content planted as canaries and publishes a statement; the front stage and the
// public page show the answer and the statement, never a canary, in Chinese and English.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, SHOTS, useBrowser } from "./lib.mjs";

const { as, browser } = useBrowser();

async function submit(page, kind, fill) {
  const form = page.locator(`form.step[data-step="${kind}"]`).first();
  assert.equal(await form.count(), 1, `the ${kind} form is on ${page.url()}`);
  await fill(form);
  await Promise.all([page.waitForLoadState("load"), form.locator("button[type=submit]").click()]);
  assert.equal(await page.locator("#step-error").count(), 0, await page.textContent("main"));
}

test("front stage and back stage work one initiative apart and together", async () => {
  const front = await as("committee", 375);
  await front.goto(`${BASE}/initiatives`);
  await Promise.all([front.waitForURL(/\/initiatives\/\d+$/), front.click("ul.initiatives li a")]);
  const url = front.url();
  const id = url.split("/").pop();
  assert.match(await front.textContent("#seat"), /前台/);
  const view = await (await front.request.get(`${BASE}/api/initiatives/${id}`)).json();
  const unit = view.parties[0].units[0];
  await submit(front, "contact", async (f) => {
    await f.locator("select[name=position]").selectOption("support");
    await f.locator("textarea[name=concerns]").fill("希望保留底商经营");
  });
  await submit(front, "survey", async (f) => {
    await f.locator("input[name=unit]").fill(unit);
    await f.locator("input[name=occupants]").fill("3");
    await f.locator("input[value=partitions]").check();
  });
  await submit(front, "open_handoff", (f) => f.locator("textarea[name=summary]").fill("请消防部门检查2号楼"));
  assert.match(await front.textContent("#progress"), /1\/\d+/);
  await front.screenshot({ path: `${SHOTS}/initiative-front-375.png`, fullPage: true });

  const back = await as("street.admin");
  await back.goto(url);
  assert.match(await back.textContent("#seat"), /后台/);
  await submit(back, "note", (f) => f.locator("textarea[name=text]").fill("CANARY-e2e-note 内部研判"));
  const open = back.locator('form.step[data-step="answer_handoff"]');
  assert.ok(await open.count() >= 1, "the back stage answers the front's hand-offs");
  await submit(back, "answer_handoff", async (f) => {
    await f.locator("textarea[name=answer]").fill("消防大队周五到场检查");
    await f.locator("textarea[name=rationale]").fill("CANARY-e2e-rationale");
  });
  await submit(back, "publish", async (f) => {
    await f.locator("textarea[name=text]").fill("街道将组织联合检查，请居民配合");
    await f.locator("select[name=stage]").selectOption("public");
  });
  assert.match(await back.textContent("main"), /CANARY-e2e-note/);
  await back.screenshot({ path: `${SHOTS}/initiative-back-1280.png`, fullPage: true });

  await front.goto(url);
  const shown = await front.textContent("main");
  assert.match(shown, /消防大队周五到场检查/);
  assert.match(shown, /街道将组织联合检查/);
  assert.doesNotMatch(shown, /CANARY/);
  await front.goto(`${url}?lang=en`);
  assert.match(await front.textContent("main"), /Joint timeline/);
  assert.doesNotMatch(await front.content(), /CANARY/);

  const visitor = await (await browser().newContext({ viewport: { width: 375, height: 900 } })).newPage();
  await visitor.goto(`${BASE}/initiatives/${id}/public`);
  const pub = await visitor.textContent("main");
  assert.match(pub, /街道将组织联合检查/);
  assert.doesNotMatch(await visitor.content(), /CANARY|消防大队周五|希望保留底商/);
  await visitor.screenshot({ path: `${SHOTS}/initiative-public-375.png`, fullPage: true });
});
