// The built `pkvm-check` binary, as a user or CI job runs it: exit codes, stdout, stderr.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../model/actions.js";
import { PROPERTIES, TEMPORAL_PROPERTIES } from "../properties/registry.js";
import { BUILTIN_CONFIGS } from "../src/configs.js";
import { checkJsonErrors } from "./check-json-schema.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist/src/cli.js");
const FIXTURES = join(ROOT, "test/fixtures");

/** Runs the CLI in test/fixtures, so that messages name the fixtures as given. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: FIXTURES, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 with exactly one line on stderr, and nothing on stdout. */
function expectInputError(r: ReturnType<typeof cli>, message: string) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(`pkvm-check: ${message}\n`);
}

beforeAll(() => {
  const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
  expect(build.stdout + build.stderr).not.toMatch(/error TS/);
  expect(build.status).toBe(0);
  expect(existsSync(CLI)).toBe(true);
}, 120_000);

describe("pkvm-check replay", () => {
  it("exits 0 on a trace whose expects all hold", () => {
    const r = cli("replay", "pass.json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("4  host_donate_guest(vm=0, pfn=3, gfn=1)  0");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("pass.json: ok");
  });

  it("exits 1 on a wrong expect, marking the step", () => {
    const r = cli("replay", "pass.json", "mismatch.json");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/1  host_donate_hyp\(pfn=1, nr_pages=1\)\s+-EPERM\s+expected 0\s+<-- MISMATCH/);
    expect(r.stdout).toContain("pass.json: ok");
    expect(r.stdout).toContain("mismatch.json: FAILED");
  });

  it("exits 2 on a malformed trace, naming the file and the field", () => {
    expectInputError(cli("replay", "pass.json", "bad-arg.json"), "bad-arg.json: steps[1].args.pfn: expected a non-negative integer up to 2^53 - 1");
  });

  it("exits 2 on invalid JSON", () => {
    const f = join(mkdtempSync(join(tmpdir(), "pkvm-cli-")), "t.json");
    writeFileSync(f, "{ not json");
    const r = cli("replay", f);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^pkvm-check: ${f}: invalid JSON: [^\n]*\n$`));
  });

  it("exits 2 on a missing file", () => {
    expectInputError(cli("replay", "no-such-trace.json"), "no-such-trace.json: cannot read: ENOENT");
  });

  it("exits 2 on an unknown flag, an unknown command or no trace, with one line and no help", () => {
    expectInputError(cli("replay", "pass.json", "--jsn"), "Unknown argument: jsn");
    expectInputError(cli("frobnicate"), "Unknown argument: frobnicate");
    expectInputError(cli("replay"), "Not enough non-option arguments: got 0, need at least 1");
    expectInputError(cli(), "expected a command (see --help)");
  });

  it("prints one JSON document with --json, in the shape of interface.md", () => {
    const r = cli("replay", "--json", "pass.json", "mismatch.json");
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(["traces"]);
    expect(doc.traces.map((t: { file: string; ok: boolean }) => [t.file, t.ok])).toEqual([
      ["pass.json", true],
      ["mismatch.json", false],
    ]);
    expect(doc.traces[0].steps[1]).toEqual({ index: 1, action: "init_vm", args: { vm: 0, pfn: 1 }, ret: "0", expect: "0", match: true });
    expect(doc.traces[0].steps[12]).toMatchObject({ action: "host_reclaim_page_guest", expect: null, match: true });
    expect(doc.traces[1].steps[1]).toMatchObject({ ret: "-EPERM", expect: "0", match: false });
    expect(doc.traces[1].violations).toEqual([]);
  });
});

describe("check --json", () => {
  it("prints what schemas/check-report.schema.json describes, its verdict the exit code's", () => {
    const out = mkdtempSync(join(tmpdir(), "pkvm-json-"));
    const r = cli("check", "--config", "tiny", "--engine", "bfs,random", "--runs", "20", "--keep-going", "--json", "--out", out);
    const doc = JSON.parse(r.stdout);
    expect(checkJsonErrors(doc)).toEqual([]);
    expect(doc.reports.map((x: { engine: string }) => x.engine)).toEqual(["bfs", "random", "corpus"]);
    expect([r.code, doc.ok]).toEqual([0, true]);
  });
});

describe("pkvm-check list", () => {
  it("shows every built-in config, action and property", () => {
    const r = cli("list");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    const row = (name: string, doc: string) => lines.some((l) => l.startsWith(`  ${name} `) && l.endsWith(`  ${doc}`));
    for (const c of BUILTIN_CONFIGS) expect(row(c.name, c.description), c.name).toBe(true);
    for (const a of ACTIONS) expect(row(`${a.name}(${a.args.join(", ")})`, a.doc), a.name).toBe(true);
    for (const p of PROPERTIES) expect(row(p.id, p.description), p.id).toBe(true);
    for (const p of TEMPORAL_PROPERTIES) expect(row(p.id, `[temporal: ${p.kind}, exhaustive search only]  ${p.description}`), p.id).toBe(true);
  });

  it("with --config, shows that config in full and only the actions it allows", () => {
    const r = cli("list", "--config", "tiny");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('{"pages":4,');
    expect(r.stdout).not.toContain("host_topup_memcache");
    expect(cli("list", "--config", "wide").stdout).toContain("host_topup_memcache(vm, vcpu, pfn)");
  });

  it("exits 2 on a config that is neither built in nor a file", () => {
    expectInputError(cli("list", "--config", "huge"), `huge: neither a built-in config (${BUILTIN_CONFIGS.map((c) => c.name).join(", ")}) nor a file`);
  });

  it("with --coverage, shows the branches the exhaustive search never takes", () => {
    const r = cli("list", "--config", "tiny", "--coverage");
    expect(r.code).toBe(0);
    const report = r.stdout.slice(r.stdout.indexOf("Dead branches"));
    expect(report).toMatch(/\n {2}tiny \(complete, 23,237 states\): \d+ actions\n/);
    expect(report).toMatch(/\n {4}hyp_unpin_shared_mem +PANIC\n/); // the hyp unpins only what it pinned
    expect(report).toMatch(/\n {4}host_share_guest +-ENOMEM\n/); // no memcache in tiny
    expect(report).not.toMatch(/host_read/);
    expectInputError(cli("list", "--coverage", "--time-limit", "-1"), "--time-limit: expected a positive number of seconds, got -1");
  }, 120_000);
});
