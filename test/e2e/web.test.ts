// The web console end to end: `wrangler dev` serving the built app, Debian's
// Chromium through playwright-core. Each step is done the way an operator would,
// by clicking; the run fails on any console error, failed request or unexpected
// error response, and on serious accessibility violations. It saves a screenshot
// of every page at desktop and phone width into docs/screenshots/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { accessibility, buildWeb, launchBrowser, Problems, root, startWorker, type Worker } from "./web-helpers.ts";

const run = `w${Date.now().toString(36)}`;
const adminToken = `admin-${run}`;
const jwtSecret = `jwt-secret-${run}-0123456789abcdef`;
const scratch = mkdtempSync(join(tmpdir(), "rushgate-web-"));
const shots = join(root, "docs/screenshots");

let worker: Worker;
let browser: Browser;
const problems = new Problems();
const contexts: BrowserContext[] = [];

// Stake windows of 4 s that close 1 s after their end, so a qualifying window
// pays its awards within seconds; the threshold stays the default £50.
const WINDOW_VARS = { WINDOW_SECONDS: "4", ALLOWED_LATENESS_SECONDS: "1", MIN_WINDOW_STAKE_CENTS: "5000" };
const gbp = (cents: number) => `£${(cents / 100).toFixed(2)}`;

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(worker.url + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}`, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function newPage(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport, baseURL: worker.url, timezoneId: "Europe/Paris", locale: "en-GB" });
  contexts.push(context);
  const page = await context.newPage();
  problems.watch(page);
  // On a failure, the page as it stood, for whoever reads the log.
  onTestFailed(async () => {
    const file = join(tmpdir(), `rushgate-web-failure-${contexts.length}-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    console.error(`web e2e: ${page.url()} saved to ${file}; problems so far: ${JSON.stringify(problems.list)}`);
  });
  return page;
}

/** Signs in on the page at `path` (any page asks for the token first, then shows itself). */
async function signIn(page: Page, token: string, path = "/") {
  await page.goto(path);
  await page.locator("#f-token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Pages" }).waitFor();
}

async function go(page: Page, label: string, heading = label) {
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: label, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

/** Accessibility check and a full-page screenshot of the page as it stands. */
async function capture(page: Page, name: string) {
  expect(await accessibility(page), `axe on ${name}`).toEqual([]);
  const width = page.viewportSize()!.width <= 400 ? "phone" : "desktop";
  await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true, animations: "disabled" });
}

