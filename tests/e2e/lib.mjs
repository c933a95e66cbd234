// The shared set-up of the browser tests (*.test.mjs): the server's address, the demo password,
// the screenshot folder, Debian's Chromium launched before a file's tests and closed after them,
// logging in as a demo user, screenshots at 375 px and 1280 px, the English check and the
// "no sideways scrolling" check, and JSON calls to the API with a page's session.
// Not a test file itself: `node --test` only runs *.test.mjs.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

export const BASE = process.env.GONGZHI_URL ?? "http://127.0.0.1:8080";
/** Every demo account's password (`gongzhi demo`). */
export const PASSWORD = "gongzhi-demo";
export const SHOTS = process.env.SCREENSHOTS ?? "../../target/screenshots";

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Registers the file's `before` (create $SCREENSHOTS, launch Chromium) and `after` (close it)
 * hooks; call once at the top of a test file. The options are the file's defaults for `as`:
 * the viewport (`width`, 1280, and `height`, 900) and the page the login goes on to (`next`,
 * "/work"). Returns `browser()`, the launched browser (for a visitor's context), and
 * `as(user, width?, { height, next }?)`, a new context logged in as the demo `user`.
 */
export function useBrowser({ width = 1280, height = 900, next = "/work" } = {}) {
  let browser;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  });
  after(async () => { await browser?.close(); });
  const as = (user, w = width, options = {}) => logIn(browser, user, { width: w, height, next, ...options });
  return { browser: () => browser, as };
}

/** A new context of `browser` with a `width`×`height` viewport, logged in through /login as `user`. */
export async function logIn(browser, user, { width = 1280, height = 900, next = "/work" } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  await page.goto(`${BASE}/login?next=${next}`);
  await page.fill("#username", user);
  await page.fill("#password", PASSWORD);
  // The login page's own address holds `next`: wait for the path itself, not a URL containing it.
  const path = next.split(/[?#]/)[0];
  await Promise.all([page.waitForURL((u) => u.pathname === path), page.click("button[type=submit]")]);
  return page;
}

/** Full-page screenshots of the page at 375 px and 1280 px: $SCREENSHOTS/<name>-<width>.png. */
export async function shot(page, name) {
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
}

/** The page in English (and back to Chinese): the language switch works on every step. */
export async function checkEnglish(page, englishText) {
  const url = page.url().split(/[?#]/)[0];
  await page.goto(`${url}?lang=en`);
  assert.match(await page.textContent("body"), englishText);
  await page.goto(`${url}?lang=zh`);
}

/** The page does not scroll sideways at its current width (tables scroll inside their own box). */
export async function noSideScroll(page) {
  const [wide, width] = await page.evaluate(() =>
    [document.documentElement.scrollWidth - window.innerWidth, window.innerWidth]);
  assert.ok(wide <= 1, `the page scrolls sideways by ${wide}px at ${width} px`);
}

/** At 375 px (a phone) the page must not scroll sideways; the viewport is 1280×900 afterwards. */
export async function fitsPhone(page) {
  await page.setViewportSize({ width: 375, height: 800 });
  await noSideScroll(page);
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** A JSON call to the API with the page's session; asserts a 2xx answer and returns its body. */
export async function api(page, method, path, data) {
  const r = await page.request.fetch(`${BASE}${path}`, { method, data });
  const body = await r.json();
  assert.ok(r.ok(), `${method} ${path}: ${r.status()} ${JSON.stringify(body)}`);
  return body;
}
