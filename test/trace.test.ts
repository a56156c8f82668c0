import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatStep } from "../model/actions.js";
import { InputError } from "../model/config.js";
import { BUILTIN_CONFIGS, resolveConfig } from "../src/configs.js";
import { formatTrace, parseTrace, readTrace, traceId, writeCounterexample, type Trace, type Violation } from "../src/trace.js";

// The example of interface.md, "Trace files".
const EXAMPLE = {
  format: "pkvm-trace/1",
  config: { pages: 4, vms: [{ protected: true, vcpus: 1, gfns: 2 }] },
  steps: [
    { action: "init_vm", args: { vm: 0, pfn: 3 }, expect: "0" },
    { action: "host_share_hyp", args: { pfn: 1 }, expect: "0" },
  ],
  violation: { property: "host-cannot-access-guest", step: 1, message: "..." },
  meta: { engine: "bfs", seed: 42 },
};

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** The example with `edit` applied, parsed as t.json; returns the InputError's message. */
function rejection(edit: (t: any) => void): string {
  const t = clone(EXAMPLE) as any;
  edit(t);
  try {
    parseTrace(t, "t.json");
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toContain("\n");
    return (e as Error).message;
  }
  throw new Error("the trace was accepted");
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "pkvm-trace-"));
}

describe("trace files: parsing", () => {
  it("accepts the interface.md example", () => {
    const t = parseTrace(clone(EXAMPLE), "t.json");
    expect(t.config.pages).toBe(4);
    expect(t.config.blockPages).toBe(512);
    expect(t.configName).toBe("t.json");
    expect(t.steps.map((s) => formatStep(s.step))).toEqual(["init_vm(vm=0, pfn=3)", "host_share_hyp(pfn=1)"]);
    expect(t.steps.map((s) => s.expect)).toEqual(["0", "0"]);
    expect(t.violation).toEqual(EXAMPLE.violation);
    expect(t.meta).toEqual({ engine: "bfs", seed: 42 });
  });

  it("resolves a built-in config by name", () => {
    const t = parseTrace({ format: "pkvm-trace/1", config: "tiny", steps: [] }, "t.json");
    expect(t.configName).toBe("tiny");
    expect(t.config).toEqual(resolveConfig("tiny").config);
  });

  it("parses prot letters, mkold and a missing expect", () => {
    const t = parseTrace(
      {
        format: "pkvm-trace/1",
        config: { pages: 4, vms: [{ protected: false, vcpus: 1, gfns: 2 }] },
        steps: [
          { action: "host_share_guest", args: { vm: 0, pfn: 1, gfn: 0, nr_pages: 1, prot: "RX" } },
          { action: "host_test_clear_young_guest", args: { vm: 0, gfn: 0, nr_pages: 1, mkold: true } },
          { action: "vcpu_put", args: {} },
        ],
      },
      "t.json",
    );
    expect(t.steps.map((s) => formatStep(s.step))).toEqual([
      "host_share_guest(vm=0, pfn=1, gfn=0, nr_pages=1, prot=RX)",
      "host_test_clear_young_guest(vm=0, gfn=0, nr_pages=1, mkold=true)",
      "vcpu_put()",
    ]);
    expect(t.steps[0].expect).toBeUndefined();
  });

  it("accepts numbers up to 2^53 - 1 unwrapped", () => {
    const t = parseTrace({ ...clone(EXAMPLE), steps: [{ action: "host_read", args: { pfn: 2 ** 53 - 1 } }], violation: undefined }, "t.json");
    expect(t.steps[0].step.args.pfn).toBe(2 ** 53 - 1);
  });

  it("rejects malformed JSON, naming the file", () => {
    const f = join(tmp(), "bad.json");
    writeFileSync(f, '{"format": "pkvm-trace/1",');
    expect(() => readTrace(f)).toThrow(InputError);
    expect(() => readTrace(f)).toThrow(`${f}: invalid JSON`);
  });

  it("rejects a trace that is not an object", () => {
    expect(() => parseTrace([], "t.json")).toThrow(new InputError("t.json: expected a JSON object"));
  });

  it("rejects a missing file, naming it", () => {
    expect(() => readTrace("/nonexistent/t.json")).toThrow("/nonexistent/t.json: cannot read: ENOENT");
  });

  it.each([
    ["an unknown top-level key", (t: any) => (t.extra = 1), "t.json: extra: unknown key"],
    ["a wrong format", (t: any) => (t.format = "pkvm-trace/2"), "t.json: format:"],
    ["a missing config", (t: any) => delete t.config, "t.json: config: required"],
    ["an unknown built-in config", (t: any) => (t.config = "huge"), 't.json: config: unknown built-in config "huge"'],
    ["an unknown config key", (t: any) => (t.config.ram = 4), "t.json: config.ram: unknown key"],
    ["an unknown VM key", (t: any) => (t.config.vms[0].cpus = 1), "t.json: config.vms[0].cpus: unknown key"],
    ["steps that are not an array", (t: any) => (t.steps = {}), "t.json: steps: expected an array"],
    ["an unknown step key", (t: any) => (t.steps[1].note = "x"), "t.json: steps[1].note: unknown key"],
    ["an unknown action", (t: any) => (t.steps[1].action = "host_share_everything"), 't.json: steps[1].action: unknown action "host_share_everything"'],
    ["an action that is not a string", (t: any) => (t.steps[1].action = 3), "t.json: steps[1].action: unknown action 3"],
    ["a missing argument", (t: any) => delete t.steps[0].args.pfn, "t.json: steps[0].args.pfn: missing"],
    ["an extra argument", (t: any) => (t.steps[1].args.nr_pages = 1), "t.json: steps[1].args.nr_pages: not an argument (host_share_hyp takes pfn)"],
    ["missing args", (t: any) => delete t.steps[1].args, "t.json: steps[1].args: expected an object"],
    ["a negative number", (t: any) => (t.steps[1].args.pfn = -1), "t.json: steps[1].args.pfn: expected a non-negative integer"],
    ["a non-integer number", (t: any) => (t.steps[1].args.pfn = 1.5), "t.json: steps[1].args.pfn: expected a non-negative integer"],
    ["a number past 2^53 - 1", (t: any) => (t.steps[1].args.pfn = 2 ** 53), "t.json: steps[1].args.pfn: expected a non-negative integer"],
    ["a number as a string", (t: any) => (t.steps[1].args.pfn = "1"), "t.json: steps[1].args.pfn: expected a non-negative integer"],
    ["a vm index out of range", (t: any) => (t.steps[0].args.vm = 1), "t.json: steps[0].args.vm: 1 is not a VM slot"],
    ["a non-object step", (t: any) => (t.steps[1] = "host_read"), "t.json: steps[1]: expected an object"],
    ["a missing format", (t: any) => delete t.format, "t.json: format: expected \"pkvm-trace/1\""],
    ["a bad expect", (t: any) => (t.steps[0].expect = "-EWHAT"), 't.json: steps[0].expect: "-EWHAT" is not a return string'],
    ["a numeric expect", (t: any) => (t.steps[0].expect = 0), "t.json: steps[0].expect: 0 is not a return string"],
    ["a violation at a step past the end", (t: any) => (t.violation.step = 2), "t.json: violation.step:"],
    ["an unknown violation key", (t: any) => (t.violation.pfn = 1), "t.json: violation.pfn: unknown key"],
    ["meta that is not an object", (t: any) => (t.meta = [1]), "t.json: meta: expected an object"],
  ])("rejects %s", (_what, edit, message) => {
    expect(rejection(edit)).toContain(message);
  });

  it.each(["WR", "r", "RWXX", "Q"])("rejects the prot %j", (prot) => {
    const msg = rejection((t) => (t.steps[1] = { action: "host_relax_perms_guest", args: { vm: 0, gfn: 0, prot } }));
    expect(msg).toContain("t.json: steps[1].args.prot: expected a string of the letters R, W, X");
  });

  it("rejects a prot that is not a string", () => {
    const msg = rejection((t) => (t.steps[1] = { action: "host_relax_perms_guest", args: { vm: 0, gfn: 0, prot: 3 } }));
    expect(msg).toContain("t.json: steps[1].args.prot:");
  });

  it("rejects a vcpu index out of range", () => {
    const msg = rejection((t) => (t.steps[1] = { action: "vcpu_load", args: { vm: 0, vcpu: 1 } }));
    expect(msg).toBe("t.json: steps[1].args.vcpu: 1 is not a vCPU slot of VM 0 (it has 1)");
  });

  it("rejects mkold that is not a boolean", () => {
    const msg = rejection((t) => (t.steps[1] = { action: "host_test_clear_young_guest", args: { vm: 0, gfn: 0, nr_pages: 1, mkold: 1 } }));
    expect(msg).toBe("t.json: steps[1].args.mkold: expected a boolean");
  });

  it("rejects host_topup_memcache without memcache, and accepts it with", () => {
    const topup = { action: "host_topup_memcache", args: { vm: 0, vcpu: 0, pfn: 1 } };
    expect(rejection((t) => (t.steps[1] = topup))).toBe(
      't.json: steps[1].action: host_topup_memcache needs "memcache": true in the config',
    );
    const t = clone(EXAMPLE) as any;
    t.config.memcache = true;
    t.steps[1] = topup;
    expect(parseTrace(t, "t.json").steps[1].step.action.name).toBe("host_topup_memcache");
  });
});

