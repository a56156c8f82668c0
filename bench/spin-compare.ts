// SPIN against pkvm-check's exhaustive search on one world both explore: the host <-> hyp, FF-A
// and host-access world of bench/quint (no VMs). The Promela model is generated from our alphabet
// (bench/peers/promela.ts); both searches are breadth-first, plain (no symmetry, no partial-order
// reduction) and check no property, so the work is the same: the distinct-state counts must be
// equal before anything is compared. Prints states/s and bytes/state of each, and the ratios.
// Installs nothing: it says how to get spin and gcc when they are missing.
// Run: npm run bench:spin

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseWorldConfig } from "../model/config.js";
import { World } from "../model/world.js";
import { alphabet } from "../src/alphabet.js";
import { Engine } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { PORTED, promelaHostHyp } from "./peers/promela.js";

/** The world of bench/quint/pkvm_small.qnt: pfn 3 MMIO, pfn 6 NOMAP, pfn 0 hyp-owned at boot. */
const CONFIG = { pages: 8, mmio: [[3, 4]], nomap: [6], hypPages: [0], blockPages: 2 };
const PAN_FLAGS = ["-O2", "-DSAFETY", "-DNOREDUCE", "-DBFS"];

function missing(tool: string): boolean {
  return spawnSync("which", [tool]).status !== 0;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function number(out: string, re: RegExp, what: string): number {
  const m = re.exec(out);
  if (!m) throw new Error(`pan's output has no ${what}:\n${out}`);
  return Number(m[1]);
}

const absent = ["spin", "gcc"].filter(missing);
if (absent.length > 0) {
  console.log(`bench:spin needs ${absent.join(" and ")} on the PATH; nothing was installed.`);
  console.log("  Debian/Ubuntu: sudo apt-get install spin gcc   (spin: https://spinroot.com, or github.com/nimble-code/Spin)");
  process.exit(1);
}

const world = new World(parseWorldConfig(CONFIG, "spin-compare"));
const steps = alphabet(world);
const dir = mkdtempSync(join(tmpdir(), "pkvm-spin-"));
try {
  writeFileSync(join(dir, "pkvm.pml"), promelaHostHyp(world, steps));
  run("spin", ["-a", "pkvm.pml"], dir);
  run("gcc", [...PAN_FLAGS, "-o", "pan", "pan.c"], dir);
  const t0 = process.hrtime.bigint();
  const pan = run("./pan", ["-m1000000", "-w24"], dir);
  const spinSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const spinStates = number(pan, /([\d.e+]+) states, stored/, "states, stored");
  const spinStateMb = number(pan, /([\d.]+)\s+equivalent memory usage for states/, "memory for states");
  const spinTotalMb = number(pan, /([\d.]+)\s+total actual memory usage/, "total memory");

  const ours = bfs(new Engine(world), steps, { properties: [] });
  const oursSeconds = ours.elapsedMs / 1000;
  const oursBytes = ours.bytesPerState.visited + ours.bytesPerState.links;

  const row = (name: string, states: number, s: number, bytes: string) =>
    `${name.padEnd(12)} ${String(states).padStart(9)} states  ${(states / s).toFixed(0).padStart(9)} states/s  ${bytes}`;
  console.log(`world: ${JSON.stringify(CONFIG)}; actions: ${PORTED.join(", ")}; pan ${PAN_FLAGS.join(" ")}`);
  console.log(row("spin", spinStates, spinSeconds, `${((spinStateMb * 2 ** 20) / spinStates).toFixed(1)} bytes/state (states only; ${spinTotalMb} MB total)`));
  console.log(row("pkvm-check", ours.states, oursSeconds, `${oursBytes.toFixed(1)} bytes/state (visited set + parent links)`));
  if (spinStates !== ours.states) {
    console.log(`DIFFERENT STATE COUNTS: the port is not the same system (spin ${spinStates}, pkvm-check ${ours.states})`);
    process.exit(1);
  }
  console.log(
    `ratio spin/pkvm-check: ${((spinStates / spinSeconds) / (ours.states / oursSeconds)).toFixed(2)}x states/s, ` +
      `${((spinStateMb * 2 ** 20) / spinStates / oursBytes).toFixed(2)}x bytes/state (wall times include pan's start; one run each, shared machine)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
