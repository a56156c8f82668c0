// `pkvm-check list [--config NAME] [--coverage]`: the built-in configs, the actions and the
// properties, each with one line. With --config, that config in full and only the actions it
// allows; with --coverage, the branches each world's exhaustive search never takes.

import type { CommandModule } from "yargs";
import { ACTIONS } from "../../model/actions.js";
import { InputError } from "../../model/config.js";
import { PROPERTIES, TEMPORAL_PROPERTIES } from "../../properties/registry.js";
import { World } from "../../model/world.js";
import { describeAlphabet } from "../alphabet.js";
import { proofStanding } from "../smt/scope.js";
import { BUILTIN_CONFIGS, builtinConfig, resolveConfig } from "../configs.js";
import { deadBranchLines } from "../report/dead-branches.js";
import { EXIT } from "./exit.js";

interface ListArgs {
  config?: string;
  coverage: boolean;
  "time-limit": number;
}

/** `  name  description`, names padded to one column. */
function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, doc]) => `  ${name.padEnd(width)}  ${doc}`);
}

function configLines(name?: string): { lines: string[]; memcache: boolean } {
  if (name === undefined) {
    return { lines: table(BUILTIN_CONFIGS.map((c) => [c.name, c.description])), memcache: true };
  }
  const { config } = resolveConfig(name);
  const doc = builtinConfig(name)?.description ?? "read from a file";
  const rows = describeAlphabet(new World(config));
  const total = rows.reduce((n, r) => n + r.steps, 0);
  return {
    lines: [
      `  ${name}  ${doc}`,
      `    ${JSON.stringify(config)}`,
      "",
      `Alphabet of ${name}: ${total} steps tried in every state by the explorers (hyp_donate_host only with --allow-internal):`,
      ...table(rows.map((r) => [`${r.action} x${r.steps}`, r.domains])),
    ],
    memcache: config.memcache,
  };
}

export const listCommand: CommandModule<object, ListArgs> = {
  command: "list",
  describe: "list the built-in configs, the actions and the properties",
  builder: (y) =>
    y
      .option("config", { type: "string", describe: "show this config (a built-in name or a JSON file) in full" })
      .option("coverage", { type: "boolean", default: false, describe: "search each built-in world (or --config) exhaustively and show the branches it never takes" })
      .option("time-limit", { type: "number", default: 60, describe: "with --coverage: seconds of search per world" }),
  handler: (argv) => {
    const configs = configLines(argv.config);
    const actions = ACTIONS.filter((a) => configs.memcache || !a.memcacheOnly);
    const lines = [
      "Configs:",
      ...configs.lines,
      "",
      "Actions:",
      ...table(actions.map((a) => [`${a.name}(${a.args.join(", ")})`, a.doc])),
      "",
      "Properties:",
      ...table([
        ...PROPERTIES.map((p): [string, string] => [p.id, `[${proofStanding(p.id)}]  ${p.description}`]),
        ...TEMPORAL_PROPERTIES.map((p): [string, string] => [p.id, `[temporal: ${p.kind}, exhaustive search only]  ${p.description}`]),
      ]),
    ];
    if (argv.coverage) {
      const seconds = argv["time-limit"];
      if (!(seconds > 0)) throw new InputError(`--time-limit: expected a positive number of seconds, got ${seconds}`);
      const worlds = argv.config === undefined ? BUILTIN_CONFIGS.map((c) => resolveConfig(c.name)) : [resolveConfig(argv.config)];
      lines.push("", ...deadBranchLines(worlds, seconds * 1000));
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    process.exitCode = EXIT.OK;
  },
};
