import { describe, expect, it } from "vitest";
import type { BuiltResource } from "../manifests/kustomize-build.ts";
import { resourcesOf } from "../manifests/resources.ts";
import type { Workspace } from "../manifests/workspace.ts";
import { parseSourceFile, type SourceFile } from "../manifests/yaml-source.ts";
import { builtSubjects, SourceFiles, traceSource } from "./subjects.ts";

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

  // Issue 26: a kind found in two apiVersions at one name (two groups' `Grafana`, a HelmRelease
  // v2beta2 beside its v2) was traced to the first document of that kind, whatever its version.
  it("tells apart objects that share kind, name and namespace by their apiVersion", () => {
    const doc = (apiVersion: string) =>
      `apiVersion: ${apiVersion}\nkind: Grafana\nmetadata:\n  name: grafana\n  namespace: observability\n`;
    const text = `${doc("grafana.integreatly.org/v1beta1")}---\n${doc("generators.external-secrets.io/v1alpha1")}`;
    const grafana = (apiVersion: string): BuiltResource => ({
      ...built("grafana", "observability"),
      apiVersion,
      kind: "Grafana",
    });
    expect(lineOf(grafana("grafana.integreatly.org/v1beta1"), text)).toBe(1);
    expect(lineOf(grafana("generators.external-secrets.io/v1alpha1"), text)).toBe(7);
    // A version no document has (a patch changed it): still the document of that kind and name.
    expect(lineOf(grafana("grafana.integreatly.org/v1"), text)).toBe(1);
  });
});

describe("builtSubjects", () => {
  const text = `${service("web", "a")}---\n${service("web", "b")}`;
  /** A workspace of app/svc.yaml, counting how often its documents are read. */
  const workspace = () => {
    const counter = { reads: 0 };
    const source = new Proxy(parseSourceFile(text, "app/svc.yaml"), {
      get(target, key, receiver) {
        if (key === "documents") counter.reads++;
        return Reflect.get(target, key, receiver);
      },
    }) as SourceFile;
    const files = new Map([["app/svc.yaml", source]]);
    const ws: Workspace = { root: "/nowhere", targets: ["."], files, kustomizationDirs: [], problems: [] };
    return { files: new SourceFiles(ws), counter };
  };

  it("reads the source document of a workspace file only when its position is asked for", async () => {
    const { files, counter } = workspace();
    const [subject] = await builtSubjects([built("web", "b")], files);
    expect(subject?.file).toBe("app/svc.yaml");
    expect(counter.reads).toBe(0);
    expect(subject?.resource?.doc.start.line).toBe(7);
    expect(counter.reads).toBeGreaterThan(0);
  });

  it("traces at once when a generator configured the object: the trace decides its file", async () => {
    const { files, counter } = workspace();
    const generated = { ...built("web", "b"), configuredIn: "app/kustomization.yaml" };
    const [subject] = await builtSubjects([generated], files);
    expect(counter.reads).toBeGreaterThan(0);
    expect(subject?.file).toBe("app/svc.yaml");
    expect(subject?.resource?.doc.start.line).toBe(7);
  });
});
