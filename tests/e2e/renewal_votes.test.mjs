// End-to-end test of the micro-renewal proposal, council and vote pages in real headless
// Chromium: a resident amends and comments on a proposal on a phone and the planner accepts it (the diff shows
// the new line), the council's minutes, a resident votes with checkboxes and checks the receipt,
// and the public results page of the demo's closed vote with its SVG chart, in Chinese and English;
// staff set up a vote through the hub's form, and a paper ballot entered by one staff account is
// confirmed by another (the same account is refused on the page).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, SHOTS, useBrowser, api } from "./lib.mjs";

const { as, browser } = useBrowser({ width: 375 });

/** The demo's first community: the resident's grant scope. */
async function community(page) {
  const me = await (await page.request.get(`${BASE}/api/me`)).json();
  const scope = JSON.stringify(me);
  const m = scope.match(/\d{12}/);
  assert.ok(m, `no community in ${scope}`);
  return m[0];
}

test("renewal: amend, council minutes, vote with receipt, public results", async () => {
  const resident = await as("resident");
  const c = await community(resident);
  await resident.goto(`${BASE}/renewal/${c}/proposals`);
  const hub = await resident.textContent("main");
  assert.match(hub, /口袋公园改造/);
  assert.match(hub, /无障碍坡道与扶手/);

  // The planner writes a proposal; a resident amends it on the phone; the planner accepts.
  const planner = await as("planner", 1280);
  const site = { type: "Point", coordinates: [104.08, 30.66] };
  const { id } = await api(planner, "POST", "/api/renewal/proposals", {
    community: c, title: "快递柜雨棚", description: "安装雨棚\n地面防滑", site,
    items: [{ item: "雨棚", cents: 1500000 }],
  });
  await resident.goto(`${BASE}/renewal/${c}/proposals/${id}`);
  await resident.fill("#amend textarea[name=description]", "安装雨棚\n地面防滑\n增加照明");
  await resident.fill("#amend input[name=reason]", "晚上取件太黑");
  await Promise.all([resident.waitForLoadState("load"), resident.click("#amend button[type=submit]")]);
  assert.match(await resident.textContent("#amendments"), /晚上取件太黑/);
  // The resident also joins the discussion (讨论) on the phone.
  await resident.fill("#comment textarea[name=body]", "雨棚请用透光材料");
  await Promise.all([resident.waitForLoadState("load"), resident.click("#comment button[type=submit]")]);
  assert.match(await resident.textContent("ul.comments"), /雨棚请用透光材料/);
  await planner.goto(`${BASE}/renewal/${c}/proposals/${id}`);
  await Promise.all([planner.waitForLoadState("load"), planner.click("form.answer button[value=yes]")]);
  assert.match(await planner.textContent("#proposal-title"), /2/);
  assert.match(await planner.textContent("#diff"), /\+ 增加照明/);
  await resident.goto(`${BASE}/renewal/${c}/proposals/${id}`);
  await resident.screenshot({ path: `${SHOTS}/renewal-proposal-375.png`, fullPage: true });

  // The council page: the demo's meeting and its minutes, readable by residents.
  await resident.goto(`${BASE}/renewal/${c}/council`);
  assert.match(await resident.textContent("main"), /议事会讨论了三个微更新方案/);

  // An open vote on the new proposal: the council sends it, the planner sets up the vote.
  const council = await api(planner, "GET", `/api/renewal/communities/${c}/council`);
  const members = council.members.map((m) => m.id);
  const meeting = await api(planner, "POST", "/api/renewal/meetings", { community: c, title: "临时议事会", agenda: [id] });
  await api(planner, "POST", `/api/renewal/meetings/${meeting.id}/record`, { attendance: members });
  await api(planner, "POST", `/api/renewal/meetings/${meeting.id}/decisions`, { proposal: id, decision: "to_vote", reason: "一致同意" });
  const now = Date.now();
  const vote = await api(planner, "POST", "/api/renewal/votes", {
    community: c, title: "快递柜雨棚投票", budget_cents: 2000000, opens_at: now - 1000, closes_at: now + 3600000,
    ballot: { kind: "approval", min: 1, max: 1 }, counting: "greedy", proposals: [{ proposal: id }],
  });
  await resident.goto(`${BASE}/renewal/${c}/votes/${vote.id}`);
  await resident.check(`#ballot input[value="${id}"]`);
  await Promise.all([resident.waitForLoadState("load"), resident.click("#ballot button[type=submit]")]);
  const receipt = (await resident.textContent("#new-receipt strong")).trim();
  assert.match(receipt, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  await resident.screenshot({ path: `${SHOTS}/renewal-receipt-375.png`, fullPage: true });
  const visitor = await (await browser().newContext({ viewport: { width: 375, height: 900 } })).newPage();
  await visitor.goto(`${BASE}/renewal/${c}/votes/${vote.id}`);
  await visitor.fill("#receipt-check input[name=receipt]", receipt);
  await Promise.all([visitor.waitForLoadState("load"), visitor.click("#receipt-check button")]);
  assert.match(await visitor.textContent("#receipt-status"), /已计入|Counted/);

  // The public results of the demo's closed vote: the SVG chart and an explanation per project.
  const votes = await api(visitor, "GET", `/api/renewal/communities/${c}/votes`);
  const closed = votes.find((v) => v.phase === "closed" && v.turnout.counted >= 50);
  assert.ok(closed, "the demo has a closed vote with 50 ballots");
  await visitor.goto(`${BASE}/renewal/${c}/votes/${closed.id}/results`);
  assert.equal(await visitor.locator("svg.chart rect.bar").count(), 3);
  assert.ok(await visitor.locator("#results tr.funded").count() >= 1);
  await visitor.screenshot({ path: `${SHOTS}/renewal-results-375.png`, fullPage: true });
  await visitor.goto(`${BASE}/renewal/${c}/votes/${closed.id}/results?lang=en`);
  assert.match(await visitor.textContent("main"), /Results/);
  assert.match(await visitor.textContent("#results"), /Funded/);
});

test("renewal: staff set up a vote on the page and double-enter a paper ballot", async () => {
  const planner = await as("planner", 1280);
  const resident = await as("resident");
  const c = await community(resident);
  // A proposal the council sends to the vote.
  const site = { type: "Point", coordinates: [104.08, 30.66] };
  const { id } = await api(planner, "POST", "/api/renewal/proposals", {
    community: c, title: "楼道扶手", description: "加装扶手", site, items: [{ item: "扶手", cents: 800000 }],
  });
  const council = await api(planner, "GET", `/api/renewal/communities/${c}/council`);
  const meeting = await api(planner, "POST", "/api/renewal/meetings", { community: c, title: "扶手议事会", agenda: [id] });
  await api(planner, "POST", `/api/renewal/meetings/${meeting.id}/record`, { attendance: council.members.map((m) => m.id) });
  await api(planner, "POST", `/api/renewal/meetings/${meeting.id}/decisions`, { proposal: id, decision: "to_vote", reason: "一致同意" });

  // The set-up form on the hub: this proposal only, approval of one, greedy counting.
  await planner.goto(`${BASE}/renewal/${c}/proposals`);
  const boxes = planner.locator("#vote-setup input[name=proposal]");
  for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).uncheck();
  await planner.check(`#vote-setup input[name=proposal][value="${id}"]`);
  await planner.fill("#vote-setup input[name=title]", "楼道扶手投票");
  await planner.fill("#vote-setup input[name=budget]", "10000");
  await planner.check("#vote-setup input[name=rule][value=approval]");
  await planner.fill("#vote-setup input[name=min]", "1");
  await planner.fill("#vote-setup input[name=max]", "1");
  await planner.selectOption("#vote-setup select[name=counting]", "greedy");
  await planner.screenshot({ path: `${SHOTS}/renewal-vote-setup-1280.png`, fullPage: true });
  await Promise.all([planner.waitForURL(/\/votes\/\d+$/), planner.click("#vote-setup button[type=submit]")]);
  assert.match(await planner.textContent("h1"), /楼道扶手投票/);
  assert.match(await planner.textContent("#phase"), /投票中/);
  const votePath = new URL(planner.url()).pathname;

  // The planner enters a resident's paper ballot: a receipt, pending.
  const voter = await planner.locator("#paper-form select[name=voter] option").first().getAttribute("value");
  await planner.selectOption("#paper-form select[name=voter]", voter);
  await planner.check(`#paper-form input[name=project][value="${id}"]`);
  await Promise.all([planner.waitForLoadState("load"), planner.click("#paper-form button[type=submit]")]);
  const receipt = (await planner.textContent("#paper-receipt strong")).trim();
  assert.match(receipt, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  assert.match(await planner.textContent("#pending-paper"), new RegExp(receipt));
  const confirm = `form.confirm-paper[data-receipt="${receipt}"]`;

  // The same account may not confirm it: the refusal is on the page.
  await planner.check(`${confirm} input[name=project][value="${id}"]`);
  await Promise.all([planner.waitForLoadState("load"), planner.click(`${confirm} button[type=submit]`)]);
  assert.match(await planner.textContent("p.error"), /another staff member/);
  assert.equal(await planner.locator(confirm).count(), 1);
  await planner.screenshot({ path: `${SHOTS}/renewal-paper-1280.png`, fullPage: true });

  // Another staff account (the street office's administrator) confirms it: counted.
  const street = await as("street.admin", 1280);
  await street.goto(`${BASE}${votePath}`);
  await street.check(`${confirm} input[name=project][value="${id}"]`);
  await Promise.all([street.waitForLoadState("load"), street.click(`${confirm} button[type=submit]`)]);
  assert.equal(await street.locator("p.error").count(), 0);
  assert.match(await street.textContent("#receipt-status"), /已计入|Counted/);
  assert.equal(await street.locator("#pending-paper").count(), 0);
  const vote = await api(street, "GET", `/api/renewal/votes/${votePath.split("/").pop()}`);
  assert.equal(vote.turnout.counted, 1);
  await street.goto(`${BASE}${votePath}?lang=en`);
  assert.match(await street.textContent("#paper"), /Paper ballots/);
});
