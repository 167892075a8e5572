import { describe, expect, it } from "vitest";
import {
  hasParseErrors,
  lazySourceFile,
  parsePointer,
  parseSourceFile,
  pointerExists,
  pointerPosition,
  releaseAst,
  type SourceDocument,
  toPointer,
} from "./yaml-source.ts";

const text = [
  "apiVersion: v1", // 1
  "kind: ConfigMap", // 2
  "metadata:", // 3
  "  name: demo", // 4
  "data:", // 5
  "  a/b: x", // 6
  "  list:", // 7
  "    - first", // 8
  "    - name: second", // 9
  "      value: 2", // 10
  "---", // 11
  "kind: Second", // 12
].join("\n");

describe("pointerPosition", () => {
  const source = parseSourceFile(text, "cm.yaml");
  const doc = source.documents[0];
  if (!doc) throw new Error("no document");

  it.each([
    ["", 1, 1],
    ["/metadata", 3, 1],
    ["/metadata/name", 4, 3],
    ["/data/a~1b", 6, 3],
    ["/data/list/0", 8, 7],
    ["/data/list/1/value", 10, 7],
    // Missing paths land on the nearest existing ancestor.
    ["/metadata/labels/app", 3, 1],
    ["/data/list/7", 7, 3],
  ])("%s → %i:%i", (pointer, line, column) => {
    expect(pointerPosition(source, doc, pointer)).toEqual({ line, column });
  });

  it("positions of the second document count lines from the file start", () => {
    const second = source.documents[1];
    if (!second) throw new Error("no second document");
    expect(pointerPosition(source, second, "/kind")).toEqual({ line: 12, column: 1 });
  });

  it("tells whether a pointer exists", () => {
    expect(pointerExists(doc, "/data/list/1/name")).toBe(true);
    expect(pointerExists(doc, "/data/list/1/nope")).toBe(false);
  });
});

describe("JSON pointers", () => {
  it("round-trips escaped segments", () => {
    expect(parsePointer(toPointer(["a/b", "c~d", 0]))).toEqual(["a/b", "c~d", "0"]);
    expect(parsePointer("")).toEqual([]);
  });
});

describe("parseSourceFile", () => {
  it("never throws on broken YAML and reports the error on the document", () => {
    const source = parseSourceFile("a: [1, 2\nb: {", "bad.yaml");
    expect(source.documents[0]?.ast.errors.length).toBeGreaterThan(0);
    expect(source.documents[0]?.value).toBeUndefined();
  });

  it("reads YAML 1.2 like Kubernetes: yes stays a string", () => {
    expect(parseSourceFile("a: yes\nb: true", "x.yaml").documents[0]?.value).toEqual({ a: "yes", b: true });
  });
});

describe("lazySourceFile and releaseAst", () => {
  it("parses on first use and gives the same positions after the AST was released", () => {
    const lazy = lazySourceFile(text, "cm.yaml");
    const eager = parseSourceFile(text, "cm.yaml");
    const doc = lazy.documents[0] as SourceDocument;
    const before = pointerPosition(lazy, doc, "/data/list/1/value");
    const value = doc.value;
    releaseAst(lazy);
    expect(hasParseErrors(doc)).toBe(false);
    expect(doc.value).toBe(value);
    expect(pointerPosition(lazy, doc, "/data/list/1/value")).toEqual(before);
    expect(before).toEqual(
      pointerPosition(eager, eager.documents[0] as SourceDocument, "/data/list/1/value"),
    );
  });

  it("keeps parse errors known without parsing again", () => {
    const broken = lazySourceFile("a: [1, 2\n", "bad.yaml");
    const doc = broken.documents[0] as SourceDocument;
    releaseAst(broken);
    expect(hasParseErrors(doc)).toBe(true);
    expect(doc.ast.errors.length).toBeGreaterThan(0);
  });
});
