/**
 * Flux's postBuild variable substitution (fluxcd/pkg/envsubst, a fork of drone/envsubst), as
 * kustomize-controller runs it over each rendered object's YAML:
 *   - only `${…}` is an expression (a bare `$VAR` is text); `$$` is a literal `$`, so `$${x}` stays `${x}`;
 *   - `${var}`; `${var:=default}`, `${var:-default}`, `${var=default}` give the default when the
 *     value is empty (defaults may nest `${…}`); `${var:+alt}`; `${var:?}` fails when empty;
 *     `${#var}`; `${var^}` `${var^^}` `${var,}` `${var,,}`; any other character after the name
 *     (`${var-x}`, an unclosed `${var`) fails the build as Flux's parser does ("missing closing brace");
 *   - a variable that is not set substitutes the empty string (Flux's default, non-strict mode).
 * Hand-written because no npm package implements this fork's grammar (notably: no bare `$VAR`).
 *
 * A variable this run cannot know (its ConfigMap/Secret is not in the repository, or encrypted)
 * is `unknown`: its expression is kept verbatim and reported, never guessed.
 */
export class SubstitutionError extends Error {
  /** Where the failing `${…}` starts in the text (set by envsubst). */
  offset: number | undefined;
}

export interface SubstitutionResult {
  text: string;
  /** Names whose value could not be known offline; their expressions were left in place. */
  unresolved: Set<string>;
}

const identChar = /[A-Za-z0-9_]/;

export function envsubst(
  text: string,
  vars: ReadonlyMap<string, string>,
  isUnknown: (name: string) => boolean,
): SubstitutionResult {
  const unresolved = new Set<string>();

  // Returns [value, end index after the closing brace]; `start` points after `${`.
  const expression = (start: number): [string, number] => {
    let i = start;
    if (text[i] === "#") {
      i++;
      const nameStart = i;
      while (i < text.length && identChar.test(text[i] ?? "")) i++;
      const name = text.slice(nameStart, i);
      if (!name || text[i] !== "}") throw new SubstitutionError("bad substitution");
      if (isUnknown(name) && !vars.has(name)) {
        unresolved.add(name);
        return [text.slice(start - 2, i + 1), i + 1];
      }
      return [String((vars.get(name) ?? "").length), i + 1];
    }
    const nameStart = i;
    while (i < text.length && identChar.test(text[i] ?? "")) i++;
    const name = text.slice(nameStart, i);
    if (!name) throw new SubstitutionError("unable to parse variable name");
    const known = vars.has(name) || !isUnknown(name);
    const value = vars.get(name) ?? "";
    // The argument (up to the matching `}`), substituted itself.
    const argument = (from: number): [string, number] => {
      let out = "";
      let j = from;
      while (j < text.length && text[j] !== "}") {
        if (text[j] === "$" && text[j + 1] === "$") {
          out += "$";
          j += 2;
        } else if (text[j] === "$" && text[j + 1] === "{") {
          const [v, end] = expression(j + 2);
          out += v;
          j = end;
        } else {
          out += text[j];
          j++;
        }
      }
      if (text[j] !== "}") throw new SubstitutionError("missing closing brace");
      return [out, j + 1];
    };
    const verbatim = (end: number): [string, number] => {
      unresolved.add(name);
      return [text.slice(start - 2, end), end];
    };
    const op2 = text.slice(i, i + 2);
    const op1 = text[i];
    if (op1 === "}") return known ? [value, i + 1] : verbatim(i + 1);
    if (op2 === ":=" || op2 === ":-" || op1 === "=") {
      const [fallback, end] = argument(i + (op1 === "=" ? 1 : 2));
      if (!known) return verbatim(end);
      return [value === "" ? fallback : value, end];
    }
    if (op2 === ":+") {
      const [alternative, end] = argument(i + 2);
      if (!known) return verbatim(end);
      return [value === "" ? "" : alternative, end];
    }
    if (op2 === ":?") {
      const [message, end] = argument(i + 2);
      if (!known) return verbatim(end);
      if (value === "") throw new SubstitutionError(`${name}: ${message || "parameter null or not set"}`);
      return [value, end];
    }
    if (op2 === "^^" || op2 === ",,") {
      if (text[i + 2] !== "}") throw new SubstitutionError("bad substitution");
      if (!known) return verbatim(i + 3);
      return [op2 === "^^" ? value.toUpperCase() : value.toLowerCase(), i + 3];
    }
    if (op1 === "^" || op1 === ",") {
      if (text[i + 1] !== "}") throw new SubstitutionError("bad substitution");
      if (!known) return verbatim(i + 2);
      const first = value.slice(0, 1);
      return [(op1 === "^" ? first.toUpperCase() : first.toLowerCase()) + value.slice(1), i + 2];
    }
    if (op1 !== ":" && op1 !== "/" && op1 !== "#" && op1 !== "%") {
      throw new SubstitutionError(`missing closing brace after \${${name}`);
    }
    // Substrings, pattern removal and replacement: evaluated by Flux, not here. The field keeps
    // the expression and is reported as unresolved rather than judged on a guess.
    let end = i;
    let depth = 0;
    while (end < text.length && text[end] !== "\n" && (text[end] !== "}" || depth > 0)) {
      if (text[end] === "$" && text[end + 1] === "{") depth++;
      else if (text[end] === "}") depth--;
      end++;
    }
    if (text[end] !== "}") throw new SubstitutionError(`missing closing brace after \${${name}`);
    return verbatim(end + 1);
  };

  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "$" && text[i + 1] === "$") {
      out += "$";
      i += 2;
    } else if (c === "$" && text[i + 1] === "{") {
      let value: string;
      let end: number;
      try {
        [value, end] = expression(i + 2);
      } catch (error) {
        if (error instanceof SubstitutionError) error.offset ??= i;
        throw error;
      }
      out += value;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, unresolved };
}