describe("trace files: writing", () => {
  const trace = (): Trace & { violation: Violation } => parseTrace(clone(EXAMPLE), "t.json") as Trace & { violation: Violation };

  it("round-trips through the JSON format, config in full", () => {
    const t = trace();
    const again = parseTrace(JSON.parse(formatTrace(t)), "again.json");
    expect(again.config).toEqual(t.config);
    expect(again.steps).toEqual(t.steps);
    expect(again.violation).toEqual(t.violation);
    expect(again.meta).toEqual(t.meta);
  });

  it("writes only the action's own arguments, prot as letters", () => {
    const t = parseTrace(
      { ...clone(EXAMPLE), config: { pages: 4, vms: [{ protected: false, vcpus: 1, gfns: 2 }] }, steps: [
        { action: "host_relax_perms_guest", args: { vm: 0, gfn: 1, prot: "RW" } },
      ], violation: undefined },
      "t.json",
    );
    const json = JSON.parse(formatTrace(t));
    expect(json.steps).toEqual([{ action: "host_relax_perms_guest", args: { vm: 0, gfn: 1, prot: "RW" } }]);
    expect(json.violation).toBeUndefined();
  });

  it("names a run by its config and actions, not by its expects", () => {
    const a = trace();
    const b = trace();
    b.steps[0].expect = "-EPERM";
    expect(traceId(a)).toMatch(/^[0-9a-f]{12}$/);
    expect(traceId(b)).toBe(traceId(a));
    b.steps[1].step.args.pfn = 2;
    expect(traceId(b)).not.toBe(traceId(a));
  });

  it("writes a counterexample under <property>-<id>.json, idempotently", () => {
    const dir = join(tmp(), "counterexamples"); // created on demand
    const t = trace();
    const path = writeCounterexample(dir, t);
    expect(path).toBe(join(dir, `host-cannot-access-guest-${traceId(t)}.json`));
    expect(readTrace(path).steps).toEqual(t.steps);
    expect(writeCounterexample(dir, trace())).toBe(path);
    expect(readdirSync(dir)).toEqual([`host-cannot-access-guest-${traceId(t)}.json`]);
  });

  it("never overwrites a different file of the same name", () => {
    const dir = tmp();
    const t = trace();
    const path = writeCounterexample(dir, t);
    const first = readFileSync(path, "utf8");
    const other = trace();
    other.violation.message = "another message";
    const second = writeCounterexample(dir, other);
    expect(second).toBe(join(dir, `host-cannot-access-guest-${traceId(t)}-2.json`));
    expect(readFileSync(path, "utf8")).toBe(first);
    expect(readTrace(second).violation?.message).toBe("another message");
    expect(writeCounterexample(dir, other)).toBe(second);
    expect(readdirSync(dir).sort()).toEqual([`host-cannot-access-guest-${traceId(t)}-2.json`, `host-cannot-access-guest-${traceId(t)}.json`]);
  });
});

describe("built-in configs", () => {
  it.each(BUILTIN_CONFIGS.map((c) => [c.name]))("%s is a valid config", (name) => {
    const { name: n, config } = resolveConfig(name);
    expect(n).toBe(name);
    expect(config.vms.some((v) => v.protected)).toBe(true);
    // reuse keeps one protected slot, finalized and reused: a second kind would make it too big to search.
    if (name !== "reuse") expect(config.vms.some((v) => !v.protected)).toBe(true);
  });

  it("reads a config file, naming it in errors", () => {
    const f = join(tmp(), "c.json");
    writeFileSync(f, JSON.stringify({ pages: 4, vms: [{ protected: true, vcpus: 1 }] }));
    expect(() => resolveConfig(f)).toThrow(`${f}: config.vms[0].gfns: expected an integer`);
  });
});
