// `pkvm-check list --coverage`: per world, the branches (returns) of each action that its
// exhaustive search never takes, as TLC's coverage report shows actions never enabled. A dead
// branch is a behaviour the world is too small for (a block share with no two free aligned
// pages), or one the adversary's alphabet cannot reach (a pin past the hyp's bound): either way,
// no property is checked on it there. Computed on demand: one search per world, no cache.

import { World } from "../../model/world.js";
import type { NamedConfig } from "../configs.js";
import { deadBranches, exhaustiveBranches } from "../explore/branches.js";

/** The report's lines for each world, each search cut at `timeLimitMs`. */
export function deadBranchLines(worlds: readonly NamedConfig[], timeLimitMs: number): string[] {
  const lines = [
    "Dead branches: returns each action can give that the exhaustive search of the world never took",
    "(the hyp's own actions under its discipline, hyp_donate_host left out as without --allow-internal):",
  ];
  for (const named of worlds) {
    const w = new World(named.config);
    const r = exhaustiveBranches(w, { timeLimitMs });
    const dead = deadBranches(w, r.reached);
    const complete = r.stop === "complete";
    const how = complete
      ? `complete, ${r.states.toLocaleString("en-US")} states`
      : `INCOMPLETE: stopped by the ${r.stop} after ${r.states.toLocaleString("en-US")} states, so these are only not taken yet`;
    lines.push(`  ${named.name} (${how}): ${dead.length === 0 ? "none" : `${dead.length} actions`}`);
    const width = Math.max(0, ...dead.map((d) => d.action.length));
    for (const d of dead) lines.push(`    ${d.action.padEnd(width)}  ${d.dead.join(", ")}`);
  }
  return lines;
}
