import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isCollection, isScalar, Scalar, visit } from "yaml";
import { generateRepo } from "../../bench/validate.bench.ts";
import { lintStyle } from "../lint/style.ts";
import { resolveMirror } from "../schemas/sources.ts";
import { toolsRepoRoot } from "../tools/paths.ts";
import { parseSimpleYaml, resolvePlain } from "./simple-yaml.ts";
import { parseSourceFile, pointerPosition } from "./yaml-source.ts";

/** Every YAML file under `dir` (no node_modules, no dot folders but .github). */
function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || (entry.startsWith(".") && entry !== ".github")) continue;
    const full = path.join(dir, entry);
    const stat = statSync(full);
    if (stat.isDirectory()) yamlFiles(full, out);
    else if (/\.ya?ml$/.test(entry) || entry === "Kustomization") out.push(full);
  }
  return out;
}

const benchRepo = mkdtempSync(path.join(os.tmpdir(), "simple-yaml-"));
generateRepo(benchRepo, 3);
afterAll(() => rmSync(benchRepo, { recursive: true, force: true }));

// The upstream files (CRDs, chart values and templates) through the mirror, when this machine has it.
const mirror = resolveMirror(undefined, process.env);
const corpus = [
  ...(mirror ? yamlFiles(mirror) : []),
  ...yamlFiles(path.join(toolsRepoRoot, "apps")),
  ...yamlFiles(path.join(toolsRepoRoot, "tools", "haos-tasks", "test")),
  ...yamlFiles(path.join(toolsRepoRoot, ".github")),
  ...yamlFiles(benchRepo),
].map((file) => ({ file: path.relative(toolsRepoRoot, file), text: readFileSync(file, "utf8") }));

/** A fixed-seed generator of integers below n: the same mutations and documents every run. */
function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
}

/** The facts the `yaml` library gives for a file, in the fast path's terms. */
function reference(text: string) {
  const source = parseSourceFile(text, "f.yaml", { fast: false });
  const booleans: { raw: string; offset: number }[] = [];
  // The lines walkContinuations (lint/whitespace.ts) marks, the non-empty ones (only those matter).
  const continuation = new Set<number>();
  const lines = text.split("\n");
  const mark = (range: readonly number[] | null | undefined) => {
    if (!range) return;
    const first = source.lineCounter.linePos(range[0] as number).line;
    const last = source.lineCounter.linePos(Math.max(range[0] as number, (range[1] as number) - 1)).line;
    for (let l = first + 1; l <= last; l++) if ((lines[l - 1] ?? "") !== "") continuation.add(l);
  };
  for (const doc of source.documents) {
    visit(doc.ast, {
      Scalar(key, node) {
        mark(node.range);
        if (key === "key" || !isScalar(node) || node.type !== Scalar.PLAIN) return;
        const raw = node.source ?? String(node.value);
        if (/^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(raw))
          booleans.push({ raw, offset: node.range?.[0] ?? -1 });
      },
      Map(_, node) {
        if (node.flow) mark(node.range);
      },
      Seq(_, node) {
        if (node.flow) mark(node.range);
      },
    });
  }
  return {
    source,
    errors: source.documents.flatMap((d) => d.ast.errors.map((e) => e.code)),
    values: source.documents.map((d) => d.value),
    starts: source.documents.map((d) => d.ast.contents?.range[0] ?? d.ast.range[0]),
    docStart: source.documents.map((d) => d.ast.directives.docStart === true),
    collections: source.documents.map((d) => isCollection(d.ast.contents)),
    empty: source.documents.map((d) => d.empty),
    lineStarts: source.lineCounter.lineStarts,
    booleans: booleans.sort((a, b) => a.offset - b.offset),
    continuation: [...continuation].sort((a, b) => a - b),
  };
}

