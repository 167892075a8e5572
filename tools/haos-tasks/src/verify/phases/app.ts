import type { AppProbe, PhaseDefinition, Verdict } from "./types.ts";

/** The paths a fresh or logged-out Home Assistant redirects its front page to. */
const homeAssistantRedirectPaths = new Set(["/onboarding.html", "/auth/authorize"]);

/**
 * Whether a redirect stays on the probed server and goes to Home Assistant's onboarding or login.
 * A relative Location always stays; an absolute one only with the request's origin (without
 * `requestUrl` it cannot be compared, so it does not count): a router or identity provider
 * redirecting elsewhere must not pass for Home Assistant.
 */
function isHomeAssistantRedirect(location: string | undefined, requestUrl: string | undefined): boolean {
  if (!location) return false;
  const sentinel = "http://probed.invalid";
  let base: URL;
  let target: URL;
  try {
    base = new URL(requestUrl ?? sentinel);
    target = new URL(location, base);
  } catch {
    return false;
  }
  return target.origin === base.origin && homeAssistantRedirectPaths.has(target.pathname);
}

/**
 * Whether an HTTP answer comes from Home Assistant: its frontend page (title "Home Assistant",
 * or the `<home-assistant>` element the page boots), or the same-origin redirect to onboarding /
 * login a fresh instance gives (Home Assistant answers `/` with `Location: /onboarding.html`).
 * `requestUrl` is the URL probed, to tell a same-origin absolute Location from a foreign one.
 */
export function looksLikeHomeAssistant(
  status: number,
  location: string | undefined,
  body: string,
  requestUrl?: string,
): boolean {
  if (status >= 300 && status < 400) return isHomeAssistantRedirect(location, requestUrl);
  if (status !== 200) return false;
  // Only the page's own markers: a word such as `ha-launch-screen` in someone else's page is not one.
  return /<title>\s*Home Assistant\s*<\/title>/i.test(body) || /<home-assistant[\s>]/.test(body);
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
