// `pkvm-check report`: a trace as one self-contained HTML page (inline CSS and script, nothing
// fetched). A grid with one row per model state (the initial one, then one per step, with its
// action and return) and one column per page (MMIO too), guest frame, VM slot and the CPU; a cell is
// coloured by who owns the page and striped when it is shared. Cells a step changed are framed,
// the cells a violation names are highlighted in its row, and a cell shows its full state on
// hover (its title) and on click (the panel under the grid).

import { formatStep } from "../../model/actions.js";
import { GuestEntry, Owner, PageState, PkvmState, S2, VmLife } from "../../model/state.js";
import { describeFinding, describeFrame, describePage } from "../report-text.js";
import type { ReplayResult } from "../replay.js";
import type { World } from "../../model/world.js";
import { collect, type Emit } from "./sink.js";
import { asWalk, changes, fieldsOf, hostStage2, rowsOf, type Row, type StateWalk, type TraceStates } from "./view.js";
import { esc } from "./xml.js";

const HOST = "#4e79a7";
const HYP = "#b07aa1";
const NOBODY = "#d9d9d9";
/** One colour per VM slot, cycling. */
const GUESTS = ["#59a14f", "#f28e2b", "#76b7b2", "#9c755f", "#edc948", "#ff9da7"];
const guestColour = (vm: number) => GUESTS[vm % GUESTS.length];

interface Look {
  colour: string;
  label: string;
  classes: string[];
}


/** The VM whose stage-2 maps `pfn` as its own (OWNED or SHARED_OWNED), if any. */
function guestOwner(k: PkvmState, pfn: number): number | undefined {
  for (let v = 0; v < k.w.config.vms.length; v++) {
    for (let gfn = 0; gfn < k.w.config.vms[v].gfns; gfn++) {
      const st = k.guestState(v, gfn);
      if (k.guestPfn(v, gfn) === pfn && (st === PageState.OWNED || st === PageState.SHARED_OWNED)) return v;
    }
  }
  return undefined;
}

function pageLook(k: PkvmState, p: number): Look {
  if (!k.w.isMemory(p)) return { colour: "#f4f4f4", label: k.hostS2(p) === S2.IDMAP ? "io" : "", classes: ["mmio"] };
  const [host, hyp] = [k.hostState(p), k.hypState(p)];
  const owns = (st: PageState) => st === PageState.OWNED || st === PageState.SHARED_OWNED;
  const annotated = k.hostS2(p) === S2.ANNOTATION && k.annotationOwner(p) === Owner.GUEST ? k.annotationVm(p) : undefined;
  const guest = guestOwner(k, p) ?? annotated;
  const [colour, label] = owns(host)
    ? [HOST, "H"]
    : owns(hyp)
      ? [HYP, "Y"]
      : guest !== undefined
        ? [guestColour(guest), `G${guest}`]
        : [NOBODY, "-"];
  const shared =
    host === PageState.SHARED_OWNED || host === PageState.SHARED_BORROWED || hyp === PageState.SHARED_OWNED ||
    hyp === PageState.SHARED_BORROWED || k.hostShareGuestCount(p) > 0 || k.ffaShared(p);
  const classes = [shared ? "shared" : "", k.leaked(p) ? "leaked" : ""].filter(Boolean);
  return { colour, label: `${label}${k.refcount(p) > 0 ? `:${k.refcount(p)}` : ""}`, classes };
}

function frameLook(k: PkvmState, vm: number, gfn: number): Look {
  switch (k.guestEntry(vm, gfn)) {
    case GuestEntry.ABSENT:
      return { colour: "#ffffff", label: "", classes: [] };
    case GuestEntry.POISON:
      return { colour: "#222222", label: "X", classes: ["poison"] };
    case GuestEntry.MAPPED: {
      const st = k.guestState(vm, gfn);
      const colour = st === PageState.SHARED_BORROWED ? HOST : guestColour(vm);
      return { colour, label: String(k.guestPfn(vm, gfn)), classes: st === PageState.OWNED ? [] : ["shared"] };
    }
  }
}

function look(k: PkvmState, row: Row): Look {
  switch (row.kind) {
    case "page":
      return pageLook(k, row.pfn);
    case "frame":
      return frameLook(k, row.vm, row.gfn);
    case "vm": {
      const life = k.vmLife(row.vm);
      if (life === VmLife.ABSENT) return { colour: "#ffffff", label: "", classes: [] };
      return { colour: guestColour(row.vm), label: VmLife[life], classes: life === VmLife.DYING ? ["shared"] : [] };
    }
    case "cpu":
      return { colour: "#ffffff", label: k.loadedVm() < 0 ? "" : `${k.loadedVm()}.${k.loadedVcpu()}`, classes: [] };
  }
}

function describe(k: PkvmState, row: Row): string {
  switch (row.kind) {
    case "page":
      return k.w.isMemory(row.pfn) ? describePage(k, row.pfn) : `${describePage(k, row.pfn)}, host stage-2 ${hostStage2(k, row.pfn)}`;
    case "frame":
      return describeFrame(k, row.vm, row.gfn);
    default:
      return `${row.label}: ${fieldsOf(k, row).map(([f, v]) => `${f} ${v}`).join(", ")}`;
  }
}