/** When the fast path answers, it answers what the `yaml` library does; returns whether it answered. */
function agrees(text: string, label: string): boolean {
  const fast = parseSimpleYaml(text);
  if (!fast) return false;
  const ref = reference(text);
  const where = `${label}\n${text}`;
  expect(ref.errors, where).toEqual([]);
  expect(
    fast.continuation.filter((l) => (text.split("\n")[l - 1] ?? "") !== ""),
    where,
  ).toEqual(ref.continuation);
  expect(
    fast.documents.map((d) => d.value),
    where,
  ).toEqual(ref.values);
  expect(
    fast.documents.map((d) => d.start),
    where,
  ).toEqual(ref.starts);
  expect(
    fast.documents.map((d) => d.docStart),
    where,
  ).toEqual(ref.docStart);
  expect(ref.collections.every(Boolean), where).toBe(true);
  expect(ref.empty.some(Boolean), where).toBe(false);
  expect(fast.lineStarts, where).toEqual(ref.lineStarts);
  expect(
    [...fast.yaml11Booleans].sort((a, b) => a.offset - b.offset),
    where,
  ).toEqual(ref.booleans);
  // And the style rules find the same through either path, under every document-start policy.
  const viaFast = parseSourceFile(text, "f.yaml");
  expect(viaFast.simple, where).toBeDefined();
  for (const documentStart of ["allow", "require", "forbid"] as const) {
    expect(lintStyle(viaFast, { indentation: 2, documentStart }), where).toEqual(
      lintStyle(ref.source, { indentation: 2, documentStart }),
    );
  }
  return true;
}

