// Human-readable output: replayed traces step by step, and the pages and guest frames a
// finding names, spelled with the kernel's state names.

import { formatStep } from "../model/actions.js";
import { formatProt } from "../model/args.js";
import { Contents, GuestEntry, PageState, PkvmState, VmLife } from "../model/state.js";
import { SegKind } from "../model/world.js";
import type { ReplayResult, StepOutcome, ViolationOutcome } from "./replay.js";
import { hostStage2 } from "./report/view.js";

const protName = (prot: number) => formatProt(prot) || "none";

/** `pfn 3: host OWNED, hyp NOPAGE, ...`: everything the model knows of one physical page. */
export function describePage(k: PkvmState, pfn: number): string {
  if (pfn >= k.w.pages) return `pfn ${pfn}: past the address limit`;
  if (!k.w.isMemory(pfn)) return `pfn ${pfn}: MMIO`;
  const contents = k.contents(pfn);
  const parts = [
    `host ${PageState[k.hostState(pfn)]}`,
    `hyp ${PageState[k.hypState(pfn)]}`,
    `host_share_guest_count ${k.hostShareGuestCount(pfn)}`,
    `refcount ${k.refcount(pfn)}`,
    `host stage-2 ${hostStage2(k, pfn)}`,
    `contents ${Contents[contents]}${contents === Contents.GUEST ? ` of vm ${k.contentsVm(pfn)}` : ""}`,
  ];
  if (k.w.segKind[k.w.segOf(pfn)] === SegKind.NOMAP) parts.push("NOMAP");
  if (k.hypS1Mapped(pfn)) parts.push("hyp stage-1 mapped");
  if (k.ffaShared(pfn)) parts.push("FF-A shared");
  if (k.leaked(pfn)) parts.push("leaked");
  return `pfn ${pfn}: ${parts.join(", ")}`;
}

/** `vm 0 gfn 1: ...`: the guest stage-2 leaf of one guest frame. */
export function describeFrame(k: PkvmState, vm: number, gfn: number): string {
  const where = `vm ${vm} gfn ${gfn}`;
  const vmc = k.w.config.vms[vm];
  if (!vmc) return `${where}: no such VM slot`;
  if (gfn >= vmc.gfns) return `${where}: past the guest's address space`;
  const life = `VM ${VmLife[k.vmLife(vm)]}`;
  switch (k.guestEntry(vm, gfn)) {
    case GuestEntry.ABSENT:
      return `${where}: absent (${life})`;
    case GuestEntry.POISON:
      return `${where}: POISON (${life})`;
    case GuestEntry.MAPPED: {
      const block = k.guestBlock(vm, gfn) ? ", block" : "";
      return `${where}: pfn ${k.guestPfn(vm, gfn)}, ${PageState[k.guestState(vm, gfn)]}, prot ${protName(k.guestProt(vm, gfn))}${block} (${life})`;
    }
  }
}

/** The pages and frames a finding names, with their state before the step where it changed. */
export function describeFinding(r: ReplayResult, v: ViolationOutcome): string[] {
  const post = new PkvmState(r.world, v.state);
  const pre = v.pre && new PkvmState(r.world, v.pre);
  const lines: string[] = [];
  const add = (describe: (k: PkvmState) => string) => {
    const now = describe(post);
    lines.push(`    ${now}`);
    const before = pre && describe(pre);
    if (before && before !== now) lines.push(`      before the step: ${before.slice(before.indexOf(": ") + 2)}`);
  };
  for (const pfn of v.finding.pages ?? []) add((k) => describePage(k, pfn));
  for (const [vm, gfn] of v.finding.frames ?? []) add((k) => describeFrame(k, vm, gfn));
  return lines;
}

/** One line per step (a mismatch is marked), then each violation with the state it names. */
export function formatReplay(r: ReplayResult): string {
  const lines: string[] = [];
  replayLines(r, (l) => lines.push(l));
  return lines.join("\n");
}

/** The width of the widest step call, for aligning the returns; a loop, not a spread of a million arguments. */
export function callWidth(r: ReplayResult): number {
  let width = 0;
  for (const s of r.steps) width = Math.max(width, formatStep(s.step).length);
  return width;
}

/** formatReplay's lines one at a time: the header, one per step, the violations, the verdict. */
export function replayLines(r: ReplayResult, line: (l: string) => void): void {
  const width = callWidth(r);
  line(`${r.file}:`);
  for (const s of r.steps) line(stepLine(s, width));
  if (r.loop !== undefined) line(loopLine(r.loop, r.steps.length, r.loopCloses === true));
  violationLines(r, line);
  line(verdictLine(r));
}

/** A step's line of the listing, its call padded to `width`. */
export function stepLine(s: StepOutcome, width: number): string {
  const expected = s.expect === undefined ? "" : `  expected ${s.expect}`;
  const mark = s.match ? "" : "  <-- MISMATCH";
  return `  ${String(s.index).padStart(3)}  ${formatStep(s.step).padEnd(width)}  ${s.ret.padEnd(10)}${expected}${mark}`.trimEnd();
}

/** Each violation with the state it names. */
export function violationLines(r: ReplayResult, line: (l: string) => void): void {
  for (const v of r.violations) {
    const at = v.step < 0 ? "in the initial state" : `at step ${v.step}`;
    line(`  VIOLATION ${v.property} ${at}: ${v.finding.message}`);
    describeFinding(r, v).forEach(line);
  }
}

/** The listing's last line: `FILE: ok` or what failed. */
export function verdictLine(r: ReplayResult): string {
  let mismatches = 0;
  for (const s of r.steps) if (!s.match) mismatches++;
  return `${r.file}: ` + (r.ok
    ? "ok"
    : `FAILED (${plural(mismatches, "mismatched return")}, ${plural(r.violations.length, "property violated", "properties violated")})`);
}

/** A lasso's loop: which steps repeat, and whether they really return to where they started. */
function loopLine(loop: number, n: number, closes: boolean): string {
  const what = loop < n ? `steps ${loop}..${n - 1} repeat forever` : "the run stays in its last state forever (only calls that change nothing)";
  return closes ? `  loop: ${what}` : `  LOOP DOES NOT CLOSE: the state after step ${n - 1} is not the state before step ${loop}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
