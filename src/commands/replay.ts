// `pkvm-check replay TRACE... [--json | --diff] [--watch PFN | VM:GFN]...`: every trace is read
// and validated before any is run, so that bad input (exit 2) prints nothing on stdout.

import type { CommandModule } from "yargs";
import { InputError } from "../../model/config.js";
import { parseWatch, replayText } from "../report/diff.js";
import { replay, replayToJson } from "../replay.js";
import { modelOf } from "./output.js";
import { readTrace } from "../trace.js";
import { EXIT } from "./exit.js";

interface ReplayArgs {
  traces: string[];
  json: boolean;
  diff: boolean;
  watch?: string[];
  fault?: string;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: "replay <traces..>",
  describe: "run trace files on the reference engine, checking every property and every expected return",
  builder: (y) =>
    y
      .positional("traces", { type: "string", array: true, demandOption: true, describe: "pkvm-trace/1 files" })
      .option("json", { type: "boolean", default: false, describe: "print one JSON document on stdout" })
      .option("diff", { type: "boolean", default: false, describe: "after each step, show only what it changed" })
      .option("watch", { type: "string", array: true, describe: "follow a page (PFN) or a guest frame (VM:GFN) through the trace" })
      .option("fault", { type: "string", describe: "replay under this seeded fault (pkvm-check faults --list); default: each trace's meta.fault, else the real model" }),
  handler: (argv) => {
    if (argv.json && (argv.diff || argv.watch)) throw new InputError("--diff and --watch are text views: not with --json");
    const watches = (argv.watch ?? []).map(parseWatch);
    const runs = argv.traces.map(readTrace).map((t) => ({ t, variant: modelOf(t, argv.fault), fault: argv.fault ?? t.meta?.fault }));
    const results = runs.map(({ t, variant }) => replay(t, { variant }));
    const under = (i: number) => (runs[i].fault === undefined ? "" : `under seeded fault ${runs[i].fault}\n`);
    const out = argv.json
      ? JSON.stringify({ traces: results.map(replayToJson) }, null, 2)
      : results.map((r, i) => `${under(i)}${replayText(r, { diff: argv.diff, watches, variant: runs[i].variant })}`).join("\n\n");
    process.stdout.write(`${out}\n`);
    process.exitCode = results.every((r) => r.ok) ? EXIT.OK : EXIT.FAILED;
  },
};
