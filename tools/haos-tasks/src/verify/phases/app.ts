import type { AppProbe, PhaseDefinition, Verdict } from "./types.ts";

/**
 * Whether an HTTP answer comes from Home Assistant: its frontend page (title "Home Assistant"),
 * or the redirect to onboarding / login a fresh instance gives.
 */
export function looksLikeHomeAssistant(status: number, location: string | undefined, body: string): boolean {
  if (status >= 300 && status < 400) return /\/(onboarding\.html|auth\/authorize)/.test(location ?? "");
  if (status !== 200) return false;
  return (
    /<title>\s*Home Assistant\s*<\/title>/i.test(body) || /home-assistant-main|ha-launch-screen/.test(body)
  );
}

/** app: the Home Assistant page answers. */
export function evaluateApp(probe: AppProbe | undefined, url: string): Verdict {
  if (!probe) return { state: "waiting", detail: `probing ${url}` };
  if (probe.looksLikeHomeAssistant) {
    return {
      state: "done",
      detail: `Home Assistant answered at ${probe.url} (HTTP ${probe.status}, ${probe.durationMs} ms)`,
    };
  }
  return {
    state: "waiting",
    detail: `${probe.url}: ${probe.status !== undefined ? `HTTP ${probe.status}, ` : ""}${probe.reason ?? "not Home Assistant"}`,
  };
}

/** The app phase; the engine feeds it probes of `url`. */
export function appPhase(url: string): PhaseDefinition {
  return { name: "app", reads: [], evaluate: ({ probe }) => evaluateApp(probe, url) };
}
