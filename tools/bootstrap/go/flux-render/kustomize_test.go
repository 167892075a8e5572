package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.0
          env:
            - name: DOMAIN
              value: ${DOMAIN}
`

// A Flux Kustomization's spec applied by fluxcd/pkg/kustomize's Generator, and the checkout left
// untouched: no kustomization.yaml written where the path has none.
func TestKustomizeAsTheControllerBuilds(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"apps/web/deploy.yaml":                       deployYAML,
		"apps/web/svc.yaml":                          "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n",
		"components/extra/kustomization.yaml":        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - cm.yaml\n",
		"components/extra/cm.yaml":                   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
		"apps/with-kustomization/kustomization.yaml": "resources:\n  - ../web/svc.yaml\n",
	})
	resp := roundTrip(t, map[string]any{"id": 1, "op": "kustomize", "root": root, "path": "./apps/web", "spec": map[string]any{
		"targetNamespace": "web",
		"namePrefix":      "p-",
		"components":      []string{"../../components/extra"},
		"images":          []map[string]any{{"name": "nginx", "newTag": "2.0"}},
		"patches": []map[string]any{{
			"target": map[string]any{"kind": "Service"},
			"patch":  "- op: add\n  path: /metadata/annotations\n  value: {patched: \"true\"}\n",
		}},
	}})
	if resp["error"] != nil {
		t.Fatalf("build failed: %v", mustJSON(resp["error"]))
	}
	if resp["kustomization"] != "created" {
		t.Fatalf("a path without kustomization.yaml: want the generated one, got %v", resp["kustomization"])
	}
	if _, err := os.Stat(filepath.Join(root, "apps/web/kustomization.yaml")); !os.IsNotExist(err) {
		t.Fatal("the build wrote kustomization.yaml into the checkout")
	}
	byKind := map[string]map[string]any{}
	for _, r := range resp["resources"].([]any) {
		m := r.(map[string]any)
		byKind[dig(m["object"], "kind").(string)] = m
	}
	deploy, svc, cm := byKind["Deployment"], byKind["Service"], byKind["ConfigMap"]
	if deploy == nil || svc == nil || cm == nil {
		t.Fatalf("resources: %v", mustJSON(resp["resources"]))
	}
	if dig(deploy["object"], "metadata", "name") != "p-web" || dig(deploy["object"], "metadata", "namespace") != "web" {
		t.Fatalf("namePrefix/targetNamespace: %v", mustJSON(dig(deploy["object"], "metadata")))
	}
	if !strings.Contains(mustJSON(deploy["object"]), `"image":"nginx:2.0"`) {
		t.Fatal("images not applied")
	}
	if dig(svc["object"], "metadata", "annotations", "patched") != "true" {
		t.Fatal("patches not applied")
	}
	if dig(deploy["origin"], "path") != "deploy.yaml" || dig(cm["origin"], "path") != "../../components/extra/cm.yaml" {
		t.Fatalf("origins: %v / %v", deploy["origin"], cm["origin"])
	}
	if dig(deploy["object"], "metadata", "annotations", "config.kubernetes.io/origin") != nil {
		t.Fatal("origin annotations left on the object")
	}
	// Objects holding ${VAR} carry the text the controller substitutes.
	if text, _ := deploy["text"].(string); !strings.Contains(text, "value: ${DOMAIN}") {
		t.Fatalf("text: %q", deploy["text"])
	}

	// A path that leaves the root is refused; a broken build is an error, not a crash.
	if e, _ := roundTrip(t, map[string]any{"id": 2, "op": "kustomize", "root": root, "path": "../x"})["error"].(map[string]any); e == nil || e["code"] != "bad-request" {
		t.Fatal("a path outside the root must be refused")
	}
	writeFiles(t, root, map[string]string{"apps/broken/kustomization.yaml": "resources:\n  - missing.yaml\n"})
	if e, _ := roundTrip(t, map[string]any{"id": 3, "op": "kustomize", "root": root, "path": "apps/broken"})["error"].(map[string]any); e == nil || e["code"] != "build" {
		t.Fatal("a broken kustomization must be a build error")
	}
}
