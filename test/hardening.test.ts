// Hardening (issue 15): every input bounded, every limit honoured. Hostile files (devices that
// never end, FIFOs, oversized, duplicate keys, -0, deep nesting), worlds too big to allocate,
// limits inside one state's expansion, `--` before a dashed file name, and traces long enough
// to overflow a recursive or all-in-memory walk.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseWorldConfig } from "../model/config.js";
import { JsonError, MAX_JSON_DEPTH, parseStrictJson } from "../src/strict-json.js";
import { buildCli, expectInputError, ROOT, type Run } from "./cli-runner.js";

const PASS = join(ROOT, "test/fixtures/pass.json");
let cli: ReturnType<typeof buildCli>;
beforeAll(() => {
  cli = buildCli("pkvm-check-hardening");
}, 120_000);

const put = (name: string, text: string) => (cwd: string) => writeFileSync(join(cwd, name), text);
const traceText = (body: string) => `{"format": "pkvm-trace/1", "config": "tiny", "steps": [${body}]}`;

describe("strict JSON", () => {
  it("parses what JSON.parse parses, to the same value", () => {
    for (const text of [
      readFileSync(PASS, "utf8"),
      '{"a": [1, 2.5, -3e2, 0, true, false, null, "x\\u00e9\\n\\"", {}, []], "b": {"c": "d"}}',
      " [ ] ",
      '"\\ud83d\\ude00"',
      "0",
      "-1.5E+3",
    ]) {
      expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    }
  });

  it.each([
    ['{"a": 1, "a": 2}', 'duplicate key "a" at line 1 column 10'],
    ['{"x": {"b": 1, "c": 2, "b": 3}}', 'duplicate key "b" at line 1 column 24'],
    ["[-0]", "-0 is not a valid number here at line 1 column 2"],
    ['{"n": -0.0}', "-0 is not a valid number here"],
    ["-0e5", "-0 is not a valid number here"],
    ["[1,]", "unexpected character"],
    ["01", "unexpected text after the JSON value"],
    ["NaN", "unexpected character"],
    ['"a\tb"', "control character in a string"],
    ['{"a": 1', "unexpected end of input"],
    ["", "unexpected end of input"],
  ])("refuses %s", (text, message) => {
    expect(() => parseStrictJson(text)).toThrow(JsonError);
    expect(() => parseStrictJson(text)).toThrow(message);
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels, without recursion (a million levels)`, () => {
    expect(parseStrictJson("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH))).toBeDefined();
    expect(() => parseStrictJson("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1))).toThrow(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(() => parseStrictJson('{"a":'.repeat(1_000_000))).toThrow(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it("keeps a __proto__ key a key, which the validators then refuse as unknown", () => {
    const v = parseStrictJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => parseWorldConfig(parseStrictJson('{"pages": 4, "__proto__": {}}'))).toThrow("config.__proto__: unknown key");
  });
});

describe("input files: bounded, regular, strict", { timeout: 60_000 }, () => {
  it.each<[string, string[], string | RegExp, ((cwd: string) => void)?]>([
    ["replay /dev/zero", ["replay", "/dev/zero"], "/dev/zero: not a regular file (devices, FIFOs and sockets are not read)"],
    ["replay /dev/urandom", ["replay", "/dev/urandom"], "/dev/urandom: not a regular file (devices, FIFOs and sockets are not read)"],
    ["check --config /dev/zero", ["check", "--config", "/dev/zero"], "/dev/zero: not a regular file (devices, FIFOs and sockets are not read)"],
    ["check --baseline /dev/zero", ["check", "--baseline", "/dev/zero", "--engine", "bfs", "--config", "tiny"], "/dev/zero: not a regular file (devices, FIFOs and sockets are not read)"],
    ["export a FIFO", ["export", "--itf", "f.json"], "f.json: not a regular file (devices, FIFOs and sockets are not read)", (cwd) => {
      expect(spawnSync("mkfifo", [join(cwd, "f.json")]).status).toBe(0);
    }],
    ["report a directory", ["report", "d.json", "-o", "r.html"], "d.json: is a directory, not a file", (cwd) => mkdirSync(join(cwd, "d.json"))],
    ["replay over --max-input-bytes", ["replay", "--max-input-bytes", "100", "t.json"], /^pkvm-check: t\.json: \d+ bytes, over the input cap of 100 bytes \(raise it with --max-input-bytes\)\n$/, (cwd) => copyFileSync(PASS, join(cwd, "t.json"))],
    ["--max-input-bytes 0", ["replay", "--max-input-bytes", "0", PASS], "--max-input-bytes: expected a positive integer, got 0"],
    ["a duplicate key", ["replay", "t.json"], 't.json: invalid JSON: duplicate key "args" at line 1 column 100', put("t.json", traceText('{"action": "host_read", "args": {"pfn": 1}, "args": {"pfn": 2}}'))],
    ["-0 as an argument", ["report", "t.json", "-o", "t.html"], "t.json: invalid JSON: -0 is not a valid number here at line 1 column 96", put("t.json", traceText('{"action": "host_read", "args": {"pfn": -0}}'))],
    ["a 100,000-deep meta", ["export", "--itf", "t.json", "-o", "t.itf.json"], /^pkvm-check: t\.json: invalid JSON: nested deeper than 32 levels at line 1 column \d+\n$/, put("t.json", `{"format": "pkvm-trace/1", "config": "tiny", "steps": [], "meta": ${'{"a": '.repeat(100_000)}1${"}".repeat(100_000)}}`)],
    ["not UTF-8", ["replay", "t.json"], "t.json: invalid JSON: not UTF-8 text", (cwd) => writeFileSync(join(cwd, "t.json"), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))],
  ])("%s: exit 2, one line, nothing written", (_, args, message, setup) => {
    expectInputError(cli(args, setup), message);
  });
});

describe("-- ends options everywhere", { timeout: 60_000 }, () => {
  const dashed = (cwd: string) => copyFileSync(PASS, join(cwd, "-x.json"));
  it("replay, export and report take a file named -x.json after --", () => {
    expect(cli(["replay", "--", "-x.json"], dashed)).toMatchObject({ code: 0, stdout: expect.stringContaining("-x.json: ok") });
    expect(cli(["export", "--itf", "-o", "x.itf.json", "--", "-x.json"], dashed)).toMatchObject({ code: 0, files: ["x.itf.json"] });
    expect(cli(["report", "-o", "x.html", "--", "-x.json"], dashed)).toMatchObject({ code: 0, files: ["x.html"] });
  });

  it("an operand after -- is never a flag", () => {
    expectInputError(cli(["replay", "--", "--json"]), "--json: cannot read: ENOENT");
    expectInputError(cli(["check", "--", "-x.json"], dashed), "Unknown argument: -x.json");
  });
});

describe("worlds: refused before allocation, limits honoured within one state's expansion", { timeout: 120_000 }, () => {
  const config = (name: string, c: unknown) => put(name, JSON.stringify(c));
  const vm = { protected: true, vcpus: 2, gfns: 16 };
  const big4096 = { pages: 4096, mmio: [[4000, 4096]], nomap: [3990, 3991], hypPages: [0, 1], blockPages: 8, maxShareCount: 4, memcache: true, vms: [vm, vm, { ...vm, protected: false }, { ...vm, protected: false }] };

  it.each<[string, unknown, string | RegExp]>([
    ["2^24 pages", { pages: 2 ** 24 }, "c.json: config.pages: a state of this world would take 256.0 MiB (16777216 pages x 4 words), over the 16.0 MiB a state may take"],
    ["255 VMs x 255 vCPUs with the memcache", { pages: 4096, memcache: true, vms: Array(255).fill({ protected: false, vcpus: 255, gfns: 4 }) }, /^pkvm-check: c\.json: config\.vms: a state of this world would take 1016\.6 MiB \(255 VMs: 65025 vCPUs with memcaches of up to 4096 pages each, 1020 guest frames\), over the 16\.0 MiB a state may take\n$/],
    ["255 VMs of 2^24 gfns", { pages: 16, vms: Array(255).fill({ protected: false, vcpus: 1, gfns: 2 ** 24 }) }, /^pkvm-check: c\.json: config\.vms: a state of this world would take 16320\.0 MiB \(255 VMs: 255 vCPUs, 4278190080 guest frames\)/],
  ])("%s: exit 2 naming the key and the estimate", (_, c, message) => {
    const r = cli(["check", "--config", "c.json", "--engine", "bfs"], config("c.json", c));
    expectInputError(r, message);
    // The same world inline in a trace.
    expectInputError(cli(["replay", "t.json"], put("t.json", JSON.stringify({ format: "pkvm-trace/1", config: c, steps: [] }))), /^pkvm-check: t\.json: config\.(pages|vms): a state of this world would take/);
  });

  it("an alphabet too big to list (100,001 pages, all NOMAP) is refused by the exhaustive search, and sampled by the random engine within its time limit", () => {
    const nomap = config("n.json", { pages: 100_001, nomap: Array.from({ length: 100_000 }, (_, i) => i + 1), vms: [{ protected: true, vcpus: 1, gfns: 4 }] });
    expectInputError(cli(["check", "--config", "n.json", "--engine", "bfs"], nomap), /^pkvm-check: n\.json: this world's alphabet has \d+ steps .* use the random engine or fewer pages\n$/);
    const r = cli(["check", "--config", "n.json", "--engine", "random", "--time-limit", "2", "--no-corpus"], nomap);
    expect(r.stderr).not.toContain("internal error");
    expect([0, 1]).toContain(r.code);
  });

  it("4,096 pages: --max-states 100 and --time-limit stop the exhaustive search inside a state's expansion", () => {
    const setup = config("w.json", big4096);
    const states = cli(["check", "--config", "w.json", "--engine", "bfs", "--max-states", "100", "--no-corpus"], setup);
    expect(states.stdout).toContain("INCOMPLETE: stopped by max-states");
    expect(states.code).toBe(0);
    const time = cli(["check", "--config", "w.json", "--engine", "bfs", "--time-limit", "1", "--no-corpus"], setup);
    expect(time.stdout).toContain("INCOMPLETE: stopped by time-limit");
    expect(time.stdout).toMatch(/states \d+, transitions \d+, depth 0,/); // cut inside the first level
    expect(time.code).toBe(0);
  });

  it("4,096 pages, the whole gate: every engine, the proofs included, stops at --time-limit", () => {
    const headline = ["--property", "host-cannot-access-guest", "guest-cannot-access-host"];
    const r = cli(["check", "--config", "w.json", "--time-limit", "2", "--max-states", "100", "--no-corpus", ...headline], config("w.json", big4096));
    expect(r.stderr).not.toContain("internal error");
    expect(r.stdout).toMatch(/== smt on [^\n]*\n[^\n]*\n {3}INCOMPLETE: stopped by time-limit/);
    expect(r.stdout).toMatch(/== random on [^\n]*\n[^\n]*\n {3}INCOMPLETE: stopped by time-limit/);
    expect([0, 1]).toContain(r.code);
  });
});

describe("a long trace (150,000 steps): every walk is iterative and streams", { timeout: 300_000 }, () => {
  const N = 150_000;
  const cycle = [
    '{"action": "host_share_hyp", "args": {"pfn": 1}, "expect": "0"}',
    '{"action": "hyp_pin_shared_mem", "args": {"pfn": 1, "nr_pages": 1}, "expect": "0"}',
    '{"action": "hyp_unpin_shared_mem", "args": {"pfn": 1, "nr_pages": 1}, "expect": "0"}',
    '{"action": "host_unshare_hyp", "args": {"pfn": 1}, "expect": "0"}',
    '{"action": "host_read", "args": {"pfn": 2}, "expect": "0"}',
  ];
  const long = put("long.json", traceText(Array.from({ length: N }, (_, i) => cycle[i % cycle.length]).join(",\n")));
  const ok = (r: Run) => {
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  };
  // A heap of 512 MB: the states of the whole trace would not fit (nor would its text as one string under --diff).
  const heap = { heapMb: 512 };

  it("replay, replay --json, --diff and --watch", () => {
    const text = cli(["replay", "long.json"], long, heap);
    ok(text);
    expect(text.stdout.trimEnd().split("\n")).toHaveLength(N + 2);
    const json = cli(["replay", "--json", "long.json"], long, heap);
    ok(json);
    expect(JSON.parse(json.stdout).traces[0].steps).toHaveLength(N);
    const diff = cli(["replay", "--diff", "long.json"], long, heap);
    ok(diff);
    expect(diff.stdout).toContain(`${N - 1}  host_read(pfn=2)`);
    const watch = cli(["replay", "long.json", "--watch", "1"], long, heap);
    ok(watch);
    expect(watch.stdout).toContain(`(unchanged by the other ${N / 5} of ${N} steps)`);
  });

  it("export --itf and report", () => {
    const itf = cli(["export", "--itf", "long.json", "-o", "long.itf.json"], long, heap);
    expect([itf.code, itf.stdout]).toEqual([0, "wrote long.itf.json\n"]);
    const report = cli(["report", "long.json", "-o", "long.html"], long, heap);
    expect([report.code, report.stdout]).toEqual([0, "wrote long.html\n"]);
    const html = readFileSync(join(report.cwd, "long.html"), "utf8");
    expect(html).toContain("A long trace: shown are the initial state, the state after each violating step and after the last 1000 steps");
    expect(html).toContain(`${N - 1000} steps not shown (0 to ${N - 1001})`);
    expect(html.match(/<tr class="[^"]*" data-step=/g)).toHaveLength(1001);
  });
});
