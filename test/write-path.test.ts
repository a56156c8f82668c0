// The write path (src/io/): every file pkvm-check writes is complete or absent, never written
// through a symbolic link, and no temporary file outlives a run; output paths are checked before
// any search; a violation found stays exit 1 when a report cannot be written; SIGINT / SIGTERM
// stop a search and write what it found. One test per reproduction of the issue.
//
// A full disk is a 64 KiB tmpfs (mounting needs root: without it those cases are skipped, and the
// writer's own cases below still run on a full disk made by /dev/full's refusal and by a
// destination in the way). The CLI is built into a directory of its own, as in exit-codes.test.ts.

import { spawn, spawnSync } from "node:child_process";
import {
  existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { World } from "../model/world.js";
import { PROPERTIES } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { randomExplore } from "../src/explore/random.js";
import { faultOption } from "../src/faults/registry.js";
import { WriteError, writeFileAtomic, writeFileNew } from "../src/io/write-file.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUILD = join(ROOT, "node_modules/.cache/pkvm-check-write-path");
const CLI = join(BUILD, "src/cli.js");
const PASS = join(ROOT, "test/fixtures/pass.json");
const FAULT = ["--fault", "B1-unshare-hyp-no-hyp-check", "--engine", "bfs"];
const B1 = [...FAULT, "--no-corpus"];

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", BUILD], { encoding: "utf8" });
  expect(build.stdout + build.stderr).toBe("");
  expect(build.status).toBe(0);
}, 120_000);

const scratch = () => mkdtempSync(join(tmpdir(), "pkvm-write-"));

function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