describe("parseSimpleYaml", () => {
  it("reads what the yaml library reads, on every YAML file of the repository and the benchmark's apps", () => {
    let answered = 0;
    for (const { file, text } of corpus) if (agrees(text, file)) answered++;
    process.stdout.write(
      `simple-yaml: the fast path read ${answered} of ${corpus.length} files of the corpus${mirror ? " (the upstream mirror's among them)" : " (no upstream mirror on this machine: its files are left out)"}\n`,
    );
    // The benchmark's apps are what it is for: it must read nearly all of them.
    const bench = corpus.filter((c) => c.file.includes(path.basename(benchRepo)));
    const benchRead = bench.filter((c) => parseSimpleYaml(c.text) !== undefined).length;
    expect(benchRead).toBeGreaterThanOrEqual(bench.length - 1);
    expect(answered).toBeGreaterThan(corpus.length / 3);
  }, 60_000);

  it("never disagrees with the yaml library on mutated files (cut, inserted and re-indented text)", () => {
    const random = seeded(15);
    const inserts = [
      " ",
      ":",
      ": ",
      "-",
      "- ",
      "#",
      " #",
      '"',
      "'",
      "[",
      "]",
      "{",
      "}",
      ",",
      "\n",
      "\n  ",
      "yes",
      "0x1F",
      "~",
      "&a",
      "*a",
      "!!str ",
      "---\n",
      "---",
      "|",
      "? ",
      "%",
      "...",
    ];
    let answered = 0;
    let tried = 0;
    // Files the fast path reads, up to 20 kB each (a mutated 1 MB CRD costs seconds, teaches no more).
    const sources = corpus.filter((c) => c.text.length <= 20_000 && parseSimpleYaml(c.text) !== undefined);
    for (const { file, text } of sources) {
      for (let k = 0; k < 12; k++) {
        const at = random(text.length + 1);
        let variant: string;
        const kind = random(4);
        if (kind === 0) variant = text.slice(0, at) + text.slice(at + 1 + random(3));
        else if (kind === 1) variant = text.slice(0, at) + inserts[random(inserts.length)] + text.slice(at);
        else {
          const lines = text.split("\n");
          const line = random(lines.length);
          if (kind === 2) lines[line] = " ".repeat(1 + random(3)) + lines[line];
          else lines.splice(line, 0, lines[random(lines.length)] as string);
          variant = lines.join("\n");
        }
        tried++;
        if (agrees(variant, `${file} (mutation ${k})`)) answered++;
      }
    }
    process.stdout.write(
      `simple-yaml: the fast path read ${answered} of ${tried} mutated files; the library read the rest\n`,
    );
    expect(answered).toBeGreaterThan(tried / 10);
  }, 60_000);

  it("never disagrees with the yaml library on generated documents (random trees, raw tricky scalars)", () => {
    const random = seeded(1015);
    const pick = <T>(list: readonly T[]): T => list[random(list.length)] as T;
    // Written unquoted on purpose: many are not plain scalars, or not strings, or not YAML at all.
    const scalars = [
      "yes",
      "No",
      "on",
      "OFF",
      "y",
      "0x1F",
      "0o17",
      "017",
      "1e3",
      "-1",
      "+1",
      ".5",
      "1.",
      "~",
      "null",
      "Null",
      "true",
      "False",
      "",
      "a#b",
      "a #b",
      "a: b",
      "a:b",
      "x:",
      "'q'",
      '"q"',
      "'a''b'",
      '"a\\nb"',
      "[a, b]",
      "[]",
      "[ ]",
      "{}",
      "{a: 1}",
      "{ a: 1, b: yes }",
      "{ name: x, ip: 10.0.0.1 }",
      "{ a: 'q', b: \"r\" }",
      "{ a: 1, a: 2 }",
      "{ a: 1, }",
      "{ a: {b: 1} }",
      "{ a: [b] }",
      "{ true: 1 }",
      "{ a:1 }",
      "{ a: 'x}y' }",
      "{ a: 1 } # c",
      "{ a: 1 }}",
      "[a, [b]]",
      '["x", y]',
      "é",
      "🚀 go",
      "@x",
      "%x",
      "`x",
      "!x",
      "&x",
      "*x",
      "|",
      ">-",
      "-",
      "- x",
      "--",
      "...",
      "#",
      "?",
      ":",
      "a,b",
      "a]b",
      "{a}",
      "a  b",
      "trail ",
      "12:30",
      "2024-01-01",
      "<<",
      "=",
      "1_000",
      ".inf",
      "-.Inf",
      ".NaN",
      "ghcr.io/x/y:1.0@sha256:ab",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Flux substitution variable, as written in manifests
      "${VAR}",
      "a{b}",
      "'unclosed",
      '"unclosed',
    ];
    const plain = [
      "app",
      "v1",
      "1",
      "nginx:1.25",
      "10Mi",
      "ClusterIP",
      "a b c",
      "x-y",
      "'quoted'",
      '"dq"',
      "[a, b]",
    ];
    const value = () => (random(3) === 0 ? pick(scalars) : pick(plain));
    const keys = [
      "a",
      "b",
      "name",
      "app.kubernetes.io/name",
      "x_y",
      "on",
      "yes",
      "true",
      "k-1",
      "__proto__",
      "<<",
      '"q"',
      "1",
      "a b",
      "(name)",
      "(a",
      "a)",
      "=(x)",
    ];
    const lines: string[] = [];
    const node = (indent: number, depth: number): void => {
      const pad = " ".repeat(indent);
      if (depth > 3 || random(3) === 0) return; // caller writes a scalar
      if (random(2) === 0) {
        for (let i = 0, n = 1 + random(3); i < n; i++) {
          const key = pick(keys);
          if (random(2) === 0) {
            lines.push(`${pad}${key}: ${value()}${random(5) === 0 ? " # c" : ""}`);
          } else {
            lines.push(`${pad}${key}:`);
            const step = pick([0, 2, 2, 4, 1]);
            const before = lines.length;
            node(indent + step, depth + 1);
            if (lines.length === before) lines[lines.length - 1] += ` ${value()}`;
          }
          if (random(8) === 0) lines.push(random(2) === 0 ? "" : `${" ".repeat(random(6))}# note`);
        }
      } else {
        for (let i = 0, n = 1 + random(3); i < n; i++) {
          if (random(2) === 0) lines.push(`${pad}- ${value()}`);
          else {
            lines.push(`${pad}- ${pick(keys)}: ${value()}`);
            if (random(2) === 0)
              lines.push(`${pad}${" ".repeat(pick([2, 2, 3, 1]))}${pick(keys)}: ${value()}`);
          }
        }
      }
    };
    let answered = 0;
    const tries = 4000;
    for (let t = 0; t < tries; t++) {
      lines.length = 0;
      if (random(4) === 0) lines.push("---");
      node(0, 0);
      if (lines.length === 0) lines.push(`a: ${value()}`);
      if (random(5) === 0) lines.push("---", `b: ${value()}`);
      if (agrees(`${lines.join("\n")}\n`, `generated ${t}`)) answered++;
    }
    process.stdout.write(`simple-yaml: the fast path read ${answered} of ${tries} generated documents\n`);
    expect(answered).toBeGreaterThan(tries / 10);
  }, 60_000);

  it("resolves plain scalars as the core schema does", () => {
    const cases = [
      "~",
      "null",
      "Null",
      "NULL",
      "",
      "true",
      "False",
      "TRUE",
      "0o17",
      "017",
      "-0",
      "+12",
      "0x1F",
      ".inf",
      "-.Inf",
      ".NaN",
      "1e3",
      "1.5",
      ".5",
      "1.",
      "1.0.0",
      "50m",
      "64Mi",
      "yes",
      "on",
      "2024-01-01",
      "0b11",
      "1_000",
      "0x",
      "+.5e-2",
    ];
    for (const raw of cases) {
      const reference = parseSourceFile(`k: ${raw}\n`, "f.yaml", { fast: false }).documents[0]?.value as {
        k: unknown;
      };
      expect(
        Object.is(resolvePlain(raw), reference.k) ||
          (Number.isNaN(reference.k) && Number.isNaN(resolvePlain(raw))),
        raw,
      ).toBe(true);
    }
  });

  it("reads the shapes manifests are written in, as the yaml library does", () => {
    const inside = [
      "resources:\n- a.yaml\n- b.yaml\n", // an indentless sequence
      "spec:\n  containers:\n    - name: app\n      ports:\n      - containerPort: 80\n        name: http\n    - name: side\n", // nested
      'rules:\n  - apiGroups: [""]\n    verbs: ["get", "list", watch]\n    empty: []\n', // one-line flow sequences
      "a: yes\nb: [on, off]\nc:\n  - no\nyes_key: 1\n", // YAML 1.1 booleans in value position
      "# head\n---\na: 1 # trailing\n---\nb: ~\nc:\nd: {}\n", // comments, documents, null, {}
      "a: 0o17\nb: 0x1F\nc: 1e3\nd: .inf\ne: 1.0.0\nf: '8080'\ng: \"x: y\"\n", // core schema
      'name: café # ünïcode, emoji 🚀\nnote: "größe"\n', // non-ASCII text
      "a: b # c: d\nurl: https://example.com/x?y=1#frag\nimage: ghcr.io/x/y:1.0@sha256:abc\n", // colons and hashes inside values
      "a: |\n  line 1\n\n    more-indented # not a comment\n  ---\nb: >-\n  folded\n  text\n\n\n  para\n# c\nc:\n  - |-\n    in a list\n  - x: >\n      deep\n", // block scalars
      "a: |\n  last\n\n\n", // trailing empty lines chomped
      "a: >-\n  end of file", // no newline at the end
      "nodes:\n  - { name: illusion, ip: 192.168.50.10, up: on }\n  - {a: 1}\nb: { c: 'd', e: \"f\" } # x\n", // one-line flow mappings
      "pattern:\n  - (name): haos-underlay\n    (a.b)/c: x\n", // Kyverno's anchor keys
      "a: &x 1\nb: *x\n", // a scalar anchor and its alias
      "env:\n  HTTP_PORT: &port 8080\nservice:\n  ports:\n    - port: *port\n      name: http\n", // app-template's idiom
      "a: &x hello # c\nb: *x # d\nc: &x 2\nd: *x\n", // comments; a name anchored again
      "- &a 'q'\n- *a\n- &b \"8080\"\n- *b\n", // quoted, in a sequence
      "a: &x 1\n---\na: &x 2\nb: *x\n", // anchors are the document's own
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux variable syntax
      "controllers:\n  ${APP}:\n    containers:\n      - ${APP}_side: 1\n  a{b}: c\n", // Flux variables as keys
    ];
    for (const text of inside) expect(agrees(text, JSON.stringify(text)), JSON.stringify(text)).toBe(true);
  });

  it("leaves to the yaml library what it does not read", () => {
    const outside = [
      "a:\tb\n", // a tab
      "a: b\r\n", // CR
      "a: b\u2028c\n", // a Unicode line separator
      "\ufeffa: 1\n", // a byte order mark
      "a: b\u0085\n", // NEL
      "a: &x\n  b: 1\nc: *x\n", // an anchor on a collection
      "a: &x [1]\nb: *x\n", // … on a flow collection
      "a: &x yes\nb: *x\n", // … on a YAML 1.1 boolean
      "a: &x |\n  text\nb: *x\n", // … on a block scalar
      "a: *x\n", // an alias of nothing
      "a: &x 1\n---\nb: *x\n", // an alias of another document's anchor
      "a: [*x]\n", // an alias in a flow collection
      "<<: *x\n", // a merge of an alias
      "&x a: 1\n", // an anchor on a key
      "a: &x\n", // an anchor on nothing
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux variable syntax
      "${A:-b}: 1\n", // a colon inside a key
      "$a: 1\n", // a key starting with $ but no variable
      "a: !!str 1\n", // tags
      "a: |+\n  text\n", // keep chomping
      "a: |2\n   text\n", // an indentation indicator
      "a: | # c\n  text\n", // a comment after the header
      "a: >\n  text\n    more\n  end\n", // a more-indented line in a folded scalar
      "a: |\n\n  text\n", // a leading empty line
      "a: |\n  text\n  \n  more\n", // a line of spaces inside
      "a: |\nb: 1\n", // an empty block scalar
      "a: b\n  c\n", // a plain scalar going on
      'a: "b\\n"\n', // escapes
      "a: {b: {c: 1}}\n", // nested flow collections
      "a: {b: 1,\n  c: 2}\n", // a flow mapping over two lines
      "a: {b: 1, }\n", // a trailing comma
      "a: {b}\n", // a key without a value
      "a: {b:1}\n", // one plain scalar `b:1`
      'a: {"b": 1}\n', // a quoted key
      "a: {b: 1, b: 2}\n", // a duplicate key
      "a: {b: c:d}\n", // a colon in a value
      '"a": 1\n', // quoted keys
      "a: 1\na: 2\n", // duplicate keys
      "a: 1\n---\n", // an empty document
      "%YAML 1.2\n---\na: 1\n", // directives
      "a: 1\n...\n", // document end
      "# only a comment\n", // no document
      "<<: {a: 1}\n", // merge keys
      "true: 1\n", // a key the core schema reads as a boolean
      "a: b: c\n", // a mapping value inside a plain scalar
      "  a: 1\n", // content not at column 0
      `${"k".repeat(1030)}: 1\n`, // a key over YAML's 1024 characters
      `- ${"k".repeat(1030)}: 1\n`,
    ];
    for (const text of outside) expect(parseSimpleYaml(text), JSON.stringify(text)).toBeUndefined();
  });

  it("gives positions the yaml library agrees with once a finding needs the AST", () => {
    const text =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  list:\n  - first\n  - name: second\n    value: 2\n";
    const fast = parseSourceFile(text, "f.yaml");
    const slow = parseSourceFile(text, "f.yaml", { fast: false });
    expect(fast.simple).toBeDefined();
    for (const pointer of ["/metadata/name", "/data/list/1/value", "/data/missing", "/kind"]) {
      expect(pointerPosition(fast, fast.documents[0] as never, pointer)).toEqual(
        pointerPosition(slow, slow.documents[0] as never, pointer),
      );
    }
  });
});
