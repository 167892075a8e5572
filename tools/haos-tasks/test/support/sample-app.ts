/** A small Flux-style app for diff tests: a base with a ConfigMap and a Secret, and a prod overlay using it. */
export const sampleApp = {
  "apps/demo/base/kustomization.yaml": "resources:\n  - configmap.yaml\n  - secret.yaml\n",
  "apps/demo/base/configmap.yaml":
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: demo\ndata:\n  mode: blue\n  level: '1'\n",
  "apps/demo/base/secret.yaml":
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-credentials\n  namespace: demo\nstringData:\n  password: hunter2-base\n  user: admin\n",
  "apps/demo/overlays/prod/kustomization.yaml": "resources:\n  - ../../base\ncommonLabels:\n  env: prod\n",
  "README.md": "# scratch\n",
} as const;
