// `replay --diff` and `replay --watch`: replay's own listing with, under each step, only the
// fields that step changed, in one table aligned over the whole trace; a violation is shown at
// its step with the full state of what it names. A watch follows one page or guest frame through
// the trace, one line for the initial state and one for every step that changed it.

import { formatStep } from "../../model/actions.js";
import { InputError } from "../../model/config.js";
import { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { describeFinding, describeFrame, describePage, formatReplay } from "../report-text.js";
import type { ModelVariant } from "../engine.js";
import type { ReplayResult } from "../replay.js";
import { INITIAL_STEP } from "../trace.js";
import { changes, frameRow, pageRow, rowsOf, traceStates, type Change, type Row, type TraceStates } from "./view.js";

export type Watched = Extract<Row, { kind: "page" | "frame" }>;

/** `--watch PFN` or `--watch VM:GFN`. */
export function parseWatch(spec: string): Watched {
  const m = /^(?:(\d+):)?(\d+)$/.exec(spec);
  if (!m) throw new InputError(`--watch: expected PFN or VM:GFN, got "${spec}"`);
  const n = Number(m[2]);
  return (m[1] === undefined ? pageRow(n) : frameRow(Number(m[1]), n)) as Watched;
}

/** A watch must name a RAM page or a guest frame of the trace's config. */
export function checkWatch(w: World, watch: Watched, file: string): void {
  const at = `${file}: --watch ${watch.kind === "page" ? watch.pfn : `${watch.vm}:${watch.gfn}`}`;
  if (watch.kind === "page") {
    if (!w.isMemory(watch.pfn)) throw new InputError(`${at}: pfn ${watch.pfn} is not a RAM page of the config (it has ${w.pages} pages)`);
  } else {
    const vm = w.config.vms[watch.vm];
    if (!vm) throw new InputError(`${at}: ${watch.vm} is not a VM slot of the config (it has ${w.config.vms.length})`);
    if (watch.gfn >= vm.gfns) throw new InputError(`${at}: gfn ${watch.gfn} is past VM ${watch.vm}'s ${vm.gfns} frames`);
  }
}

const INDENT = "         ";

function changeTable(all: readonly Change[][]): (c: Change, first: boolean) => string {
  const flat = all.flat();
  const width = (f: (c: Change) => string) => Math.max(0, ...flat.map((c) => f(c).length));
  const [wRow, wField, wBefore] = [width((c) => c.row.label), width((c) => c.field), width((c) => c.before)];
  return (c, first) =>
    `${INDENT}${(first ? c.row.label : "").padEnd(wRow)}  ${c.field.padEnd(wField)}  ${c.before.padEnd(wBefore)} -> ${c.after}`;
}

/** The violations found at `step`, each with the full state of the pages and frames it names. */
function violationsAt(r: ReplayResult, step: number): string[] {
  return r.violations
    .filter((v) => v.step === step)
    .flatMap((v) => [`${INDENT}VIOLATION ${v.property}: ${v.finding.message}`, ...describeFinding(r, v).map((l) => `${INDENT}${l}`)]);
}

export function formatDiff(r: ReplayResult, ts: TraceStates): string {
  // formatReplay's listing: the file, one line per step, the violations, the verdict.
  const listing = formatReplay(r).split("\n");
  const stepLines = listing.slice(1, 1 + r.steps.length);
  const rows = rowsOf(ts.world);
  const perStep = r.steps.map((_, i) => changes(ts.world, rows, ts.states[i], ts.states[i + 1]));
  const row = changeTable(perStep);
  const lines = [listing[0], ...violationsAt(r, INITIAL_STEP)];
  stepLines.forEach((line, i) => {
    lines.push(line, ...perStep[i].map((c, j) => row(c, j === 0 || perStep[i][j - 1].row !== c.row)));
    lines.push(...violationsAt(r, i));
  });
  lines.push(listing[listing.length - 1]);
  return lines.join("\n");
}

/** The watched page or frame in the initial state and after every step that changed it. */
export function formatWatch(r: ReplayResult, ts: TraceStates, watch: Watched): string {
  const describe = (s: Uint32Array) => {
    const k = new PkvmState(ts.world, s);
    const d = watch.kind === "page" ? describePage(k, watch.pfn) : describeFrame(k, watch.vm, watch.gfn);
    return d.slice(d.indexOf(": ") + 2);
  };
  const entries: [at: string, ret: string, state: string][] = [["initial", "", describe(ts.states[0])]];
  r.steps.forEach((s, i) => {
    const now = describe(ts.states[i + 1]);
    if (now !== describe(ts.states[i])) entries.push([`${String(i).padStart(3)}  ${formatStep(s.step)}`, s.ret, now]);
  });
  const [wAt, wRet] = [0, 1].map((c) => Math.max(...entries.map((e) => e[c].length)));
  const unchanged = r.steps.length - (entries.length - 1);
  return [
    `watch ${watch.label} in ${r.file}:`,
    ...entries.map(([at, ret, d]) => `  ${at.padEnd(wAt)}  ${ret.padEnd(wRet)}  ${d}`),
    `  (unchanged by the other ${unchanged} of ${r.steps.length} steps)`,
  ].join("\n");
}

export interface ReplayView {
  diff: boolean;
  watches: readonly Watched[];
  /** The model variant the trace was replayed on, so that the states shown are the ones checked. */
  variant?: ModelVariant;
}

/** replay's text for one trace: its listing (with the changes under --diff), then each watch. */
export function replayText(r: ReplayResult, view: ReplayView): string {
  for (const w of view.watches) checkWatch(r.world, w, r.file);
  if (!view.diff && view.watches.length === 0) return formatReplay(r);
  const ts = traceStates(r.world, r.steps.map((s) => s.step), view.variant);
  return [view.diff ? formatDiff(r, ts) : formatReplay(r), ...view.watches.map((w) => formatWatch(r, ts, w))].join("\n\n");
}
