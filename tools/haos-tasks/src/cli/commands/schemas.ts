import path from "node:path";
import { HintedError, isSystemError } from "../../errors.ts";
import type { PhaseEvent } from "../../phases.ts";
import type { EnsuredCatalog } from "../../schemas/catalog.ts";
import { toolsRepoRoot } from "../../tools/paths.ts";
import {
  type Command,
  type CommandIO,
  ExitCode,
  formatOption,
  helpOption,
  internalExitText,
  UsageError,
} from "../command.ts";

function progressLine(io: CommandIO): (e: PhaseEvent) => void {
  return (e) => io.stderr(`[${(e.elapsed / 1000).toFixed(1)}s] ${e.phase}: ${e.detail}\n`);
}

function summary(catalog: EnsuredCatalog, seconds: number, cozystack: string | undefined): string {
  const lines = catalog.synced
    ? [
        `schemas sync: ${catalog.stats?.sourcesVerified ?? 0} sources verified, ${catalog.kinds.size} schemas written in ${seconds.toFixed(1)} s`,
      ]
    : [
        `schemas sync: catalog ${catalog.key} is up to date (${catalog.kinds.size} schemas); --force rebuilds it`,
      ];
  if (cozystack) lines.push(`  cozystack: ${cozystack}`);
  for (const note of catalog.stats?.notes ?? []) lines.push(`  note: ${note}`);
  lines.push(`  catalog:  ${catalog.dir}`, `  kubeconform -schema-location '${catalog.location}'`);
  return `${lines.join("\n")}\n`;
}

export const schemasSyncCommand: Command = {
  path: ["schemas", "sync"],
  summary: "Fetch pinned upstream schemas (or read a mirror), verify sha256, convert for kubeconform",
  usage:
    "haos-tasks schemas sync [--app <dir>] [--mirror <dir>] [--from-cluster] [--force] [--format text|json]",
  details: [
    "Reads the app's platform.yaml to select the sources of the declared versions (CozyStack line",
    "included), verifies each against tools/haos-tasks/schemas.lock.json and writes the strict",
    "kubeconform catalog to <cache>/schemas/<key>/ (atomically). validate runs it by itself when the",
    "catalog is missing or stale. <cache> is the user cache directory: HAOS_TASKS_CACHE_DIR, else",
    "$XDG_CACHE_HOME/haos-tasks, else ~/.cache/haos-tasks (<cache>/schemas, <cache>/sources).",
    "",
    "exit codes: 0 synced or up to date; 2 a sha256 mismatch, a missing mirror file, bad usage or I/O;",
    `${internalExitText}.`,
  ].join("\n"),
  examples: [
    "haos-tasks schemas sync                              # download, verify, convert",
    "haos-tasks schemas sync --mirror /srv/upstream       # offline, from a mirror",
    "haos-tasks schemas sync --from-cluster --force       # CRDs of the current cluster too",
  ],
  options: {
    ...helpOption,
    app: {
      type: "string",
      valueName: "dir",
      description: "App folder holding platform.yaml.",
      default: "apps/haos-enigma",
    },
    mirror: {
      type: "string",
      valueName: "dir",
      description: "Read sources from a mirror directory (env HAOS_TASKS_SCHEMA_MIRROR).",
    },
    "from-cluster": {
      type: "boolean",
      description: "Convert the live cluster's CRDs instead ($KUBECONFIG / ~/.kube/config).",
    },
    force: { type: "boolean", description: "Rebuild the catalog even when it is up to date." },
    format: { type: "string", valueName: "text|json", description: "Output format.", default: "text" },
  },
  async run(args, io) {
    const format = formatOption(args.values.format, ["text", "json"] as const, "text");
    if (
      args.values["from-cluster"] &&
      (args.values.mirror !== undefined || args.values.app !== "apps/haos-enigma")
    ) {
      throw new UsageError("--from-cluster reads the cluster's CRDs: drop --mirror and --app");
    }
    const started = Date.now();
    const onProgress = progressLine(io);
    let catalog: EnsuredCatalog;
    let cozystack: string | undefined;
    try {
      if (args.values["from-cluster"]) {
        // Loaded on demand: @kubernetes/client-node would slow every CLI start.
        const { syncFromCluster } = await import("../../schemas/from-cluster.ts");
        catalog = await syncFromCluster({ onProgress, env: io.env });
      } else {
        const app = String(args.values.app ?? "apps/haos-enigma");
        const [{ loadPlatform }, { ensureSchemaCatalog }] = await Promise.all([
          import("../../platform/platform.ts"),
          import("../../schemas/catalog.ts"),
        ]);
        const platform = await loadPlatform(path.resolve(io.cwd, app), toolsRepoRoot);
        cozystack = String(platform.versions.cozystack);
        const mirror = typeof args.values.mirror === "string" ? args.values.mirror : undefined;
        catalog = await ensureSchemaCatalog({
          platform,
          ...(mirror ? { mirror: path.resolve(io.cwd, mirror) } : {}),
          force: Boolean(args.values.force),
          onProgress,
          env: io.env,
        });
      }
    } catch (error) {
      // A bug goes on to the CLI's edge (its stack, ExitCode.internal).
      if (!(error instanceof HintedError || isSystemError(error))) throw error;
      const hint = error instanceof HintedError && error.hint ? error.hint : undefined;
      io.stderr(`error: ${error.message}\n${hint ? `  fix: ${hint}\n` : ""}`);
      io.stderr("  nothing was written: the previous catalog (if any) is unchanged\n");
      if (format === "json") {
        io.stdout(`${JSON.stringify({ ok: false, error: error.message, hint }, null, 2)}\n`);
      }
      return error instanceof HintedError ? error.exitCode : ExitCode.usage;
    }
    const seconds = (Date.now() - started) / 1000;
    if (format === "json") {
      const result = {
        ok: true,
        synced: catalog.synced,
        key: catalog.key,
        dir: catalog.dir,
        location: catalog.location,
        cozystack,
        sourcesVerified: catalog.stats?.sourcesVerified ?? 0,
        schemas: catalog.kinds.size,
        notes: catalog.stats?.notes ?? [],
        seconds,
      };
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      io.stdout(summary(catalog, seconds, cozystack));
    }
    return ExitCode.ok;
  },
};
