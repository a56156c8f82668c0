// Fuzzing the CLI's inputs (issue 15): fast-check generates traces and world configs, valid,
// mutated and hostile, and every command that reads them must keep the rule of interface.md:
// exit 0 or 1 for valid input, 2 with one line on stderr for invalid input, never 3 or a signal,
// nothing written on 2, and within a bound (each run under a 256 MB heap and a timeout: a run
// that exceeds either is killed, and a kill fails the property).
//
// `npm test` runs a short budget; `npm run fuzz` a long one (FUZZ_RUNS, default 300 CLI runs).
// The parsers are also fuzzed in process, 25 inputs per CLI run: any text is a trace, a config,
// or an InputError, never another exception.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../model/actions.js";
import { InputError, parseWorldConfig } from "../model/config.js";
import { RETURNS } from "../model/errno.js";
import { readInputJson } from "../src/input-file.js";
import { parseTrace } from "../src/trace.js";
import { buildCli, type Run } from "./cli-runner.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 10);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const HEAP_MB = 256;
const TIMEOUT_MS = 90_000;

let cli: ReturnType<typeof buildCli>;
beforeAll(() => {
  cli = buildCli("pkvm-check-fuzz");
}, 120_000);

// ---- generators ------------------------------------------------------------------------------

const PROTS = ["", "R", "W", "X", "RW", "RX", "WX", "RWX"];
/** Arguments in the domain of `tiny` (2 VMs of 1 vCPU, 4 pages), a little past its edges for pfn and gfn. */
const ARG: Record<string, fc.Arbitrary<unknown>> = {
  vm: fc.integer({ min: 0, max: 1 }),
  vcpu: fc.constant(0),
  pfn: fc.integer({ min: 0, max: 6 }),
  gfn: fc.integer({ min: 0, max: 3 }),
  nr_pages: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(2 ** 53 - 1)),
  prot: fc.constantFrom(...PROTS),
  mkold: fc.boolean(),
};

const validStep = fc.constantFrom(...ACTIONS.filter((a) => !a.memcacheOnly)).chain((a) =>
  fc.record(
    {
      action: fc.constant(a.name),
      args: fc.record(Object.fromEntries(a.args.map((n) => [n, ARG[n]]))),
      expect: fc.constantFrom(...RETURNS),
    },
    { requiredKeys: ["action", "args"] },
  ),
);

const smallConfig = fc.record({
  pages: fc.integer({ min: 2, max: 8 }),
  hypPages: fc.constant([0]),
  blockPages: fc.constantFrom(1, 2, 4),
  maxShareCount: fc.integer({ min: 1, max: 3 }),
  vms: fc.array(fc.record({ protected: fc.boolean(), vcpus: fc.integer({ min: 1, max: 2 }), gfns: fc.integer({ min: 0, max: 3 }) }), { maxLength: 2 }),
});

/** A valid trace's text (in `tiny`, whose VM slots the steps name). */
const validTrace = fc
  .record({ steps: fc.array(validStep, { maxLength: 30 }), meta: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 })), { nil: undefined }) })
  .map(({ steps, meta }) => JSON.stringify({ format: "pkvm-trace/1", config: "tiny", steps, ...(meta === undefined ? {} : { meta }) }));

const HOSTILE_NUMBERS = ["-0", "-0.0", "1e400", "-1e-400", "9007199254740993", "-1", "0.5", "1e21", "00", "0x10", "Infinity", '"7"'];

/** Edits of a JSON text that real mistakes and attackers make. */
function mutate(text: string): fc.Arbitrary<string> {
  const at = fc.integer({ min: 0, max: text.length });
  return fc.oneof(
    // delete a run of characters
    fc.tuple(at, fc.integer({ min: 1, max: 8 })).map(([i, n]) => text.slice(0, i) + text.slice(i + n)),
    // insert JSON punctuation or other characters
    fc.tuple(at, fc.string({ unit: fc.constantFrom(..."{}[]\",:-0123456789eE.\\ \u0000\u00e9\ud800".split("")), maxLength: 4 })).map(([i, s]) => text.slice(0, i) + s + text.slice(i)),
    // a number replaced by a hostile one
    fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE_NUMBERS)).map(([k, n]) => {
      const numbers = [...text.matchAll(/-?\d+/g)];
      if (numbers.length === 0) return text;
      const m = numbers[k % numbers.length];
      return text.slice(0, m.index) + n + text.slice(m.index! + m[0].length);
    }),
    // a key given twice
    fc.constantFrom('"action"', '"args"', '"config"', '"pfn"', '"format"').map((k) => text.replace(`${k}:`, `${k}: 1, ${k}:`)),
    // an unknown key, a missing one
    fc.constant(text.replace('"steps"', '"stepz"')),
    fc.constant(text.replace('"format": "pkvm-trace/1",', "").replace('"format":"pkvm-trace/1",', "")),
    // truncated
    at.map((i) => text.slice(0, i)),
  );
}

const deep = (n: number) => `{"format": "pkvm-trace/1", "config": "tiny", "steps": [], "meta": ${'{"a": '.repeat(n)}1${"}".repeat(n)}}`;
const inlineConfig = (c: unknown) => JSON.stringify({ format: "pkvm-trace/1", config: c, steps: [] });

