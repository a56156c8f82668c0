// Exit codes of every command, path by path (interface.md): 0 all good; 1 a violation or a
// return that differs from its expect; 2 bad input or usage, with one line on stderr naming the
// file and the field, and nothing written under --out; 3 the checker failed. No path a user can
// reach exits 3: every failure a user causes is an input error, and the rest are bugs.
//
// The CLI is built by tsc with the project's tsconfig, into a directory of its own so that it
// never races cli.test.ts rebuilding dist/, and run as a user runs it, each case in an empty
// working directory.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUILD = join(ROOT, "node_modules/.cache/pkvm-check-exit-codes");
const CLI = join(BUILD, "src/cli.js");
const FIXTURES = join(ROOT, "test/fixtures");
const PASS = join(FIXTURES, "pass.json");
const MISMATCH = join(FIXTURES, "mismatch.json");
const BAD_ARG = join(FIXTURES, "bad-arg.json");
const FINDING = join(ROOT, "findings/force-reclaim-stale-annotation-panic.json");
const KNOWN = join(ROOT, "findings/known-findings.json");
/** A baseline that knows nothing: every finding is new. */
const NO_BASELINE = "no-baseline.json";

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", BUILD], { encoding: "utf8" });
  expect(build.stdout + build.stderr).toBe("");
  expect(build.status).toBe(0);
}, 120_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  cwd: string;
  /** Every file under the working directory after the run, relative to it. */
  files: string[];
}

function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/** Runs the CLI in a fresh directory, after `setup` has put files there. */
function cli(args: string[], setup: (cwd: string) => void = () => {}): Run {
  const cwd = mkdtempSync(join(tmpdir(), "pkvm-exit-"));
  setup(cwd);
  const before = new Set(listFiles(cwd));
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, cwd, files: listFiles(cwd).filter((f) => !before.has(f)) };
}

/** Exit 2: one line on stderr, nothing on stdout, nothing written. */
function expectInputError(r: Run, message: string | RegExp) {
  expect(r.stdout).toBe("");
  expect(r.stderr.split("\n")).toHaveLength(2);
  expect(r.stderr).toMatch(typeof message === "string" ? `pkvm-check: ${message}\n` : message);
  expect(r.files).toEqual([]);
  expect(r.code).toBe(2);
}

const aFile = (name: string) => (cwd: string) => writeFileSync(join(cwd, name), "x");
const tiny = ["check", "--config", "tiny", "--engine", "bfs"];

