/**
 * Text from outside (commit subjects, server messages) made inert wherever it lands — a terminal,
 * a CHANGELOG, a GitHub release body: C0 and C1 control characters other than newline and tab (ESC
 * sequences that recolour, move the cursor, retitle the window or clear the screen, BEL, CR,
 * NUL …) are written as visible `\x1b`-style escapes instead of being carried raw.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(controlCharacters, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const controlCharacters = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