/** The cells a violation names: its pages and frames. */
function named(r: ReplayResult, step: number): (row: Row) => boolean {
  const found = r.violations.filter((v) => v.step === step).map((v) => v.finding);
  return (row) =>
    found.some((f) =>
      row.kind === "page"
        ? (f.pages ?? []).includes(row.pfn)
        : row.kind === "frame" && (f.frames ?? []).some(([vm, gfn]) => vm === row.vm && gfn === row.gfn),
    );
}

/** Column groups: the pages, each VM's frames, the VM slots and the CPU. */
function header(rows: readonly Row[]): string {
  const groups: { name: string; n: number }[] = [];
  for (const row of rows) {
    const name = row.kind === "page" ? "pages" : row.kind === "frame" ? `vm ${row.vm} frames` : row.kind === "vm" ? "VM slots" : "cpu";
    if (groups.at(-1)?.name === name) groups[groups.length - 1].n++;
    else groups.push({ name, n: 1 });
  }
  const short = (row: Row) => (row.kind === "page" ? row.pfn : row.kind === "frame" ? row.gfn : row.kind === "vm" ? row.vm : "");
  return [
    `<tr><th colspan="3"></th>${groups.map((g) => `<th class="group" colspan="${g.n}">${esc(g.name)}</th>`).join("")}</tr>`,
    `<tr><th>step</th><th>action</th><th>ret</th>${rows.map((row) => `<th title="${esc(row.label)}">${short(row)}</th>`).join("")}</tr>`,
  ].join("\n");
}

/** The row of state i (after step i - 1), whose predecessor is `prev`. */
function gridRow(r: ReplayResult, world: World, rows: readonly Row[], i: number, state: Uint32Array, prev: Uint32Array | undefined): string {
  const k = new PkvmState(world, state);
  const step = i - 1;
  const s = r.steps[step];
  const changed = prev === undefined ? [] : changes(world, rows, prev, state);
  const isNamed = named(r, step);
  const violating = r.violations.some((v) => v.step === step);
  const cells = rows.map((row) => {
    const l = look(k, row);
    const mine = changed.filter((c) => c.row === row).map((c) => `${c.field}: ${c.before} -> ${c.after}`);
    const classes = [...l.classes, mine.length ? "changed" : "", violating && isNamed(row) ? "violation" : ""].filter(Boolean);
    const d = describe(k, row);
    const data = `title="${esc(d)}" data-d="${esc(d)}" data-c="${esc(mine.join("; "))}"`;
    return `<td class="${classes.join(" ")}" style="--c:${l.colour}" ${data}>${esc(l.label)}</td>`;
  });
  const action = s ? formatStep(s.step) : "initial state";
  const ret = s ? `${s.ret}${s.match ? "" : ` (expected ${s.expect})`}` : "";
  const rowClass = [violating ? "violating" : "", s && !s.match ? "mismatch" : ""].filter(Boolean).join(" ");
  const head = `<th>${i === 0 ? "init" : step}</th><td class="action">${esc(action)}</td><td class="ret">${esc(ret)}</td>`;
  return `<tr class="${rowClass}" data-step="${step}">${head}${cells.join("")}</tr>`;
}

/** A long trace shows this many of its last steps (and its initial state and every violating step). */
export const LAST_STEPS_SHOWN = 1000;

/** The states a report shows: all of a short trace; of a long one the initial state, each violating step's and the last ones. */
export function shownStates(r: ReplayResult): (i: number) => boolean {
  const n = r.steps.length;
  if (n <= LAST_STEPS_SHOWN) return () => true;
  const violating = new Set(r.violations.map((v) => v.step + 1));
  return (i) => i === 0 || i > n - LAST_STEPS_SHOWN || violating.has(i);
}

function summary(r: ReplayResult): string {
  const verdict = r.ok ? "ok: every expected return matches, no property violated" : "FAILED";
  const violations = r.violations.map((v) => {
    const at = v.step < 0 ? "in the initial state" : `at step ${v.step}`;
    const state = describeFinding(r, v).map((l) => `<li>${esc(l.trim())}</li>`).join("");
    return `<div class="finding"><b>VIOLATION ${esc(v.property)}</b> ${at}: ${esc(v.finding.message)}<ul>${state}</ul></div>`;
  });
  const shown =
    r.steps.length > LAST_STEPS_SHOWN
      ? `\n<p class="shown">A long trace: shown are the initial state, the state after each violating step and after the last ${LAST_STEPS_SHOWN} steps; a row "not shown" stands for the steps between.</p>`
      : "";
  return `<p class="verdict">${esc(r.file)}: ${r.steps.length} steps, ${esc(verdict)}</p>${shown}\n${violations.join("\n")}`;
}

