// Runs the CLI as a user does, for tests that check exit codes and what a run writes: built by
// tsc into a directory of the test's own (so that it never races another test rebuilding dist/),
// each run in an empty working directory.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  cwd: string;
  /** Every file under the working directory after the run, relative to it, but those `setup` put there. */
  files: string[];
  ms: number;
}

function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/** Builds the CLI into node_modules/.cache/<name>; returns a runner. Call from beforeAll. */
export function buildCli(name: string): (args: readonly string[], setup?: (cwd: string) => void, opts?: { heapMb?: number; timeoutMs?: number }) => Run {
  const out = join(ROOT, "node_modules/.cache", name);
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", out], { encoding: "utf8" });
  expect(build.stdout + build.stderr).toBe("");
  expect(build.status).toBe(0);
  const cli = join(out, "src/cli.js");
  return (args, setup = () => {}, opts = {}) => {
    const cwd = mkdtempSync(join(tmpdir(), "pkvm-cli-"));
    setup(cwd);
    const before = new Set(listFiles(cwd));
    const heap = opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : [];
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [...heap, cli, ...args], { cwd, encoding: "utf8", timeout: opts.timeoutMs ?? 120_000, maxBuffer: 1 << 30 });
    const ms = Date.now() - t0;
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, cwd, files: listFiles(cwd).filter((f) => !before.has(f)), ms };
  };
}

/** Exit 2: one line on stderr naming what is wrong, nothing on stdout, nothing written. */
export function expectInputError(r: Run, message: string | RegExp): void {
  expect(r.stderr).toMatch(typeof message === "string" ? `pkvm-check: ${message}\n` : message);
  expect(r.stderr.split("\n")).toHaveLength(2);
  expect(r.stderr).not.toContain("internal error");
  expect(r.stdout).toBe("");
  expect(r.files).toEqual([]);
  expect(r.code).toBe(2);
}
