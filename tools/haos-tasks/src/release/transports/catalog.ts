/**
 * Every release transport by name: what it does and when `auto` picks it. The name union, the
 * `transport` choice and its checks (release.transport, --transport), chooseTransport and the help
 * derive from this record; index.ts adds each transport's factory (the compiler asks for one per
 * name). This module imports nothing, so the configuration can check names against it without an
 * import cycle (the factories import the planner, which imports the configuration's types).
 */
export interface TransportInfo {
  /** What it does, for the help: `git (…) or github (…)`. */
  describe: string;
  /** When `auto` picks it (absent: only when chosen by name, or as the fallback). */
  auto?: {
    /** For the help: `auto picks github <when>, else git`. */
    when: string;
    picks(env: NodeJS.ProcessEnv, reachesGitHub: boolean): boolean;
  };
}

export const transportCatalog = {
  git: { describe: "local commit, annotated tags, push" },
  github: {
    describe: "commit through the API, so it is verified; tags through the refs API",
    auto: {
      when: "inside Actions (GITHUB_ACTIONS=true and GITHUB_TOKEN set)",
      picks: (env, reachesGitHub) => env.GITHUB_ACTIONS === "true" && reachesGitHub,
    },
  },
} as const satisfies Record<string, TransportInfo>;

export type TransportName = keyof typeof transportCatalog;
export type TransportChoice = "auto" | TransportName;

/** What `auto` picks when no transport's `auto` condition holds. */
export const fallbackTransport: TransportName = "git";

export const transportNames = Object.keys(transportCatalog) as TransportName[];
export const transportChoices: readonly TransportChoice[] = ["auto", ...transportNames];

export function isTransportChoice(value: unknown): value is TransportChoice {
  return typeof value === "string" && (transportChoices as readonly string[]).includes(value);
}

/** `a`, `a or b`, `a, b or c`. */
export function oneOf(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/** The transport `auto` picks in `env`. */
export function autoTransport(env: NodeJS.ProcessEnv, reachesGitHub: boolean): TransportName {
  const info: Record<TransportName, TransportInfo> = transportCatalog;
  return transportNames.find((name) => info[name].auto?.picks(env, reachesGitHub)) ?? fallbackTransport;
}

/** The help's paragraph on transports. */
export function transportHelp(): string {
  const info: Record<TransportName, TransportInfo> = transportCatalog;
  const autos = transportNames.flatMap((name) => {
    const when = info[name].auto?.when;
    return when ? [`${name} ${when}`] : [];
  });
  return `Transport: ${oneOf(transportNames.map((name) => `${name} (${info[name].describe})`))}.
auto picks ${oneOf(autos)}, else ${fallbackTransport}.`;
}
