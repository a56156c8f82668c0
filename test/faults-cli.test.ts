// `--fault NAME` on check and replay, and `pkvm-check faults`, as a user runs them: exit codes,
// meta.fault in what is written, and an unknown fault as an input error (exit 2, nothing
// written). The CLI is built into a directory of its own, so as not to race other suites' builds.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUILD = join(ROOT, "node_modules/.cache/pkvm-check-faults");
const CLI = join(BUILD, "src/cli.js");
const B1 = "B1-unshare-hyp-no-hyp-check";
const BASELINE = ["--baseline", join(ROOT, "findings/known-findings.json")];

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", BUILD], { encoding: "utf8" });
  expect(build.status, build.stdout + build.stderr).toBe(0);
}, 120_000);

/** Runs the CLI in a fresh directory. */
function cli(...args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), "pkvm-faults-"));
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, cwd };
}

/** B1 in two steps: the host shares a page with FF-A, then unshares it as if shared with hyp. */
function b1Trace(meta?: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), "pkvm-faults-")), "b1.json");
  const steps = [
    { action: "host_share_ffa", args: { pfn: 1, nr_pages: 1 } },
    { action: "host_unshare_hyp", args: { pfn: 1 } },
  ];
  writeFileSync(file, JSON.stringify({ format: "pkvm-trace/1", config: "default", steps, ...(meta ? { meta } : {}) }));
  return file;
}

const UNKNOWN = 'pkvm-check: --fault: unknown fault "no-such-fault" (pkvm-check faults --list names them)\n';

describe("replay --fault", () => {
  it("replays on the real model without it, under the fault with it", () => {
    const trace = b1Trace();
    const real = cli("replay", trace);
    expect(real.code).toBe(0);
    const faulty = cli("replay", "--json", "--fault", B1, trace);
    expect(faulty.code).toBe(1);
    const [t] = JSON.parse(faulty.stdout).traces;
    expect(t.steps.map((s: { ret: string }) => s.ret)).toEqual(["0", "0"]);
    expect(t.violations.map((v: { property: string }) => v.property)).toContain("share-consistency");
  });

  it("replays a trace under the fault its meta.fault records, as report and export do", () => {
    const trace = b1Trace({ fault: B1 });
    const r = cli("replay", "--json", trace);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).traces[0].violations.map((v: { property: string }) => v.property)).toContain("share-consistency");
    const html = cli("report", trace, "-o", join(tmpdir(), `b1-${process.pid}.html`));
    expect([html.code, html.stdout]).toEqual([1, expect.stringContaining("violates share-consistency")]);
    const itf = cli("export", "--itf", trace, "-o", join(tmpdir(), `b1-${process.pid}.itf.json`));
    expect([itf.code, itf.stdout]).toEqual([1, expect.stringContaining("violates share-consistency")]);
  });

  it("exits 2 on a trace whose meta.fault names no seeded fault, naming the file and field", () => {
    const trace = b1Trace({ fault: "no-such-fault" });
    const r = cli("replay", trace);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, "", `pkvm-check: ${trace}: meta.fault: unknown seeded fault "no-such-fault" (pkvm-check faults --list names them)\n`]);
  });

  it("exits 2 on an unknown fault, naming --fault", () => {
    const r = cli("replay", "--fault", "no-such-fault", b1Trace());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(UNKNOWN);
  });
});

describe("check --fault", () => {
  it("finds the fault and writes a counterexample whose meta names it, into a temporary directory, not the corpus", () => {
    const r = cli("check", "--fault", B1, "--engine", "bfs", "--json", ...BASELINE);
    expect(r.code).toBe(1);
    expect(existsSync(join(r.cwd, "counterexamples"))).toBe(false);
    const files = JSON.parse(r.stdout).reports[0].verdicts.filter((v: { counterexample?: string }) => v.counterexample).map((v: { counterexample: string }) => v.counterexample);
    expect(files).toHaveLength(1);
    expect(files[0].startsWith(join(tmpdir(), `pkvm-check-${B1}-`))).toBe(true);
    const trace = JSON.parse(readFileSync(files[0], "utf8"));
    expect(trace.meta).toMatchObject({ engine: "bfs", fault: B1 });
    expect(trace.violation.property).toBe("share-consistency");
  });

  it("exits 2 when the smt engine is asked for a fault that has no SMT twin", () => {
    const r = cli("check", "--fault", "B7-guest-map-enomem-late", "--engine", "smt");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("pkvm-check: --fault: B7-guest-map-enomem-late has no SMT twin: the SMT encoding has no vCPU memcache (it proves configs with memcache: false)\n");
  });

  it("exits 2 on an unknown fault and writes nothing", () => {
    const r = cli("check", "--fault", "no-such-fault", "--engine", "bfs");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(UNKNOWN);
    expect(existsSync(join(r.cwd, "counterexamples"))).toBe(false);
  });
});

describe("pkvm-check faults", () => {
  it("prints the kill matrix as JSON and keeps the fault's regression trace", () => {
    const r = cli("faults", "--json", "--fault", B1, ...BASELINE);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    const [f] = out.faults;
    expect(f.name).toBe(B1);
    expect(f.kills.bfs).toMatchObject({ caught: true, property: "share-consistency", steps: 2 });
    expect(f.kills.smt).toMatchObject({ caught: true, transition: "host_unshare_hyp" });
    expect(f.kills.smt.cti.replay.violation).not.toBeNull();
    const kept = JSON.parse(readFileSync(join(r.cwd, f.counterexample), "utf8"));
    expect(kept.meta.fault).toBe(B1);
  });

  it("exits 2 on an unknown fault", () => {
    const r = cli("faults", "--fault", "no-such-fault");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(UNKNOWN);
  });
});
