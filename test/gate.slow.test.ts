// The gate itself, `pkvm-check check` with no flags, as CI runs it, with every report it can
// write: its verdict (exit 0: the headline properties proved for every memory size, the corpus
// as it should be), its JSON against the schema, its SARIF clean under the Multitool's default
// rules and GitHub's, its JUnit read back by an independent XML parser. Minutes of work: `npm
// run test:slow`.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../model/actions.js";
import { checkJsonErrors } from "./check-json-schema.js";
import { expectValidSarif } from "./sarif-validators.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUILD = join(ROOT, "node_modules/.cache/pkvm-check-gate");
const TMP = mkdtempSync(join(tmpdir(), "pkvm-gate-"));

let gate: { code: number | null; stdout: string; stderr: string };

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", BUILD], { encoding: "utf8" });
  expect(build.status, build.stdout + build.stderr).toBe(0);
}, 300_000);

describe("the gate", () => {
  beforeAll(() => {
    const args = ["check", "--json", "--progress", "--out", join(TMP, "out"), "--sarif", join(TMP, "gate.sarif"), "--junit", join(TMP, "gate.xml")];
    const r = spawnSync(process.execPath, [join(BUILD, "src/cli.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 1_500_000 });
    gate = { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }, 1_600_000);

  it("passes: every obligation of the headline proofs proved", () => {
    expect(gate.code, gate.stderr).toBe(0);
    const doc = JSON.parse(gate.stdout);
    expect(checkJsonErrors(doc)).toEqual([]);
    expect(doc.ok).toBe(true);
    const smt = doc.reports.find((r: { engine: string }) => r.engine === "smt");
    expect(smt.verdicts.map((v: { property: string; status: string }) => [v.property, v.status])).toEqual([
      ["guest-cannot-access-host", "pass"],
      ["host-cannot-access-guest", "pass"],
    ]);
    const obligations: { transition: string; goal: string; verdict: string }[] = smt.obligations;
    expect(obligations.filter((o) => o.verdict !== "proved")).toEqual([]);
    // The two are corollaries, and the invariant is proved over every transition of the alphabet.
    expect(obligations.filter((o) => o.transition === "every state").map((o) => o.goal).sort()).toEqual(["guest-cannot-access-host", "host-cannot-access-guest"]);
    const transitions = new Set(obligations.map((o) => o.transition.replace(/\(vm=0\)$/, "")));
    for (const a of ACTIONS.filter((a) => a.caller !== "internal" && !a.memcacheOnly)) expect(transitions, a.name).toContain(a.name);
    // The claim, stated: what closed each obligation adds up, and the actions left out say why.
    const o = smt.scope.obligations;
    expect(o.z3 + o.frameRule + o.constantFolding).toBe(obligations.length);
    expect(smt.scope.properties.proved.sort()).toEqual(["guest-cannot-access-host", "host-cannot-access-guest"]);
    expect(smt.scope.actions.excluded.map((e: { action: string }) => e.action).sort()).toEqual(["host_topup_memcache", "hyp_donate_host"]);
  });

  it("says how far the proofs are while they run", () => {
    expect(gate.stderr).toMatch(/^smt: \d+\/661 obligations, proving \S+ over \S+/m);
  });

  it("writes SARIF that GitHub code scanning accepts", () => {
    expectValidSarif(JSON.parse(readFileSync(join(TMP, "gate.sarif"), "utf8")), "gate");
  });

  it("writes JUnit an independent parser reads: no failure, no error, times in seconds", () => {
    const xml = readFileSync(join(TMP, "gate.xml"), "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    const root = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml).testsuites;
    expect(root).toMatchObject({ failures: "0", errors: "0" });
    expect(Number(root.time)).toBeGreaterThan(0);
  });
});