beforeAll(async () => {
  buildWeb();
  mkdirSync(shots, { recursive: true });
  worker = await startWorker({ ADMIN_TOKEN: adminToken, JWT_SECRET: jwtSecret, ...WINDOW_VARS }, join(scratch, "state"));
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await worker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("web console", () => {
  it("answers API, feed, bridge and probe paths from the Worker, never with index.html", async () => {
    for (const path of ["/api/nope", `/api/coupons/NOPE_${run}`, "/ws/nope", "/internal/nope", "/metrics", "/health"]) {
      const res = await fetch(worker.url + path, { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } });
      expect(res.headers.get("content-type"), path).toMatch(/application\/json/);
      expect(await res.text(), path).not.toMatch(/<!doctype html>/i);
    }
    // The app's own routes do fall back to the app.
    const page = await fetch(`${worker.url}/wallet?user=x`, { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root">/);
    // The bundle carries no secret: it never saw one, but check the token is not in it.
    const html = await (await fetch(`${worker.url}/`)).text();
    const js = [...html.matchAll(/src="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    expect(js.length).toBeGreaterThan(0);
    for (const src of js) expect(await (await fetch(worker.url + src)).text()).not.toContain(adminToken);
  });

  it("signs in and runs coupons, rain, offers, the wallet's stake windows and awards, odds and the dashboard by clicking, at desktop and phone width", async () => {
    const page = await newPage(DESKTOP);

    // Sign-in: a wrong token is refused at the field; the right one is kept for the session only.
    await page.goto("/");
    await capture(page, "signin");
    await page.locator("#f-token").fill("not-the-token");
    problems.expect("GET /api/wallets/console 401");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#f-token-err").textContent()).toContain("did not accept");
    await signIn(page, adminToken, "/coupons");
    expect(await page.evaluate(() => sessionStorage.getItem("rushgate.token"))).toBe(adminToken);
    expect(await page.evaluate(() => localStorage.getItem("rushgate.token"))).toBeNull();
    // The API reference is linked from the console's header, and the link leads to the rendered page.
    const reference = await page.locator("header.top").getByRole("link", { name: "API reference" }).getAttribute("href");
    const docs = await fetch(new URL(reference!, worker.url));
    expect([docs.status, docs.headers.get("content-type")]).toEqual([200, expect.stringMatching(/^text\/html/)]);
    expect(await docs.text()).toContain("/api/openapi.json");

    // Coupons: create, claim as a user, page through the claimants.
    const coupon = `WEB_${run}`.toUpperCase();
    await page.locator("#f-coupon-name").fill(coupon);
    await page.locator("#f-coupon-amount").fill("20");
    await page.getByRole("button", { name: "Create coupon" }).click();
    await expect.poll(() => page.getByTestId("coupon-remaining").textContent()).toBe("20");
    for (let i = 0; i < 11; i++) expect((await api("POST", "/api/coupons/claim", { coupon_name: coupon, user_id: `early-${i}` })).status).toBe(200);
    await page.locator("#f-claim-user").fill("alice");
    await page.getByRole("button", { name: "Claim", exact: true }).click();
    await expect.poll(() => page.getByTestId("claim-outcome").textContent()).toBe("Claimed: 8 left.");
    await expect.poll(() => page.getByTestId("coupon-remaining").textContent()).toBe("8");
    const claimants = page.locator("ol.claimants li");
    await expect.poll(() => claimants.count()).toBe(10);
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => claimants.allTextContents()).toEqual(["early-10", "alice"]);
    await capture(page, "coupons");

    // Rain: create with an inventory and a window, open a packet, see remaining fall.
    await go(page, "Rain", "Rain campaigns");
    await page.locator("#f-campaign-name").fill(`Friday rain ${run}`);
    await page.locator("#f-inv-amount-0").fill("0.50");
    await page.locator("#f-inv-count-0").fill("6");
    await page.locator("#f-inv-amount-1").fill("2");
    await page.locator("#f-inv-count-1").fill("2");
    await page.getByRole("button", { name: "Create campaign" }).click();
    await expect.poll(() => page.getByTestId("rain-remaining").textContent()).toBe("8");
    const inventory = page.getByRole("region", { name: "Inventory by amount" }).locator("tbody tr");
    await expect.poll(() => inventory.allTextContents()).toEqual(["£0.50606", "£2.00202"]);
    await page.locator("#f-open-user").fill("carol");
    await page.getByRole("region", { name: "Open a packet" }).getByRole("button", { name: "Open", exact: true }).click();
    await expect.poll(() => page.getByText(/^Opened: £(0\.50|2\.00)$/).count()).toBe(1);
    await expect.poll(() => page.getByTestId("rain-remaining").textContent()).toBe("7");
    // Packets opened elsewhere: remaining falls live, over /ws/campaigns/{id}, with no click.
    const rainCard = page.getByRole("region", { name: `Friday rain ${run}` });
    await expect.poll(() => rainCard.locator(".banner").getAttribute("data-state")).toBe("connected");
    const campaignId = await page.evaluate(() => JSON.parse(localStorage.getItem("rushgate.campaigns")!)[0].id as string);
    for (const u of ["erin", "frank"]) expect((await api("POST", `/api/campaigns/${campaignId}/open`, { user_id: u })).status).toBe(200);
    await expect.poll(() => page.getByTestId("rain-remaining").textContent()).toBe("5");
    await capture(page, "campaigns");

    // Offers: the seed offer in a few clicks; a bad field is shown at the field; an edit makes v2,
    // and the history shows v1's difference from it.
    const seedName = "10% bonus ≥ £10";
    await go(page, "Offers");
    await page.getByText("No offers yet", { exact: false }).waitFor();
    await page.getByRole("button", { name: "New offer" }).click();
    await page.getByRole("button", { name: /^Start from the seed offer/ }).click();
    expect(await page.locator("#f-offer-name").inputValue()).toBe(seedName);
    expect(await page.locator("#f-offer-min-stake").inputValue()).toBe("10.00");
    expect(await page.locator("#f-offer-bonus-pct").inputValue()).toBe("10");
    await page.getByRole("button", { name: "Create offer" }).click();
    const offerRow = page.locator(`tr[data-offer="${seedName}"]`);
    await expect.poll(() => offerRow.textContent()).toMatch(/10%.*£10\.00.*active.*v1/);
    const offerId = (await api("GET", "/api/offers")).body.offers.find((o: { name: string }) => o.name === seedName).id as string;
    await offerRow.getByRole("button", { name: /^Edit/ }).click();
    await page.locator("#f-offer-bonus-pct").fill("150");
    problems.expect(`PUT /api/offers/${offerId} 400`);
    await page.getByRole("button", { name: "Save new version" }).click();
    await expect.poll(() => page.locator("#f-offer-bonus-pct-err").textContent()).toContain("here as a percentage");
    expect(await page.locator("#f-offer-bonus-pct").getAttribute("aria-invalid")).toBe("true");
    await page.locator("#f-offer-bonus-pct").fill("10");
    await page.locator("#f-offer-max-bonus").fill("5");
    await page.getByRole("button", { name: "Save new version" }).click();
    await expect.poll(() => offerRow.textContent()).toMatch(/\(max £5\.00\).*v2/);
    await offerRow.getByRole("button", { name: /^History/ }).click();
    const versions = page.getByTestId("versions").locator(":scope > li");
    await expect.poll(() => versions.count()).toBe(2);
    await expect.poll(() => versions.nth(1).locator("table.diff tbody tr").allTextContents()).toEqual(["max_bonus_cents—£5.00"]);
    await capture(page, "offers");

    // Wallet: look a user up, deposit, place a bet (key shown, retried with the same key), settle it.
    const user = `dave-${run}`;
    await go(page, "Wallet");
    await page.locator("#f-wallet-user").fill(user);
    await page.getByRole("button", { name: "Look up" }).first().click();
    await expect.poll(() => page.getByRole("region", { name: `Wallet of ${user}` }).textContent()).toContain("£0.00");
    const depositCard = page.getByRole("region", { name: "Deposit" });
    await page.locator("#f-deposit-amount").fill("100");
    await depositCard.getByRole("button", { name: "Deposit" }).click();
    await expect.poll(() => page.getByTestId("balances").textContent()).toContain("Cash£100.00");

    const betCard = page.getByRole("region", { name: "Place a bet" });
    const key = await betCard.getByTestId("next-key").textContent();
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    await page.locator("#f-bet-stake").fill("10");
    await page.locator("#f-bet-odds").fill("2.5");
    await betCard.getByRole("button", { name: "Place bet" }).click();
    await expect.poll(() => betCard.getByTestId("last-outcome").textContent()).toContain("201");
    expect(await betCard.getByTestId("last-key").textContent()).toBe(key);
    expect(await betCard.getByTestId("bet-placed").textContent()).toMatch(/^Bet \S+ accepted: stake £10\.00, could win £25\.00\.$/);
    expect(await betCard.getByTestId("next-key").textContent()).not.toBe(key);
    // A retry of the same request reuses its key: the server replays the first answer.
    await betCard.getByRole("button", { name: "Retry with the same key" }).click();
    await expect.poll(() => betCard.getByTestId("last-outcome").textContent()).toContain("replayed");
    expect(await betCard.getByTestId("last-key").textContent()).toBe(key);
    await expect.poll(() => page.getByTestId("balances").textContent()).toContain("Held£10.00");
    const bet = page.getByTestId("bet");
    await expect.poll(() => bet.count()).toBe(1);
    await bet.getByRole("button", { name: "Settle" }).click();
    await expect.poll(() => bet.textContent()).toContain("paid £25.00");
    await expect.poll(() => page.getByTestId("balances").textContent()).toContain("Cash£115.00");
    await expect.poll(() => page.getByTestId("ledger").locator("tbody tr").count()).toBe(3);

    // Stake windows: with the awards feed open in another tab, place £25 bets until a window
    // reaches £50 and qualifies. The close happens on the wallet's alarm a second after the
    // window ends; the page watches open windows, so the test polls the page (bounded).
    const feedPage = await newPage(DESKTOP);
    await signIn(feedPage, adminToken, "/awards");
    await expect.poll(() => feedPage.locator(".banner").first().getAttribute("data-state")).toBe("connected");
    await feedPage.getByText("No awards yet", { exact: false }).waitFor();

    await page.locator("#f-deposit-amount").fill("200");
    await depositCard.getByRole("button", { name: "Deposit" }).click();
    await expect.poll(() => page.getByTestId("balances").textContent()).toContain("Cash£315.00");
    await page.locator("#f-bet-stake").fill("25");
    const placeBet = async () => {
      const next = await betCard.getByTestId("next-key").textContent();
      await betCard.getByRole("button", { name: "Place bet" }).click();
      await expect.poll(() => betCard.getByTestId("last-key").textContent()).toBe(next);
      expect(await betCard.getByTestId("last-outcome").textContent()).toContain("201");
    };
    const windowRows = () =>
      page.getByTestId("windows").locator("tbody tr").evaluateAll((rows: any[]) =>
        rows.map((r) => ({ state: r.getAttribute("data-state") as string, bets: Number(r.getAttribute("data-bets")) })),
      );
    let placed = 1; // the £10 bet above
    const closedBets = async () => (await windowRows()).filter((w) => w.state !== "open").reduce((n, w) => n + w.bets, 0);
    // Its window must close first, or the £25 bets could join it (on a fast machine it is still open).
    await expect.poll(closedBets, { timeout: 20_000 }).toBe(placed);
    for (let round = 0; ; round++) {
      // Two bets about a second apart share a 4 s window unless they straddle its end (about one
      // round in four): then another round. Six rounds all straddling is a 1-in-4,000 event.
      expect(round, "rounds of two bets before a window qualified").toBeLessThan(6);
      await placeBet();
      await placeBet();
      placed += 2;
      await expect.poll(closedBets, { timeout: 20_000 }).toBe(placed);
      if ((await windowRows()).some((w) => w.state === "qualified")) break;
    }
    const rows = await windowRows();
    const qualifiedBets = rows.filter((w) => w.state === "qualified").reduce((n, w) => n + w.bets, 0);
    expect(qualifiedBets).toBe(2);
    expect(rows.filter((w) => w.state === "not_qualified").length).toBeGreaterThanOrEqual(1); // the £10 one
    const qualifiedRow = page.getByTestId("windows").locator('tr[data-state="qualified"]');
    expect(await qualifiedRow.textContent()).toMatch(/£50\.00£50\.00qualified0$/);
    // Each qualified £25 bet earns 10%: £2.50, in the wallet's bonus balance and ledger ...
    await expect.poll(() => page.getByTestId("bonus").textContent(), { timeout: 10_000 }).toBe(gbp(250 * qualifiedBets));
    await expect.poll(() => page.getByTestId("ledger").locator("tbody tr", { hasText: "bonus" }).count()).toBe(qualifiedBets);
    await capture(page, "wallet");
    // ... and live on the awards feed that was already open.
    const feedItems = feedPage.getByTestId("awards").locator("li");
    await expect.poll(() => feedItems.count(), { timeout: 10_000 }).toBe(qualifiedBets);
    for (const text of await feedItems.allTextContents()) expect(text).toMatch(new RegExp(`^\\+£2\\.50 to ${user} · ${seedName} · bet on MATCH_001, stake £25\\.00`));

    // Odds: subscribe to an event, see an update arrive and be highlighted, with its version;
    // a stale version changes nothing.
    const match = `MATCH_${run}`;
    const odds = (version: number, home: string) => ({
      event_id: match, home_team: "Arsenal", away_team: "Chelsea", market: "1X2",
      odds: { home, draw: "3.40", away: "2.90" }, updated_at: new Date().toISOString(), source: "web-e2e", version,
    });
    expect((await api("POST", "/api/odds", odds(1, "2.10"))).status).toBe(201);
    await go(page, "Odds");
    const eventBox = page.getByRole("checkbox", { name: new RegExp(match) });
    await expect.poll(() => eventBox.isEnabled()).toBe(true);
    await eventBox.check();
    const row = page.locator(`tr[data-event="${match}"]`);
    await expect.poll(() => row.locator('[data-odd="home"]').textContent()).toBe("2.10");
    expect(await row.getByTestId("odds-version").textContent()).toBe("1");
    expect((await api("POST", "/api/odds", odds(2, "1.95"))).status).toBe(201);
    await expect.poll(() => row.locator('[data-odd="home"]').textContent()).toBe("1.95");
    expect(await row.getByTestId("odds-version").textContent()).toBe("2");
    expect(await row.locator('[data-odd="home"]').getAttribute("class")).toContain("changed");
    expect(await row.locator('[data-odd="away"]').getAttribute("class")).not.toContain("changed");
    expect((await api("POST", "/api/odds", odds(1, "9.99"))).body.status).toBe("STALE");
    await capture(page, "odds");
    expect(await row.locator('[data-odd="home"]').textContent()).toBe("1.95");

    // Dashboard: the live counters move when a bet is placed elsewhere.
    await go(page, "Dashboard");
    const placedCounter = page.locator('[data-counter="bets_placed"] .value');
    await placedCounter.waitFor();
    await expect.poll(() => page.locator(".banner").first().getAttribute("data-state")).toBe("connected");
    const before = Number(await placedCounter.textContent());
    expect(before).toBeGreaterThanOrEqual(1);
    const bet2 = { user_id: user, event_id: match, market: "1X2", selection: "HOME", stake_cents: 500, odd_value: "1.95" };
    expect((await api("POST", "/api/bets", bet2, { "idempotency-key": `${run}-dash` })).status).toBe(201);
    await expect.poll(() => placedCounter.textContent(), { timeout: 15_000 }).toBe(String(before + 1));
    expect(Number(await page.locator('[data-counter="coupon_claims"] .value').textContent())).toBeGreaterThanOrEqual(12);
    expect(Number(await page.locator('[data-counter="awards"] .value').textContent())).toBe(qualifiedBets);
    await expect.poll(() => page.locator(".chart canvas").count()).toBeGreaterThan(0);
    await capture(page, "dashboard");

    // Awards: a feed opened now starts with the latest awards; Pause holds new ones back.
    await go(page, "Awards");
    await expect.poll(() => page.locator(".banner").first().getAttribute("data-state")).toBe("connected");
    await expect.poll(() => page.getByTestId("awards").locator("li").count()).toBe(qualifiedBets);
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("button", { name: "Resume" }).click();
    await capture(page, "awards");

    // A user's own view, signed in with a user JWT: their wallet, no lookup of others.
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(user).setExpirationTime("10m").sign(new TextEncoder().encode(jwtSecret));
    const mine = await newPage(DESKTOP);
    await signIn(mine, jwt, "/wallet");
    await expect.poll(() => mine.getByTestId("balances").textContent()).toContain("Cash£315.00");
    expect(await mine.getByTestId("bonus").textContent()).toBe(gbp(250 * qualifiedBets));
    expect(await mine.getByRole("region", { name: "Look a user up" }).count()).toBe(0);

    // Phone width: every page so far, with the same data.
    const phone = await newPage(PHONE);
    await phone.goto("/");
    await capture(phone, "signin");
    await signIn(phone, adminToken, "/coupons");
    for (const [name, path, ready] of [
      ["coupons", `/coupons?name=${coupon}`, "coupon-remaining"],
      ["campaigns", `/campaigns?id=${campaignId}`, "rain-remaining"],
      ["wallet", `/wallet?user=${user}`, "ledger"],
      ["dashboard", "/", "totals"],
      ["offers", "/offers", "offers"],
      ["awards", "/awards", "awards"],
      ["odds", "/odds", null],
    ] as const) {
      await phone.goto(path);
      if (ready) await phone.getByTestId(ready).waitFor();
      if (name === "odds") {
        await phone.getByRole("checkbox", { name: new RegExp(match) }).check();
        await phone.locator(`tr[data-event="${match}"]`).waitFor();
      }
      // Nothing sticks out sideways at 375 px.
      expect(await phone.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number), name).toBeLessThanOrEqual(PHONE.width);
      await capture(phone, name);
    }

    expect(problems.list).toEqual([]);
    expect(problems.missing).toEqual([]);
  });
});