const temps = (dir: string) => listFiles(dir).filter((f) => f.endsWith(".tmp"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(cwd: string, args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2, one line naming the flag, nothing written in `cwd`. */
function expectRefused(cwd: string, args: string[], message: string | RegExp): void {
  const before = listFiles(cwd);
  const r = cli(cwd, args);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.code).toBe(2);
  expect(listFiles(cwd)).toEqual(before);
}

// ---- A full disk: a tmpfs of 64 KiB, when this machine lets us mount one ----

const mounts: string[] = [];

/** A directory on a fresh tmpfs of `kib` KiB, or undefined when mounting is not allowed here. */
function tmpfs(kib: number, options = ""): string | undefined {
  const dir = scratch();
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k${options}`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  mounts.push(dir);
  return dir;
}

const canMount = (() => {
  const probe = tmpfs(4);
  return probe !== undefined;
})();

afterAll(() => {
  for (const m of mounts) {
    spawnSync("umount", [m]);
    rmSync(m, { recursive: true, force: true });
  }
});

/** Fills the file system of `dir` but for about `freeKib` KiB. */
function fill(dir: string, freeKib: number): void {
  const free = Number(spawnSync("df", ["--output=avail", "-k", dir], { encoding: "utf8" }).stdout.trim().split("\n")[1]);
  writeFileSync(join(dir, "fill"), Buffer.alloc(Math.max(0, free - freeKib) * 1024));
}

/** Each file is complete and valid for its kind: JSON parses, XML and HTML are closed. */
function expectValid(dir: string): void {
  for (const f of listFiles(dir).filter((f) => f !== "fill")) {
    const text = readFileSync(join(dir, f), "utf8");
    if (f.endsWith(".json") || f.endsWith(".sarif")) expect(() => JSON.parse(text), f).not.toThrow();
    else if (f.endsWith(".xml")) expect(text.trimEnd().endsWith("</testsuites>"), f).toBe(true);
    else if (f.endsWith(".html")) expect(text.trimEnd().endsWith("</html>"), f).toBe(true);
    else throw new Error(`unexpected file ${f}`);
  }
}

describe("the writer", () => {
  it("replaces a regular file whole and leaves no temporary file", () => {
    const dir = scratch();
    const file = join(dir, "r.json");
    writeFileSync(file, "old");
    writeFileAtomic(file, "new");
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(readdirSync(dir)).toEqual(["r.json"]);
  });

  it("never writes through a symbolic link at the destination", () => {
    const dir = scratch();
    writeFileSync(join(dir, "victim"), "precious");
    symlinkSync(join(dir, "victim"), join(dir, "r.json"));
    expect(() => writeFileAtomic(join(dir, "r.json"), "attack")).toThrow(/symbolic link/);
    expect(readFileSync(join(dir, "victim"), "utf8")).toBe("precious");
    expect(lstatSync(join(dir, "r.json")).isSymbolicLink()).toBe(true);
    expect(temps(dir)).toEqual([]);
  });

  it("gives a new file a free name: a different file, or a link, under the name is kept", () => {
    const dir = scratch();
    writeFileSync(join(dir, "victim"), "precious");
    symlinkSync(join(dir, "victim"), join(dir, "t.json"));
    writeFileSync(join(dir, "t-2.json"), "another");
    const names = [join(dir, "t.json"), join(dir, "t-2.json"), join(dir, "t-3.json")];
    expect(writeFileNew(names, "mine")).toBe(join(dir, "t-3.json"));
    expect(writeFileNew(names, "mine")).toBe(join(dir, "t-3.json"));
    expect(readFileSync(join(dir, "victim"), "utf8")).toBe("precious");
    expect(readFileSync(join(dir, "t-2.json"), "utf8")).toBe("another");
    expect(temps(dir)).toEqual([]);
  });

  it.skipIf(!canMount)("on a full disk: the file is untouched, the error says ENOSPC, no temporary file is left", () => {
    const dir = tmpfs(64)!;
    writeFileSync(join(dir, "r.json"), "old");
    const big = "x".repeat(100 * 1024);
    let error: unknown;
    try {
      writeFileAtomic(join(dir, "r.json"), big);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).message).toBe(`${join(dir, "r.json")}: cannot write: ENOSPC`);
    expect(readFileSync(join(dir, "r.json"), "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["r.json"]);
  });
});

describe("output paths are checked before any search: exit 2 naming the flag, nothing written", { timeout: 60_000 }, () => {
  it.each<[string, string[], string | RegExp]>([
    ["--sarif /dev/full (a device)", ["--sarif", "/dev/full"], "pkvm-check: --sarif /dev/full: is not a regular file\n"],
    ["--sarif '' (no path)", ["--sarif", ""], 'pkvm-check: --sarif: expected a path, got ""\n'],
    ["--out under a regular file", ["--out", "afile/sub"], "pkvm-check: --out afile/sub: afile is not a directory\n"],
    ["--html under a regular file", ["--html", "afile/rep"], "pkvm-check: --html afile/rep: afile is not a directory\n"],
    ["--out where no directory can be made", ["--out", "/proc/self/nonexistent/x"], /^pkvm-check: --out \/proc\/self\/nonexistent\/x: cannot create files in \/proc\/self: E[A-Z]+\n$/],
    ["--junit where no file can be made", ["--junit", "/proc/j.xml"], /^pkvm-check: --junit \/proc\/j\.xml: cannot create files in \/proc: E[A-Z]+\n$/],
    ["--sarif: a symbolic link", ["--sarif", "link.sarif"], /^pkvm-check: --sarif link\.sarif: is a symbolic link/],
  ])("%s", (_, flags, message) => {
    const cwd = scratch();
    writeFileSync(join(cwd, "afile"), "x");
    writeFileSync(join(cwd, "victim"), "precious");
    symlinkSync(join(cwd, "victim"), join(cwd, "link.sarif"));
    // The fault's violation is found at once: a path checked only after the search would leave
    // a counterexample under ce/.
    expectRefused(cwd, ["check", ...B1, ...(flags.includes("--out") ? [] : ["--out", "ce"]), ...flags], message);
    expect(readFileSync(join(cwd, "victim"), "utf8")).toBe("precious");
  });

  it("a junk .json in the corpus is refused before the search writes anything", () => {
    const cwd = scratch();
    mkdirSync(join(cwd, "ce"));
    writeFileSync(join(cwd, "ce/junk.json"), "{");
    expectRefused(cwd, ["check", ...FAULT, "--out", "out", "--corpus-dir", "ce"], /^pkvm-check: ce\/junk\.json: invalid JSON/);
  });

  it.skipIf(!canMount)("an --out on a read-only file system", () => {
    const ro = tmpfs(64, ",ro")!;
    const cwd = scratch();
    expectRefused(cwd, ["check", ...B1, "--out", join(ro, "ce")], `pkvm-check: --out ${join(ro, "ce")}: cannot create files in ${ro}: EROFS\n`);
  });

  it("export and report of a tiny trace whose world declares 2^24 pages", () => {
    const cwd = scratch();
    const trace = { format: "pkvm-trace/1", config: { pages: 2 ** 24 }, steps: [{ action: "host_share_hyp", args: { pfn: 1 } }] };
    writeFileSync(join(cwd, "huge.json"), JSON.stringify(trace));
    expectRefused(cwd, ["export", "huge.json", "--itf", "-o", "h.itf.json"], /^pkvm-check: huge\.json: config.*16777216 pages/);
    expectRefused(cwd, ["report", "huge.json", "-o", "h.html"], /^pkvm-check: huge\.json: config.*16777216 pages/);
  });
});

describe("a file that cannot be written late does not hide a violation", { timeout: 300_000 }, () => {
  it("export -o to a planted link is refused, the link's target untouched", () => {
    const cwd = scratch();
    writeFileSync(join(cwd, "victim"), "precious");
    symlinkSync(join(cwd, "victim"), join(cwd, "t.itf.json"));
    expectRefused(cwd, ["export", PASS, "--itf", "-o", "t.itf.json"], /^pkvm-check: -o t\.itf\.json: is a symbolic link/);
    expect(readFileSync(join(cwd, "victim"), "utf8")).toBe("precious");
  });

  it("check --itf does not follow a link planted at <counterexample>.itf.json: exit 1, the failure said", () => {
    const first = scratch();
    expect(cli(first, ["check", ...B1, "--out", "ce"]).code).toBe(1);
    const [counterexample] = readdirSync(join(first, "ce"));
    const cwd = scratch();
    mkdirSync(join(cwd, "ce"));
    writeFileSync(join(cwd, "victim"), "precious");
    const itf = `ce/${counterexample.replace(/\.json$/, ".itf.json")}`;
    symlinkSync(join(cwd, "victim"), join(cwd, itf));
    const r = cli(cwd, ["check", ...B1, "--out", "ce", "--itf", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pkvm-check: ${itf}: cannot write: is a symbolic link`);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(false);
    expect(json.writeErrors).toEqual([`${itf}: cannot write: is a symbolic link (pkvm-check never writes through one)`]);
    expect(readFileSync(join(cwd, "victim"), "utf8")).toBe("precious");
    expect(lstatSync(join(cwd, itf)).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(cwd, "ce")).sort()).toEqual([counterexample, counterexample.replace(/\.json$/, ".itf.json")].sort());
    expect(temps(cwd)).toEqual([]);
  });

  it.skipIf(!canMount)("export and report on a full disk: nothing written, exit 1 for a failing trace, else 3", () => {
    const disk = tmpfs(16)!;
    fill(disk, 0);
    const cwd = scratch();
    const mismatch = join(ROOT, "test/fixtures/mismatch.json");
    for (const [args, code] of [
      [["export", PASS, "--itf", "-o", join(disk, "t.itf.json")], 3],
      [["export", mismatch, "--itf", "-o", join(disk, "t.itf.json")], 1],
      [["report", mismatch, "-o", join(disk, "t.html")], 1],
    ] as const) {
      const r = cli(cwd, [...args]);
      expect(r.stderr).toMatch(/: cannot write: ENOSPC\n$/);
      expect(r.code).toBe(code);
    }
    expect(readdirSync(disk)).toEqual(["fill"]);
  });

  it.skipIf(!canMount)("on a full disk: exit 1, every output file complete and valid or absent, no temporary file", () => {
    const disk = tmpfs(64)!;
    fill(disk, 16); // room for some of the files, not all
    const cwd = scratch();
    const at = (f: string) => join(disk, f);
    const r = cli(cwd, ["check", ...B1, "--keep-going", "--max-depth", "4", "--out", at("ce"), "--sarif", at("r.sarif"), "--html", at("html"), "--itf", "--junit", at("j.xml"), "--json"]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(false);
    expect(json.writeErrors.length).toBeGreaterThan(0);
    for (const e of json.writeErrors) expect(r.stderr).toContain(`pkvm-check: ${e}\n`);
    expect(r.stderr).toContain("ENOSPC");
    // Still reported: each violation, with its counterexample's file or why there is none.
    const failed = json.reports.flatMap((x: { verdicts: { status: string }[] }) => x.verdicts).filter((v: { status: string }) => v.status === "fail");
    expect(failed.length).toBeGreaterThan(0);
    for (const v of failed) expect(v.counterexample ?? v.writeError).toBeDefined();
    expectValid(disk);
    expect(listFiles(disk).filter((f) => f !== "fill").length).toBeGreaterThan(0);
    expect(temps(disk)).toEqual([]);
  });
});

