// `pkvm-check report TRACE [-o report.html]`: the trace as one self-contained HTML page (see
// src/report/html.ts). Like export, the exit code is replay's, and the page is written either way.

import { basename, join } from "node:path";
import type { CommandModule } from "yargs";
import type { ModelVariant } from "../engine.js";
import { emitHtmlReport } from "../report/html.js";
import { EXIT } from "./exit.js";
import { checkOutputFile } from "../io/output-path.js";
import { makeDir } from "../io/write-file.js";
import { failure, replayed, writeOutputWith } from "./output.js";

interface ReportArgs {
  trace: string;
  output?: string;
  fault?: string;
}

/** The trace replayed, and the writer of its report: the page is rendered as it is written. */
function reportOf(file: string, o: { variant?: ModelVariant; fault?: string }) {
  const { trace, result, states } = replayed(file, o);
  return { result, writeTo: (out: string) => writeOutputWith(out, (emit) => emitHtmlReport(result, states, trace.configName, emit)) };
}

/** `check --html DIR`: the report of a counterexample as DIR/<its name>.html; returns its path. */
export function writeReportInto(dir: string, counterexample: string, variant?: ModelVariant): string {
  makeDir(dir);
  const file = join(dir, `${basename(counterexample).replace(/\.json$/, "")}.html`);
  reportOf(counterexample, { variant }).writeTo(file);
  return file;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report <trace>",
  describe: "write a trace as a self-contained HTML page: pages and guest frames by steps, the violation highlighted",
  builder: (y) =>
    y
      .positional("trace", { type: "string", demandOption: true, describe: "a pkvm-trace/1 file" })
      .option("output", { alias: "o", type: "string", describe: "the HTML file (default: the trace's name with .html, here)" })
      .option("fault", { type: "string", describe: "replay under this seeded fault (default: the trace's meta.fault, else the real model)" }),
  handler: (argv) => {
    const out = argv.output ?? `${basename(argv.trace).replace(/\.json$/, "")}.html`;
    checkOutputFile(out, "-o");
    const { result, writeTo } = reportOf(argv.trace, { fault: argv.fault });
    // Set before writing: a write that fails late keeps a failing trace's exit code 1.
    process.exitCode = result.ok ? EXIT.OK : EXIT.FAILED;
    writeTo(out);
    process.stdout.write(`wrote ${out}${result.ok ? "" : `: the trace ${failure(result)}`}\n`);
  },
};
