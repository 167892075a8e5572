import { CustomObjectsApi, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";

const widgetCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.test.haos.dev
spec:
  group: test.haos.dev
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer } } }
            status: { type: object, properties: { phase: { type: string } } }
`;

describe("test API server fixture (real etcd + kube-apiserver)", () => {
  let server: TestApiServer;
  beforeAll(async () => {
    server = await startTestApiServer();
    await server.installCrds([widgetCrd]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("serves a real Kubernetes 1.34 API over TLS with the CA it hands out", async () => {
    const version = await server.kubectl(["version", "-o", "json"]);
    expect(version.exitCode, version.stderr).toBe(0);
    const parsed = JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } };
    expect(parsed.serverVersion.gitVersion).toMatch(/^v1\.34\./);
  });

  it("installs a CRD, creates an object, and a watch sees its status update", async () => {
    await server.kubectl(["create", "namespace", "watch-test"]);
    const kc = server.adminKubeConfig();
    const api = kc.makeApiClient(CustomObjectsApi);
    const group = { group: "test.haos.dev", version: "v1", namespace: "watch-test", plural: "widgets" };
    await api.createNamespacedCustomObject({
      ...group,
      body: { apiVersion: "test.haos.dev/v1", kind: "Widget", metadata: { name: "w1" }, spec: { size: 1 } },
    });

    const seen = new Promise<string>((resolve, reject) => {
      const watch = new Watch(kc);
      void watch
        .watch(
          "/apis/test.haos.dev/v1/namespaces/watch-test/widgets",
          {},
          (type, obj: { status?: { phase?: string } }) => {
            if (type === "MODIFIED" && obj.status?.phase === "Ready") resolve(obj.status.phase);
          },
          (err) => {
            if (err) reject(err);
          },
        )
        .then(async (req) => {
          await api.patchNamespacedCustomObjectStatus({
            ...group,
            name: "w1",
            body: [{ op: "add", path: "/status", value: { phase: "Ready" } }],
          });
          await seen.finally(() => req.abort());
        }, reject);
    });
    await expect(seen).resolves.toBe("Ready");
  });

  it("enforces RBAC: a ServiceAccount without a Role gets 403, with the Role it succeeds", async () => {
    const sa = await server.serviceAccount("rbac-test", "reader");
    const denied = await server.kubectl(["get", "widgets.test.haos.dev", "-n", "rbac-test"], {
      kubeconfig: sa.kubeconfigPath,
    });
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toContain("Forbidden");
    expect(denied.stderr).toContain("system:serviceaccount:rbac-test:reader");

    const rbac = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: widget-reader, namespace: rbac-test }
rules:
  - apiGroups: [test.haos.dev]
    resources: [widgets]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: widget-reader, namespace: rbac-test }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: widget-reader }
subjects:
  - { kind: ServiceAccount, name: reader, namespace: rbac-test }
`;
    const applied = await server.kubectl(["apply", "-f", "-"], { input: rbac });
    expect(applied.exitCode, applied.stderr).toBe(0);
    const allowed = await server.kubectl(["get", "widgets.test.haos.dev", "-n", "rbac-test"], {
      kubeconfig: sa.kubeconfigPath,
    });
    expect(allowed.exitCode, allowed.stderr).toBe(0);
  });

  it("survives a kube-apiserver restart with its state in etcd", async () => {
    await server.restartApiServer();
    const got = await server.kubectl([
      "get",
      "widget",
      "w1",
      "-n",
      "watch-test",
      "-o",
      "jsonpath={.status.phase}",
    ]);
    expect(got.exitCode, got.stderr).toBe(0);
    expect(got.stdout).toBe("Ready");
  });
});