const LEGEND: [string, string, string][] = [
  [HOST, "", "host owns"],
  [HYP, "", "hyp owns"],
  [GUESTS[0], "", "a guest owns (one colour per VM slot)"],
  [HOST, "shared", "striped: shared (with hyp, a guest or FF-A), or a frame borrowed"],
  [NOBODY, "", "nobody (in transit, or hyp/guest pages not yet assigned)"],
  ["#222222", "poison", "poisoned guest frame; a struck-through label: a leaked page"],
];

const CSS = `
body { font: 13px system-ui, sans-serif; margin: 1em; color: #222; }
h1 { font-size: 16px; }
#grid { border-collapse: collapse; }
#grid th, #grid td { border: 1px solid #bbb; padding: 2px 4px; text-align: center; white-space: nowrap; }
#grid td[data-d] { background: var(--c); min-width: 2.2em; cursor: pointer; color: #111; }
#grid td.shared { background: repeating-linear-gradient(135deg, var(--c) 0 4px, #fff 4px 7px); }
#grid td.poison { color: #fff; }
#grid td.leaked { text-decoration: line-through; }
#grid td.changed { box-shadow: inset 0 0 0 2px #000; font-weight: bold; }
#grid td.selected { outline: 2px dashed #000; }
#grid td.violation { outline: 3px solid #e00; outline-offset: -3px; box-shadow: 0 0 6px 2px #e00; }
#grid td.action { text-align: left; font-family: monospace; }
#grid th.group { background: #eee; }
#grid tr.violating > th, #grid tr.violating > td.action, #grid tr.violating > td.ret { background: #fdd; color: #a00; font-weight: bold; }
#grid tr.mismatch > td.ret { color: #a00; font-weight: bold; }
#grid thead th { position: sticky; top: 0; background: #f7f7f7; }
.legend span.swatch { display: inline-block; width: 1.4em; height: 1em; vertical-align: middle; border: 1px solid #888;
  background: var(--c); margin: 0 .3em 0 1em; }
.legend span.shared { background: repeating-linear-gradient(135deg, var(--c) 0 4px, #fff 4px 7px); }
.finding { color: #a00; margin: .5em 0; }
.finding ul { color: #222; font-family: monospace; }
#detail { position: sticky; bottom: 0; background: #fffbe6; border: 1px solid #cc9; padding: .5em; margin-top: 1em;
  font-family: monospace; white-space: pre-wrap; min-height: 3em; }
`;

const SCRIPT = `
const detail = document.getElementById("detail");
document.getElementById("grid").addEventListener("click", (e) => {
  const td = e.target.closest("td[data-d]");
  if (!td) return;
  document.querySelectorAll("#grid td.selected").forEach((c) => c.classList.remove("selected"));
  td.classList.add("selected");
  const tr = td.parentElement;
  const step = tr.dataset.step === "-1" ? "the initial state" : "step " + tr.dataset.step + " " + tr.querySelector("td.action").textContent;
  detail.textContent = td.dataset.d + "\\nafter " + step + (td.dataset.c ? "\\nchanged: " + td.dataset.c : "");
});
`;

export function htmlReport(r: ReplayResult, states: TraceStates | StateWalk, configName: string): string {
  return collect((emit) => emitHtmlReport(r, asWalk(states), configName, emit));
}

/** htmlReport's page a row at a time, the trace's states walked, never kept. */
export function emitHtmlReport(r: ReplayResult, states: StateWalk, configName: string, emit: Emit): void {
  const world = states.world;
  const rows = rowsOf(world);
  const legend = LEGEND.map(([c, cls, text]) => `<span class="swatch ${cls}" style="--c:${c}"></span>${esc(text)}`).join("");
  emit(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pkvm-check: ${esc(r.file)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>pkvm-check trace report: ${esc(r.file)}</h1>
<p>config ${esc(configName)}: <code>${esc(JSON.stringify(world.config))}</code></p>
${summary(r)}
<p class="legend">${legend}<span class="swatch" style="--c:#fff;box-shadow:inset 0 0 0 2px #000"></span>framed: changed by the step
<span class="swatch" style="--c:#fff;outline:3px solid #e00"></span>named by the violation.
Page labels: owner, then :refcount when pinned; frame labels: the pfn mapped. Hover or click a cell for its full state.</p>
<table id="grid">
<thead>
${header(rows)}
</thead>
<tbody>
`);
  const shown = shownStates(r);
  let hidden = 0;
  states.walk((i, state, prev) => {
    if (!shown(i)) {
      hidden++;
      return;
    }
    if (hidden > 0) emit(`<tr class="gap"><th></th><td class="action" colspan="${rows.length + 2}">${hidden} steps not shown (${i - 1 - hidden} to ${i - 2})</td></tr>\n`);
    hidden = 0;
    emit(`${gridRow(r, world, rows, i, state, prev)}\n`);
  });
  emit(`</tbody>
</table>
<div id="detail">Click a cell for its full state.</div>
<script>${SCRIPT}</script>
</body>
</html>
`);
}
