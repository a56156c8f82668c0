// `pkvm-check report`: the HTML page, checked in a real browser (Debian's headless Chromium,
// driven by playwright-core): the grid's cells, the highlighted violation, the full state of a
// cell on click, and that the page fetches nothing. A screenshot is saved for a person to look at.

import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PkvmState } from "../model/state.js";
import { describePage } from "../src/report-text.js";
import { htmlReport } from "../src/report/html.js";
import { traceStates } from "../src/report/view.js";
import { replay } from "../src/replay.js";
import { readTrace } from "../src/trace.js";

const CHROMIUM = "/usr/bin/chromium";
const TMP = mkdtempSync(join(tmpdir(), "pkvm-html-"));
/** The finding of docs/findings.md: a leaked page's stale annotation, then a force reclaim that panics. */
const TRACE = readTrace(new URL("../findings/force-reclaim-stale-annotation-panic.json", import.meta.url).pathname);

function report() {
  const r = replay(TRACE);
  const ts = traceStates(r.world, TRACE.steps.map((s) => s.step));
  return { r, ts, html: htmlReport(r, ts, TRACE.configName) };
}

describe("the HTML report as text", () => {
  it("is self-contained: no URL, no external script, style or image", () => {
    const { html } = report();
    expect(html).not.toMatch(/https?:|\bsrc=|<link|@import|url\(/i);
    expect(html).toMatch(/^<!DOCTYPE html>/);
  });
});

describe("the HTML report in Chromium", { timeout: 30_000 }, () => {
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];
  const { r, ts, html } = report();
  const file = join(TMP, "report.html");

  beforeAll(async () => {
    // Fail loudly, never skip: the browser is part of the test setup (.ci/run installs it).
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    writeFileSync(file, html);
    context = await chromium.launchPersistentContext(mkdtempSync(join(TMP, "profile-")), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await context.newPage();
    page.on("request", (req) => requests.push(req.url()));
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
  });

  it("loads with no request but itself and no script error", () => {
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(errors).toEqual([]);
  });

  it("has one row per state and one cell per page, guest frame, VM slot and the CPU", async () => {
    const rows = page.locator("#grid tbody tr");
    expect(await rows.count()).toBe(TRACE.steps.length + 1);
    // 6 pages, VM 0's 2 frames, 1 VM slot, the CPU.
    for (let i = 0; i < TRACE.steps.length + 1; i++) expect(await rows.nth(i).locator("td[data-d]").count()).toBe(10);
    expect(await rows.nth(0).locator("td.action").textContent()).toBe("initial state");
    expect(await rows.nth(4).locator("td.action").textContent()).toBe("host_donate_guest(vm=0, pfn=3, gfn=0)");
    expect(await page.locator("#grid thead th.group").allTextContents()).toEqual(["pages", "vm 0 frames", "VM slots", "cpu"]);
  });

  it("colours a cell by its owner: host, hyp, guest", async () => {
    const cell = (row: number, col: number) => page.locator("#grid tbody tr").nth(row).locator("td[data-d]").nth(col);
    const background = (row: number, col: number) => cell(row, col).evaluate((td) => getComputedStyle(td).backgroundColor);
    expect([await cell(0, 0).textContent(), await background(0, 0)]).toEqual(["Y", "rgb(176, 122, 161)"]);
    expect([await cell(0, 3).textContent(), await background(0, 3)]).toEqual(["H", "rgb(78, 121, 167)"]);
    expect([await cell(4, 3).textContent(), await background(4, 3)]).toEqual(["G0", "rgb(89, 161, 79)"]);
    expect(await cell(4, 6).textContent()).toBe("3"); // vm 0 gfn 0 maps pfn 3
  });

  it("frames the cells a step changed", async () => {
    const changed = page.locator('#grid tbody tr[data-step="3"] td.changed');
    expect(await changed.count()).toBe(2); // pfn 3 and vm 0 gfn 0
    expect(await changed.first().getAttribute("data-c")).toBe("host: OWNED -> NOPAGE; host stage-2: EMPTY -> ANNOTATION guest vm 0 gfn 0");
  });

  it("highlights the violation: its row and the one cell it names", async () => {
    const violating = page.locator("#grid tbody tr.violating");
    expect(await violating.count()).toBe(1);
    expect(await violating.getAttribute("data-step")).toBe("11");
    const cells = page.locator("#grid td.violation");
    expect(await cells.count()).toBe(1);
    const last = new PkvmState(ts.world, ts.states[12]);
    expect(await cells.getAttribute("title")).toBe(describePage(last, 3));
    expect(await cells.evaluate((td) => getComputedStyle(td).outlineColor)).toBe("rgb(238, 0, 0)");
    expect(await page.locator(".finding").textContent()).toContain(`VIOLATION no-hyp-panic at step 11: ${r.violations[0].finding.message}`);
  });

  it("shows a cell's full state on click", async () => {
    await page.locator("#grid td.violation").click();
    const last = new PkvmState(ts.world, ts.states[12]);
    expect(await page.locator("#detail").textContent()).toBe(`${describePage(last, 3)}\nafter step 11 host_force_reclaim_page_guest(pfn=3)`);
    await page.locator('#grid tbody tr[data-step="3"] td.changed').first().click();
    expect(await page.locator("#detail").textContent()).toContain("changed: host: OWNED -> NOPAGE");
  });

  it("saves a screenshot", async () => {
    const shot = join(TMP, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`screenshot: ${shot}`);
  });
});
