// `replay --diff` and `--watch`: what each step changed, field by field, and a page or guest
// frame followed through a trace.

import { describe, expect, it } from "vitest";
import { InputError } from "../model/config.js";
import { PkvmState } from "../model/state.js";
import { describePage, formatReplay } from "../src/report-text.js";
import { checkWatch, formatDiff, parseWatch, replayText } from "../src/report/diff.js";
import { changes, rowsOf, traceStates } from "../src/report/view.js";
import { replay } from "../src/replay.js";
import { parseTrace, readTrace, type Trace } from "../src/trace.js";

const fixture = (path: string) => readTrace(new URL(path, import.meta.url).pathname);
const PASS = fixture("fixtures/pass.json");
const STALE = fixture("../findings/force-reclaim-stale-annotation-panic.json");

function run(trace: Trace) {
  const r = replay(trace);
  return { r, ts: traceStates(r.world, trace.steps.map((s) => s.step)) };
}

/** The lines of a step's block in the diff: its step line and the rows under it. */
function block(text: string, index: number): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`${String(index).padStart(5)}  `));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith("         "));
  return lines.slice(start, end).map((l) => l.trimEnd());
}

describe("replay --diff", () => {
  const { r, ts } = run(PASS);
  const text = formatDiff(r, ts);

  it("keeps replay's listing: the header, every step line, the verdict", () => {
    const listing = formatReplay(r).split("\n");
    const lines = text.split("\n");
    expect(lines[0]).toBe(listing[0]);
    expect(lines.at(-1)).toBe(`${PASS.file}: ok`);
    for (const step of listing.slice(1, -1)) expect(lines).toContain(step);
  });

  it("shows under a step only the fields it changed, aligned in one table", () => {
    expect(block(text, 4).slice(1)).toEqual([
      "         pfn 3       host          OWNED                       -> NOPAGE",
      "                     host stage-2  EMPTY                       -> ANNOTATION guest vm 0 gfn 1",
      "         vm 0 gfn 1  stage-2       absent                      -> pfn 3 OWNED RWX",
    ]);
    expect(block(text, 3).slice(1)).toEqual(["         cpu         loaded        none                        -> vm 0 vcpu 0"]);
  });

  it("shows nothing under a step that changed nothing", () => {
    expect(block(text, 0)).toHaveLength(1); // host_share_hyp of MMIO: -EPERM
    expect(block(text, 5)).toHaveLength(1); // host_read of a guest page: -EFAULT
  });

  it("shows lifecycle and vCPU slots of a VM", () => {
    expect(block(text, 13).slice(-3)).toEqual([
      "         vm 0        life          DYING                       -> ABSENT",
      "                     metadata      pfn 1                       -> -",
      "                     vcpu 0        pfn 2                       -> -",
    ]);
  });

  it("shows a violation at its step, with the full state of the page it names", () => {
    const s = run(STALE);
    const lines = block(formatDiff(s.r, s.ts), 11);
    const k = new PkvmState(s.ts.world, s.ts.states[12]);
    expect(lines).toEqual([
      expect.stringMatching(/^ {3}11 {2}host_force_reclaim_page_guest\(pfn=3\) +PANIC +expected PANIC$/),
      "         VIOLATION no-hyp-panic: host_force_reclaim_page_guest(pfn=3) made the hypervisor panic",
      `             ${describePage(k, 3)}`,
    ]);
    expect(describePage(k, 3)).toContain("leaked");
  });

  it("shows a MMIO page's host stage-2 when the host faults it in", () => {
    const t = parseTrace({ format: "pkvm-trace/1", config: "default", steps: [{ action: "host_read", args: { pfn: 5 } }] }, "mmio.json");
    const m = run(t);
    expect(changes(m.ts.world, rowsOf(m.ts.world), m.ts.states[0], m.ts.states[1])).toEqual([
      { row: { kind: "page", label: "pfn 5", pfn: 5 }, field: "host stage-2", before: "EMPTY", after: "IDMAP RW" },
    ]);
  });
});

describe("replay --watch", () => {
  const { r, ts } = run(PASS);

  it("follows a page: the initial state, then every step that changed it", () => {
    const text = replayText(r, { diff: false, watches: [parseWatch("3")] });
    const watch = text.slice(text.indexOf("watch pfn 3"));
    const lines = watch.split("\n");
    expect(lines[0]).toBe(`watch pfn 3 in ${PASS.file}:`);
    expect(lines[1]).toMatch(/^ {2}initial +host OWNED, hyp NOPAGE, .*host stage-2 EMPTY, contents HOST$/);
    expect(lines.slice(2, -1).map((l) => l.trim().split(/\s+/)[0])).toEqual(["4", "6", "7", "9", "12"]);
    expect(lines[2]).toMatch(/^ {4}4 {2}host_donate_guest\(vm=0, pfn=3, gfn=1\) +0 +host NOPAGE, .*ANNOTATION guest vm 0 gfn 1/);
    expect(lines.at(-1)).toBe("  (unchanged by the other 9 of 14 steps)");
    expect(text.startsWith(formatReplay(r))).toBe(true);
  });

  it("follows a guest frame, VM lifecycle included", () => {
    const text = replayText(r, { diff: true, watches: [parseWatch("0:1")] });
    const watch = text.slice(text.indexOf("watch vm 0 gfn 1")).split("\n");
    expect(watch.slice(1, -1).map((l) => l.trim().split(/\s+/)[0])).toEqual(["initial", "1", "4", "7", "9", "11", "12", "13"]);
    expect(watch[3]).toMatch(/pfn 3, OWNED, prot RWX \(VM LIVE\)$/);
    expect(text).toContain("         vm 0 gfn 1  stage-2");
  });

  it.each([
    ["x", "--watch: expected PFN or VM:GFN, got \"x\""],
    ["1:", "--watch: expected PFN or VM:GFN, got \"1:\""],
    ["-1", "--watch: expected PFN or VM:GFN, got \"-1\""],
  ])("rejects --watch %s", (spec, message) => {
    expect(() => parseWatch(spec)).toThrow(new InputError(message));
  });

  it.each([
    ["9", "pass.json: --watch 9: pfn 9 is not a RAM page of the config (it has 6 pages)"],
    ["5", "pass.json: --watch 5: pfn 5 is not a RAM page of the config (it has 6 pages)"],
    ["2:0", "pass.json: --watch 2:0: 2 is not a VM slot of the config (it has 2)"],
    ["1:3", "pass.json: --watch 1:3: gfn 3 is past VM 1's 3 frames"],
  ])("rejects --watch %s outside the trace's config, naming the file", (spec, message) => {
    expect(() => checkWatch(ts.world, parseWatch(spec), "pass.json")).toThrow(new InputError(message));
  });
});
