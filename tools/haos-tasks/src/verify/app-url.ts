/**
 * Why `value` cannot be the Home Assistant URL to probe, or undefined when it can: an absolute
 * http:// or https:// URL. Shared by the Action's `app-url` input and the CLI's `--app-url`, so a
 * typo fails at once with the name of the setting instead of as an unreachable app phase later.
 */
export function appUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an http:// or https:// URL like http://192.168.50.101:8123/ (got '${value}')`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `must be an http:// or https:// URL (got '${value}')`;
  }
  return undefined;
}
