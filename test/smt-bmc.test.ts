// Bounded model checking against the exhaustive search: on tiny, for each depth K, the
// properties BMC finds violated within K steps are those BFS finds within K steps, at the same
// depths, and every BMC trace replays on the reference engine to the same violation.

import { describe, expect, it } from "vitest";
import { World } from "../model/world.js";
import { PROPERTIES } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { bmc } from "../src/smt/bmc.js";

describe("BMC agrees with the exhaustive search", () => {
  const w = new World(resolveConfig("tiny").config);
  for (const K of [0, 1, 2]) {
    it(`on tiny within ${K} steps`, async () => {
      const r = await bmc(w, K);
      const b = bfs(new Engine(w), alphabet(w), { properties: PROPERTIES, maxDepth: K, keepGoing: true });
      const bmcFound = r.violations.map((v) => `${v.property}@${v.depth}`).sort();
      const bfsFound = b.violations.map((v) => `${v.property}@${v.path.length}`).sort();
      expect(r.unknown).toEqual([]);
      expect(bmcFound).toEqual(bfsFound);
      for (const v of r.violations) expect(v.replayed, v.property).not.toBeNull();
    }, 120_000);
  }
});
