// `replay --diff` and `replay --watch`: replay's own listing with, under each step, only the
// fields that step changed, in one table aligned over the whole trace; a violation is shown at
// its step with the full state of what it names. A watch follows one page or guest frame through
// the trace, one line for the initial state and one for every step that changed it.

import { formatStep } from "../../model/actions.js";
import { InputError } from "../../model/config.js";
import { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { callWidth, describeFinding, describeFrame, describePage, replayLines, stepLine, verdictLine } from "../report-text.js";
import type { ModelVariant } from "../engine.js";
import type { ReplayResult } from "../replay.js";
import { INITIAL_STEP } from "../trace.js";
import { asWalk, changes, frameRow, pageRow, rowsOf, walkTrace, type Row, type StateWalk, type TraceStates } from "./view.js";

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

/** The violations found at `step`, each with the full state of the pages and frames it names. */
function violationsAt(r: ReplayResult, step: number, line: (l: string) => void): void {
  for (const v of r.violations) {
    if (v.step !== step) continue;
    line(`${INDENT}VIOLATION ${v.property}: ${v.finding.message}`);
    for (const l of describeFinding(r, v)) line(`${INDENT}${l}`);
  }
}

export function formatDiff(r: ReplayResult, states: TraceStates | StateWalk): string {
  const lines: string[] = [];
  diffLines(r, asWalk(states), (l) => lines.push(l));
  return lines.join("\n");
}

/**
 * formatDiff's lines one at a time. Two walks over the states: the first measures the change
 * table's columns, so that it is aligned over the whole trace, the second prints.
 */
export function diffLines(r: ReplayResult, states: StateWalk, line: (l: string) => void): void {
  const world = states.world;
  const rows = rowsOf(world);
  let [wRow, wField, wBefore] = [0, 0, 0];
  states.walk((_, s, prev) => {
    if (prev === undefined) return;
    for (const c of changes(world, rows, prev, s)) {
      wRow = Math.max(wRow, c.row.label.length);
      wField = Math.max(wField, c.field.length);
      wBefore = Math.max(wBefore, c.before.length);
    }
  });
  const width = callWidth(r);
  line(`${r.file}:`);
  violationsAt(r, INITIAL_STEP, line);
  states.walk((i, s, prev) => {
    if (prev === undefined) return;
    const step = i - 1;
    line(stepLine(r.steps[step], width));
    let last: Row | undefined;
    for (const c of changes(world, rows, prev, s)) {
      line(`${INDENT}${(c.row !== last ? c.row.label : "").padEnd(wRow)}  ${c.field.padEnd(wField)}  ${c.before.padEnd(wBefore)} -> ${c.after}`);
      last = c.row;
    }
    violationsAt(r, step, line);
  });
  line(verdictLine(r));
}

/** The watched page or frame in the initial state and after every step that changed it. */
export function formatWatch(r: ReplayResult, states: TraceStates | StateWalk, watch: Watched): string {
  const lines: string[] = [];
  watchLines(r, asWalk(states), watch, (l) => lines.push(l));
  return lines.join("\n");
}

/** formatWatch's lines one at a time; like diffLines, a first walk measures the columns. */
export function watchLines(r: ReplayResult, states: StateWalk, watch: Watched, line: (l: string) => void): void {
  const describe = (s: Uint32Array) => {
    const k = new PkvmState(states.world, s);
    const d = watch.kind === "page" ? describePage(k, watch.pfn) : describeFrame(k, watch.vm, watch.gfn);
    return d.slice(d.indexOf(": ") + 2);
  };
  /** Calls entry(at, ret, state) for the initial state and each step that changed the watched row. */
  const entries = (entry: (at: string, ret: string, state: string) => void) =>
    states.walk((i, s, prev) => {
      if (prev === undefined) return entry("initial", "", describe(s));
      const now = describe(s);
      if (now !== describe(prev)) entry(`${String(i - 1).padStart(3)}  ${formatStep(r.steps[i - 1].step)}`, r.steps[i - 1].ret, now);
    });
  let [wAt, wRet, changed] = [0, 0, -1];
  entries((at, ret) => {
    wAt = Math.max(wAt, at.length);
    wRet = Math.max(wRet, ret.length);
    changed++;
  });
  line(`watch ${watch.label} in ${r.file}:`);
  entries((at, ret, d) => line(`  ${at.padEnd(wAt)}  ${ret.padEnd(wRet)}  ${d}`));
  line(`  (unchanged by the other ${r.steps.length - changed} of ${r.steps.length} steps)`);
}

export interface ReplayView {
  diff: boolean;
  watches: readonly Watched[];
  /** The model variant the trace was replayed on, so that the states shown are the ones checked. */
  variant?: ModelVariant;
}

/** replay's text for one trace: its listing (with the changes under --diff), then each watch. */
export function replayText(r: ReplayResult, view: ReplayView): string {
  const lines: string[] = [];
  replayTextLines(r, view, (l) => lines.push(l));
  return lines.join("\n");
}

/** replayText's lines one at a time, the trace's states walked, never kept. */
export function replayTextLines(r: ReplayResult, view: ReplayView, line: (l: string) => void): void {
  for (const w of view.watches) checkWatch(r.world, w, r.file);
  const states = walkTrace(r.world, r.steps.map((s) => s.step), view.variant);
  if (view.diff) diffLines(r, states, line);
  else replayLines(r, line);
  for (const w of view.watches) {
    line("");
    watchLines(r, states, w, line);
  }
}
