import { looksLikeHomeAssistant } from "./phases/app.ts";
import type { AppProbe } from "./phases/types.ts";

/**
 * One HTTP GET of the Home Assistant page, judged by looksLikeHomeAssistant. Redirects are not
 * followed: a fresh instance answers with a redirect to onboarding, which already proves it.
 */
export async function probeApp(url: string, timeout: number): Promise<AppProbe> {
  // AbortSignal.timeout takes whole milliseconds only (a fraction throws ERR_OUT_OF_RANGE).
  const timeoutMs = Math.max(1, Math.ceil(timeout));
  const started = Date.now();
  try {
    const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.text()).slice(0, 64 * 1024);
    const ok = looksLikeHomeAssistant(
      response.status,
      response.headers.get("location") ?? undefined,
      body,
      url,
    );
    return {
      url,
      status: response.status,
      looksLikeHomeAssistant: ok,
      ...(ok ? {} : { reason: "the answer does not look like Home Assistant" }),
      durationMs: Date.now() - started,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (error as { name?: string }).name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error)));
    return { url, looksLikeHomeAssistant: false, reason, durationMs: Date.now() - started };
  }
}