describe("the searches poll their stop flag and keep what they found", { timeout: 120_000 }, () => {
  const variant = faultOption("B1-unshare-hyp-no-hyp-check")!.variant;
  const engine = new Engine(new World(resolveConfig("tiny").config), variant);
  /** A flag raised after it has been polled `n` times. */
  const raisedAfter = (n: number) => () => --n < 0;

  it("bfs", () => {
    const r = bfs(engine, alphabet(engine.world), { properties: PROPERTIES, keepGoing: true, stopped: raisedAfter(2000) });
    expect(r.stop).toBe("interrupted");
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.states).toBeLessThan(23_237);
  });

  it("random", () => {
    const r = randomExplore(engine, alphabet(engine.world), { properties: PROPERTIES, seed: 1, runs: 100_000, keepGoing: true, stopped: raisedAfter(500) });
    expect(r.stopReason).toBe("interrupted");
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.runs).toBeLessThan(100_000);
  });
});

describe("SIGINT and SIGTERM stop the search and write what it found", { timeout: 300_000 }, () => {
  /** Starts a long check (the fault's violations are found at once, the search goes on for a while), signals it once it is searching. */
  async function interrupt(signal: NodeJS.Signals, flags: string[]): Promise<Run & { cwd: string }> {
    const cwd = scratch();
    const child = spawn(process.execPath, [CLI, "check", ...B1, "--config", "default", "--keep-going", "--out", "ce", ...flags], { cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // A progress line (every 5 s of search) says the search is running; with --json there is
    // none, and the default config's search takes far longer than the wait.
    const started = Date.now();
    while (!/states/.test(stderr) && Date.now() - started < (flags.includes("--json") ? 8000 : 120_000)) await new Promise((r) => setTimeout(r, 100));
    child.kill(signal);
    return { code: await exited, stdout, stderr, cwd };
  }

  function expectCounterexamples(cwd: string): void {
    const ce = readdirSync(join(cwd, "ce"));
    expect(ce.length).toBeGreaterThan(0);
    for (const f of ce) expect(JSON.parse(readFileSync(join(cwd, "ce", f), "utf8")).format).toBe("pkvm-trace/1");
    expect(temps(cwd)).toEqual([]);
  }

  it("SIGINT: exit 130, the counterexamples found written, the summary and JUnit marked incomplete", async () => {
    const r = await interrupt("SIGINT", ["--junit", "j.xml"]);
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/INCOMPLETE: stopped by SIGINT/);
    expect(r.stdout).toMatch(/check: INTERRUPTED by SIGINT, incomplete\n$/);
    expectCounterexamples(r.cwd);
    const junit = readFileSync(join(r.cwd, "j.xml"), "utf8");
    expect(junit).toMatch(/<failure message="interrupted by SIGINT: the run is incomplete"[ >]/);
  });

  it("SIGTERM: exit 143, the JSON summary says interrupted, each counterexample named in it exists", async () => {
    const r = await interrupt("SIGTERM", ["--json"]);
    expect(r.code).toBe(143);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ ok: false, interrupted: "SIGTERM" });
    expect(json.reports[0]).toMatchObject({ engine: "bfs", complete: false, stop: "SIGTERM" });
    const files = json.reports[0].verdicts.flatMap((v: { counterexample?: string }) => (v.counterexample ? [v.counterexample] : []));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(existsSync(join(r.cwd, f))).toBe(true);
    expectCounterexamples(r.cwd);
  });
});