/** Inputs no honest tool writes. */
const hostile: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.integer({ min: 33, max: 200_000 }).map(deep),
  fc.integer({ min: 33, max: 200_000 }).map((n) => "[".repeat(n)),
  fc.constantFrom(
    "",
    "\ufeff{}",
    "null",
    '"pkvm-trace/1"',
    inlineConfig({ pages: 2 ** 24 }),
    inlineConfig({ pages: 4096, memcache: true, vms: Array(255).fill({ protected: false, vcpus: 255, gfns: 4 }) }),
    inlineConfig({ pages: 16, vms: Array(255).fill({ protected: true, vcpus: 1, gfns: 2 ** 24 }) }),
    inlineConfig({ pages: 1e300 }),
    inlineConfig({ pages: 4, __proto__: { x: 1 } }).replace('"pages"', '"__proto__": {}, "pages"'),
    '{"format": "pkvm-trace/1", "config": "tiny", "steps": [{"action": "host_read", "args": {"pfn": 1e999}}]}',
  ),
);

/** A trace input: valid (with whether it is), mutated or hostile. */
const traceInput: fc.Arbitrary<{ content: string | Uint8Array; valid: boolean }> = fc.oneof(
  validTrace.map((content) => ({ content, valid: true })),
  validTrace.chain(mutate).map((content) => ({ content, valid: false })),
  hostile.map((content) => ({ content, valid: false })),
);

const configInput: fc.Arbitrary<{ content: string | Uint8Array; valid: boolean }> = fc.oneof(
  smallConfig.map((c) => ({ content: JSON.stringify(c), valid: true })),
  smallConfig.chain((c) => mutate(JSON.stringify(c))).map((content) => ({ content, valid: false })),
  hostile.map((content) => ({ content, valid: false })),
);

/** The commands that read a trace, each with how it names its file; all write into the working directory. */
const traceCommand = fc.constantFrom(
  ["replay", "t.json"],
  ["replay", "--json", "t.json"],
  ["replay", "--diff", "t.json", "--watch", "1", "--watch", "0:1"],
  ["export", "--itf", "t.json", "-o", "t.itf.json"],
  ["report", "t.json", "-o", "t.html"],
);
const configCommand = fc.constantFrom(
  ["check", "--config", "c.json", "--engine", "bfs", "--max-states", "200", "--no-corpus", "--baseline", "none.json"],
  ["check", "--config", "c.json", "--engine", "random", "--runs", "3", "--no-corpus", "--baseline", "none.json"],
  ["list", "--config", "c.json"],
);

// ---- the rule --------------------------------------------------------------------------------

function holdsTheRule(r: Run, valid: boolean, what: string): void {
  const where = `${what}\nexit ${r.code} signal ${r.signal}\nstderr: ${r.stderr.slice(0, 500)}`;
  expect(r.signal, where).toBeNull();
  expect([0, 1, 2], where).toContain(r.code);
  expect(r.stderr, where).not.toContain("internal error");
  if (valid) expect(r.code, where).not.toBe(2);
  if (r.code === 2) {
    expect(r.stderr, where).toMatch(/^pkvm-check: [^\n]+\n$/);
    expect(r.stdout, where).toBe("");
    expect(r.files, where).toEqual([]);
  }
}

const show = (c: string | Uint8Array) => (typeof c === "string" ? JSON.stringify(c.slice(0, 300)) : `bytes ${Buffer.from(c).toString("hex").slice(0, 200)}`);
const params = (numRuns: number) => ({ numRuns, ...(SEED === undefined ? {} : { seed: SEED }) });

describe("fuzz: the CLI on valid, mutated and hostile inputs", () => {
  it(`traces: exit 0/1 when valid, 2 with one line and nothing written when not, never 3 or a signal (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(traceInput, traceCommand, ({ content, valid }, args) => {
        const r = cli(args, (cwd) => writeFileSync(join(cwd, "t.json"), content), { heapMb: HEAP_MB, timeoutMs: TIMEOUT_MS });
        holdsTheRule(r, valid, `${args.join(" ")} on ${show(content)}`);
      }),
      params(RUNS),
    );
  }, RUNS * TIMEOUT_MS);

  it(`world configs: the same rule for check and list (${Math.ceil(RUNS / 2)} runs)`, () => {
    fc.assert(
      fc.property(configInput, configCommand, ({ content, valid }, args) => {
        const r = cli(args, (cwd) => writeFileSync(join(cwd, "c.json"), content), { heapMb: HEAP_MB, timeoutMs: TIMEOUT_MS });
        // A valid config may still be refused: a VM needs two host pages, some worlds have none.
        holdsTheRule(r, false, `${args.join(" ")} on ${show(content)}`);
        if (valid) expect(r.stderr, r.stderr).not.toMatch(/invalid JSON/);
      }),
      params(Math.ceil(RUNS / 2)),
    );
  }, RUNS * TIMEOUT_MS);
});

describe("fuzz: the parsers in process", () => {
  it(`any file is a trace or an InputError, never another exception (${RUNS * 25} inputs)`, () => {
    const dir = mkdtempSync(join(tmpdir(), "pkvm-fuzz-"));
    fc.assert(
      fc.property(traceInput, ({ content, valid }) => {
        const file = join(dir, "t.json");
        writeFileSync(file, content);
        try {
          parseTrace(readInputJson(file), file);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          expect(valid, `${e.message} on ${show(content)}`).toBe(false);
        }
      }),
      params(RUNS * 25),
    );
  });

  it(`any file is a world config or an InputError (${RUNS * 25} inputs)`, () => {
    const dir = mkdtempSync(join(tmpdir(), "pkvm-fuzz-"));
    fc.assert(
      fc.property(configInput, ({ content }) => {
        const file = join(dir, "c.json");
        writeFileSync(file, content);
        try {
          parseWorldConfig(readInputJson(file), file);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
      }),
      params(RUNS * 25),
    );
  });
});