describe("exit 2: bad input or usage, one line naming the file and the field, nothing written", { timeout: 30_000 }, () => {
  it.each<[string, string[], string | RegExp, ((cwd: string) => void)?]>([
    ["replay: a malformed trace", ["replay", PASS, BAD_ARG], `${BAD_ARG}: steps[1].args.pfn: expected a non-negative integer up to 2^53 - 1`],
    ["replay: a missing file", ["replay", "nope.json"], "nope.json: cannot read: ENOENT"],
    ["replay: invalid JSON", ["replay", "t.json"], /^pkvm-check: t\.json: invalid JSON: /, aFile("t.json")],
    ["replay: no trace", ["replay"], "Not enough non-option arguments: got 0, need at least 1"],
    ["replay: an unknown flag", ["replay", PASS, "--jsn"], "Unknown argument: jsn"],
    ["replay --watch: not a page", ["replay", PASS, "--watch", "x"], '--watch: expected PFN or VM:GFN, got "x"'],
    ["replay --watch: past the config", ["replay", PASS, "--watch", "9"], `${PASS}: --watch 9: pfn 9 is not a RAM page of the config (it has 6 pages)`],
    ["replay --watch: no such VM", ["replay", PASS, "--watch", "7:0"], `${PASS}: --watch 7:0: 7 is not a VM slot of the config (it has 2)`],
    ["replay --diff with --json", ["replay", PASS, "--diff", "--json"], "--diff and --watch are text views: not with --json"],
    ["check --max-states abc", [...tiny, "--max-states", "abc"], "--max-states: expected a positive integer, got NaN"],
    ["check --max-states 0", [...tiny, "--max-states", "0"], "--max-states: expected a positive integer, got 0"],
    ["check --engine nope", ["check", "--engine", "nope"], '--engine: unknown engine "nope" (known: bfs, random, smt)'],
    ["check --seed x", ["check", "--engine", "random", "--seed", "x"], '--seed: expected a 32-bit integer (-2147483648 .. 4294967295) or "random", got "x"'],
    ["check --baseline: a missing file", [...tiny, "--baseline", "nope.json"], "nope.json: cannot read: no such known-findings baseline"],
    ["check: a project file with an unknown key", tiny, /^pkvm-check: .*pkvm-check\.json: corpos: unknown key \(known: baseline, corpus\)\n$/, (cwd) => writeFileSync(join(cwd, "pkvm-check.json"), '{"corpos": "x"}')],
    ["check: a project file's baseline missing", tiny, /^pkvm-check: .*findings\/known-findings\.json: cannot read: no such known-findings baseline\n$/, (cwd) => writeFileSync(join(cwd, "pkvm-check.json"), '{"baseline": "findings/known-findings.json"}')],
    ["check --shard 3/2", ["check", "--engine", "random", "--shard", "3/2"], '--shard: expected I/N with 0 <= I < N, got "3/2"'],
    ["check --config nope", ["check", "--config", "nope"], "nope: neither a built-in config (tiny, default, reuse, wide) nor a file"],
    ["check --property nope", [...tiny, "--property", "nope"], /^pkvm-check: property "nope": unknown \(known: /],
    ["check --baseline: invalid JSON", [...tiny, "--baseline", "b.json"], /^pkvm-check: b\.json: invalid JSON: /, aFile("b.json")],
    ["check --out: a file", [...tiny, "--out", "f"], "--out f: not a directory", aFile("f")],
    ["check --junit: no such directory", [...tiny, "--junit", "no/j.xml"], "--junit no/j.xml: no such directory no"],
    ["check --sarif: no such directory", [...tiny, "--sarif", "no/r.sarif"], "--sarif no/r.sarif: no such directory no"],
    ["check --html: a file", [...tiny, "--html", "f"], "--html f: not a directory", aFile("f")],
    ["check: an unknown flag", ["check", "--frobnicate"], "Unknown argument: frobnicate"],
    ["list --config huge", ["list", "--config", "huge"], "huge: neither a built-in config (tiny, default, reuse, wide) nor a file"],
    ["export: no format", ["export", PASS], "export: choose a format: --itf"],
    ["export: a malformed trace", ["export", BAD_ARG, "--itf"], `${BAD_ARG}: steps[1].args.pfn: expected a non-negative integer up to 2^53 - 1`],
    ["export -o: no such directory", ["export", PASS, "--itf", "-o", "no/t.itf.json"], "-o no/t.itf.json: no such directory no"],
    ["report: a missing file", ["report", "nope.json", "-o", "r.html"], "nope.json: cannot read: ENOENT"],
    ["report -o: a directory", ["report", PASS, "-o", "d"], "-o d: is a directory", (cwd) => mkdirSync(join(cwd, "d"))],
    ["an unknown command", ["frobnicate"], "Unknown argument: frobnicate"],
    ["no command", [], "expected a command (see --help)"],
  ])("%s", (_, args, message, setup) => {
    expectInputError(cli(args, setup), message);
  });
});

describe("exit 0 and 1", { timeout: 60_000 }, () => {
  it("replay: 0 when every expect holds, 1 on a mismatch, 1 on a violation", () => {
    expect(cli(["replay", PASS]).code).toBe(0);
    expect(cli(["replay", PASS, "--diff", "--watch", "3", "--watch", "0:1"]).code).toBe(0);
    const mismatch = cli(["replay", MISMATCH]);
    expect([mismatch.code, mismatch.stdout]).toEqual([1, expect.stringContaining("<-- MISMATCH")]);
    const violation = cli(["replay", FINDING, "--diff"]);
    expect([violation.code, violation.stdout]).toEqual([1, expect.stringContaining("VIOLATION no-hyp-panic")]);
  });

  it("check: 0 when the only violation is a known finding, with nothing written", () => {
    const r = cli([...tiny, "--baseline", KNOWN]);
    expect(r.stdout).toMatch(/no-hyp-panic +known finding test-clear-young-erange-panic/);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("check: ok");
    expect([r.code, r.files]).toEqual([0, []]);
  });

  it("check: 1 on a new violation, and --itf, --html, --sarif write their files", () => {
    const r = cli([...tiny, "--baseline", NO_BASELINE, "--itf", "--html", "html", "--sarif", "check.sarif"], (cwd) => writeFileSync(join(cwd, NO_BASELINE), "[]"));
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("check: FAILED");
    const cex = r.files.find((f) => /^counterexamples\/no-hyp-panic-[0-9a-f]{12}\.json$/.test(f))!;
    const name = cex.slice("counterexamples/".length, -".json".length);
    expect(r.files.sort()).toEqual(["check.sarif", cex, `counterexamples/${name}.itf.json`, `html/${name}.html`].sort());
    const sarif = JSON.parse(readFileSync(join(r.cwd, "check.sarif"), "utf8"));
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(cex);
    expect(sarif.runs[0].invocations[0].exitCode).toBe(1);
    const itf = JSON.parse(readFileSync(join(r.cwd, `counterexamples/${name}.itf.json`), "utf8"));
    expect(itf.states.map((s: Record<string, unknown>) => s["mbt::actionTaken"])).toEqual(["init", "init_vm", "host_test_clear_young_guest"]);
  });

  it("check: temporal verdicts in text, JSON, JUnit and SARIF; the random engine says it skips them", () => {
    const args = ["check", "--config", "tiny", "--engine", "bfs,random", "--runs", "20", "--baseline", KNOWN];
    const text = cli(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/host-can-recover-memory +known finding finalize-leaks-unreclaimed-guest-pages \[always-eventually-possible\]/);
    expect(text.stdout).toMatch(/teardown-completes +ok \[always-eventually-possible\]/);
    expect(text.stdout).toMatch(/dying-vm-is-finalized +skipped \[leads-to\] +the random engine samples finite runs/);

    const r = cli([...args, "--json", "--junit", "j.xml", "--sarif", "s.sarif"]);
    const [bfs, random] = JSON.parse(r.stdout).reports as { engine: string; verdicts: { property: string; status: string; kind?: string }[] }[];
    const temporal = (v: { kind?: string }) => v.kind !== undefined;
    expect(bfs.verdicts.filter(temporal).map((v) => [v.property, v.kind, v.status])).toEqual([
      ["dying-vm-is-finalized", "leads-to", "pass"],
      ["host-can-recover-memory", "always-eventually-possible", "known"],
      ["teardown-completes", "always-eventually-possible", "pass"],
    ]);
    expect(random.verdicts.filter(temporal).map((v) => v.status)).toEqual(["skipped", "skipped", "skipped"]);
    const junit = readFileSync(join(r.cwd, "j.xml"), "utf8");
    expect(junit).toMatch(/<testcase classname="bfs tiny" name="teardown-completes" time="[\d.]+"\/>/);
    expect(junit).toMatch(/<testcase classname="random tiny" name="dying-vm-is-finalized" time="[\d.]+">\n +<skipped message="the random engine samples/);
    const sarif = JSON.parse(readFileSync(join(r.cwd, "s.sarif"), "utf8")).runs[0];
    expect(sarif.tool.driver.rules.find((x: { id: string }) => x.id === "teardown-completes").shortDescription.text).toMatch(/DYING VM can still be finalized/);
    expect(sarif.results.find((x: { ruleId: string }) => x.ruleId === "host-can-recover-memory").suppressions).toHaveLength(1);
    expect(sarif.properties.checked[0].proved).toEqual(expect.arrayContaining(["teardown-completes", "dying-vm-is-finalized"]));
  });

  it("check: 1 when a trace of the regression corpus violates a property, whatever the search found", () => {
    const r = cli([...tiny, "--max-states", "10", "--baseline", KNOWN], (cwd) => {
      mkdirSync(join(cwd, "counterexamples"));
      copyFileSync(FINDING, join(cwd, "counterexamples/regression.json"));
    });
    expect(r.stdout).toMatch(/no-hyp-panic +VIOLATED +replays with a violation on the real model at step 11/);
    expect(r.code).toBe(1);
  });

  it("check --max-states 10: 0, and says the search is incomplete", () => {
    const r = cli([...tiny, "--max-states", "10", "--baseline", KNOWN]);
    expect(r.stdout).toContain("INCOMPLETE: stopped by max-states; no violation found in what was covered is not a proof");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("check: ok");
    expect(r.code).toBe(0);
  });

  it("check --require-complete --max-states 10: 1, and says the search is incomplete", () => {
    const r = cli([...tiny, "--max-states", "10", "--baseline", KNOWN, "--require-complete", "--sarif", "s.sarif"]);
    expect(r.stdout).toContain("INCOMPLETE: stopped by max-states");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("check: FAILED");
    expect(r.code).toBe(1);
    const sarif = JSON.parse(readFileSync(join(r.cwd, "s.sarif"), "utf8"));
    expect(sarif.runs[0].results).toEqual([]);
    expect(sarif.runs[0].invocations[0].exitCode).toBe(1);
  });

  it("check --json: the same verdict as the exit code", () => {
    const r = cli([...tiny, "--max-states", "10", "--baseline", KNOWN, "--require-complete", "--json"]);
    expect([r.code, JSON.parse(r.stdout).ok]).toEqual([1, false]);
  });

  it("check --shard: every seed it prints, --seed takes: the base seed with the shard, or the shard's own seed alone", () => {
    const random = ["check", "--config", "tiny", "--engine", "random", "--runs", "30", "--json", "--no-corpus"];
    const sharded = cli([...random, "--seed", "42", "--shard", "1/4", "--progress"]);
    expect(sharded.stderr).toContain("random: seed 42, shard 1/4\n");
    const stats = JSON.parse(sharded.stdout).reports[0].stats;
    expect(stats).toMatchObject({ seed: 42, shard: "1/4" });
    expect(stats.shardSeed).toBeLessThan(0); // this shard's seed prints negative: fast-check's seeds are signed
    const again = JSON.parse(cli([...random, "--seed", "42", "--shard", "1/4"]).stdout).reports[0].stats;
    const alone = JSON.parse(cli([...random, "--seed", String(stats.shardSeed)]).stdout).reports[0].stats;
    for (const s of [again, alone]) expect([s.steps, s.distinctStates]).toEqual([stats.steps, stats.distinctStates]);
  });

  it("list: 0", () => {
    expect(cli(["list"]).code).toBe(0);
  });

  it("export: 0 on an ok trace, ITF on stdout; 1 on a counterexample, still written, and says why", () => {
    const ok = cli(["export", PASS, "--itf"]);
    expect([ok.code, ok.stderr, JSON.parse(ok.stdout).states.length]).toEqual([0, "", 15]);
    const cex = cli(["export", FINDING, "--itf", "-o", "t.itf.json"]);
    expect([cex.code, cex.files]).toEqual([1, ["t.itf.json"]]);
    expect(cex.stdout).toBe("wrote t.itf.json: the trace violates no-hyp-panic at step 11\n");
    const piped = cli(["export", MISMATCH, "--itf"]);
    expect([piped.code, piped.stderr]).toEqual([1, `pkvm-check: ${MISMATCH}: the trace differs from its expect at step 1\n`]);
  });

  it("report: 0 on an ok trace, 1 on a counterexample, the page written either way", () => {
    const ok = cli(["report", PASS]);
    expect([ok.code, ok.stdout, ok.files]).toEqual([0, "wrote pass.html\n", ["pass.html"]]);
    const cex = cli(["report", FINDING, "-o", "r.html"]);
    expect([cex.code, cex.stdout, cex.files]).toEqual([1, "wrote r.html: the trace violates no-hyp-panic at step 11\n", ["r.html"]]);
    expect(existsSync(join(cex.cwd, "r.html"))).toBe(true);
  });
});
