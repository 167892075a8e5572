import { describe, expect, it } from "vitest";
import type { BuiltResource } from "../manifests/kustomize-build.ts";
import { resourcesOf } from "../manifests/resources.ts";
import { parseSourceFile } from "../manifests/yaml-source.ts";
import { traceSource } from "./subjects.ts";

const service = (name: string, namespace?: string) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}`;

const built = (name: string, namespace: string): BuiltResource => ({
  apiVersion: "v1",
  kind: "Service",
  name,
  namespace,
  object: {},
  build: "app",
  origin: "app/svc.yaml",
  configuredIn: undefined,
});

const lineOf = (b: BuiltResource, text: string) => {
  const found = traceSource(b, resourcesOf(parseSourceFile(text, "app/svc.yaml")));
  return found?.doc.start.line;
};

describe("traceSource", () => {
  const twoNamespaces = `${service("web", "a")}---\n${service("web", "b")}`;

  it("tells apart objects that share kind and name by their namespace", () => {
    expect(lineOf(built("web", "a"), twoNamespaces)).toBe(1);
    expect(lineOf(built("web", "b"), twoNamespaces)).toBe(7);
  });

  it("does so for names kustomize prefixed too", () => {
    expect(lineOf(built("x-web", "b"), twoNamespaces)).toBe(7);
  });

  it("takes the document without a namespace when kustomize set it", () => {
    expect(lineOf(built("web", "c"), `${service("web", "a")}---\n${service("web")}`)).toBe(7);
  });
});
