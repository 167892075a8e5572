package main

// Tests render real charts from the read-only upstream mirror (HAOS_TASKS_SCHEMA_MIRROR, default
// /work/shared/upstream), staged into t.TempDir() as CozyStack and bjw-s package them (the library
// chart as charts/<name>); nothing is copied into the repository.

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mirrorRoot(t *testing.T) string {
	t.Helper()
	root := os.Getenv("HAOS_TASKS_SCHEMA_MIRROR")
	if root == "" {
		root = "/work/shared/upstream"
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("upstream mirror %s is missing (set HAOS_TASKS_SCHEMA_MIRROR): %v", root, err)
	}
	return root
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// stageAppTemplate is app-template <v> with common <v> as charts/common.
func stageAppTemplate(t *testing.T, version string) string {
	t.Helper()
	root := mirrorRoot(t)
	dir := filepath.Join(t.TempDir(), "app-template")
	copyTree(t, filepath.Join(root, "bjw-s-labs/helm-charts/app-template-"+version+"/charts/other/app-template"), dir)
	copyTree(t, filepath.Join(root, "bjw-s-labs/helm-charts/common-"+version+"/charts/library/common"), filepath.Join(dir, "charts", "common"))
	return dir
}

// stageVMInstance is CozyStack v1.6.2's vm-instance with cozy-lib as charts/cozy-lib (a symlink in
// CozyStack's repository).
func stageVMInstance(t *testing.T) string {
	t.Helper()
	root := mirrorRoot(t)
	dir := filepath.Join(t.TempDir(), "vm-instance")
	copyTree(t, filepath.Join(root, "cozystack/cozystack/v1.6.2/packages/apps/vm-instance"), dir)
	copyTree(t, filepath.Join(root, "cozystack/cozystack/v1.6.2/packages/library/cozy-lib"), filepath.Join(dir, "charts", "cozy-lib"))
	return dir
}

func helmRelease(t *testing.T, yamlText string) json.RawMessage {
	t.Helper()
	docs, err := splitYAML([]byte(yamlText))
	if err != nil || len(docs) != 1 {
		t.Fatalf("test HelmRelease: %v", err)
	}
	data, _ := json.Marshal(docs[0])
	return data
}

// roundTrip sends the request through the protocol handler as JSON and decodes the answer.
func roundTrip(t *testing.T, req map[string]any) map[string]any {
	t.Helper()
	line, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(handle(line))
	if err != nil {
		t.Fatal(err)
	}
	var resp map[string]any
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func resources(t *testing.T, resp map[string]any) []map[string]any {
	t.Helper()
	if e, ok := resp["error"]; ok {
		t.Fatalf("render failed: %v", e)
	}
	var out []map[string]any
	for _, r := range resp["resources"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func findKind(rs []map[string]any, kind string) map[string]any {
	for _, r := range rs {
		obj := r["object"].(map[string]any)
		if obj["kind"] == kind {
			return r
		}
	}
	return nil
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

const appRelease = `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
  namespace: apps
spec:
  interval: 1h
  chart:
    spec:
      chart: app-template
      version: 4.1.0
      sourceRef: {kind: HelmRepository, name: bjw-s}
  values:
    controllers:
      main:
        containers:
          main:
            image:
              repository: ghcr.io/example/echo
              tag: 1.2.3
    service:
      main:
        controller: main
        ports:
          http:
            port: 8080
    route:
      main:
        parentRefs:
          - name: gateway
            namespace: network
        rules:
          - backendRefs:
              - identifier: main
                port: 8080
`

func TestAppTemplateHTTPRouteFollowsCapabilities(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	base := map[string]any{
		"id": 1, "op": "helm", "release": helmRelease(t, appRelease),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
		"cacheDir": t.TempDir(), "offline": true,
	}
	resp := roundTrip(t, base)
	if resp["releaseName"] != "echo" || resp["namespace"] != "apps" {
		t.Fatalf("release name/namespace: %v %v", resp["releaseName"], resp["namespace"])
	}
	rs := resources(t, resp)
	route := findKind(rs, "HTTPRoute")
	if route == nil {
		t.Fatalf("no HTTPRoute in %d resources", len(rs))
	}
	if got := dig(route["object"], "apiVersion"); got != "gateway.networking.k8s.io/v1alpha2" {
		t.Fatalf("without the capability the route is %v, want v1alpha2", got)
	}
	if route["template"] != "app-template/templates/common.yaml" {
		t.Fatalf("template %v", route["template"])
	}
	deploy := findKind(rs, "Deployment")
	if got := dig(deploy["object"], "spec", "template", "spec", "containers"); !strings.Contains(mustJSON(got), "ghcr.io/example/echo:1.2.3") {
		t.Fatalf("deployment containers: %v", mustJSON(got))
	}

	base["apiVersions"] = []string{"gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1/HTTPRoute"}
	rs = resources(t, roundTrip(t, base))
	if got := dig(findKind(rs, "HTTPRoute")["object"], "apiVersion"); got != "gateway.networking.k8s.io/v1" {
		t.Fatalf("with gateway.networking.k8s.io/v1/HTTPRoute the route is %v, want v1", got)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOriginLabelsAndCommonMetadata(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	rel := strings.Replace(appRelease, "  values:\n", "  commonMetadata:\n    labels:\n      team: home\n      helm.toolkit.fluxcd.io/name: overridden\n    annotations:\n      owner: ops\n  values:\n", 1)
	rs := resources(t, roundTrip(t, map[string]any{
		"id": 2, "op": "helm", "release": helmRelease(t, rel),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
	}))
	for _, r := range rs {
		labels := dig(r["object"], "metadata", "labels").(map[string]any)
		// Origin labels win over commonMetadata (helm-controller's order).
		if labels["helm.toolkit.fluxcd.io/name"] != "echo" || labels["helm.toolkit.fluxcd.io/namespace"] != "apps" {
			t.Fatalf("%s: origin labels %v", dig(r["object"], "kind"), labels)
		}
		if labels["team"] != "home" {
			t.Fatalf("%s: commonMetadata label missing: %v", dig(r["object"], "kind"), labels)
		}
		if dig(r["object"], "metadata", "annotations", "owner") != "ops" {
			t.Fatalf("%s: commonMetadata annotation missing", dig(r["object"], "kind"))
		}
	}
}

func TestPostRenderersPatchAndImages(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	rel := appRelease + `  postRenderers:
    - kustomize:
        images:
          - name: ghcr.io/example/echo
            newName: registry.local/echo
            newTag: 9.9.9
        patches:
          - target:
              kind: Deployment
            patch: |
              - op: add
                path: /metadata/annotations/patched
                value: "yes"
          - patch: |
              apiVersion: v1
              kind: Service
              metadata:
                name: echo
                namespace: apps
              spec:
                sessionAffinity: ClientIP
`
	rs := resources(t, roundTrip(t, map[string]any{
		"id": 3, "op": "helm", "release": helmRelease(t, rel),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
	}))
	deploy := findKind(rs, "Deployment")
	if dig(deploy["object"], "metadata", "annotations", "patched") != "yes" {
		t.Fatalf("JSON6902 patch not applied: %v", mustJSON(dig(deploy["object"], "metadata")))
	}
	if !strings.Contains(mustJSON(deploy["object"]), `"image":"registry.local/echo:9.9.9"`) {
		t.Fatalf("image not rewritten: %v", mustJSON(dig(deploy["object"], "spec", "template", "spec", "containers")))
	}
	if dig(findKind(rs, "Service")["object"], "spec", "sessionAffinity") != "ClientIP" {
		t.Fatalf("strategic merge patch not applied")
	}
	// The template of each object survives post-rendering.
	if deploy["template"] != "app-template/templates/common.yaml" {
		t.Fatalf("template after post-render: %v", deploy["template"])
	}

	broken := appRelease + `  postRenderers:
    - kustomize:
        patches:
          - target:
              kind: Deployment
            patch: |
              - op: replace
                path: /spec/notThere/x
                value: 1
`
	resp := roundTrip(t, map[string]any{
		"id": 4, "op": "helm", "release": helmRelease(t, broken),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
	})
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "post-render" {
		t.Fatalf("broken patch: want post-render error, got %v", mustJSON(resp["error"]))
	}
}

func TestValuesSchemaViolationOfflineWithPointer(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	rel := strings.Replace(appRelease, "      main:\n        containers:", "      main:\n        type: deploymentt\n        containers:", 1)
	resp := roundTrip(t, map[string]any{
		"id": 5, "op": "helm", "release": helmRelease(t, rel),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
		"cacheDir": t.TempDir(), "offline": true,
	})
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "values-schema" {
		t.Fatalf("want values-schema, got %v", mustJSON(resp))
	}
	found := false
	for _, se := range e["schemaErrors"].([]any) {
		if se.(map[string]any)["path"] == "/controllers/main/type" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no schema error at /controllers/main/type: %v", mustJSON(e["schemaErrors"]))
	}
	if !strings.HasPrefix(e["message"].(string), "values don't meet the specifications of the schema(s) in the following chart(s):\napp-template:\n") {
		t.Fatalf("message is not Helm's: %q", e["message"])
	}

	// The same values with schema validation disabled render (install.disableSchemaValidation).
	off := strings.Replace(rel, "  values:\n", "  install:\n    disableSchemaValidation: true\n  values:\n", 1)
	resp = roundTrip(t, map[string]any{
		"id": 6, "op": "helm", "release": helmRelease(t, off),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)}, "offline": true,
	})
	if resp["error"] != nil && resp["error"].(map[string]any)["code"] == "values-schema" {
		t.Fatalf("disableSchemaValidation not honoured: %v", mustJSON(resp["error"]))
	}
}

func TestSchemaRefThatCannotBeResolvedIsAnError(t *testing.T) {
	// app-template without its common dependency's files: its schema $ref points at common's URL.
	dir := stageAppTemplate(t, "4.1.0")
	if err := os.RemoveAll(filepath.Join(dir, "charts", "common", "values.schema.json")); err != nil {
		t.Fatal(err)
	}
	resp := roundTrip(t, map[string]any{
		"id": 7, "op": "helm", "release": helmRelease(t, appRelease),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0",
		"cacheDir": t.TempDir(), "offline": true,
	})
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "values-schema" || !strings.Contains(e["message"].(string), "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.0/charts/library/common/values.schema.json") {
		t.Fatalf("want values-schema naming the URL, got %v", mustJSON(resp))
	}
}

func TestFailReportsInnermostTemplatePosition(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	rel := strings.Replace(appRelease, "              - identifier: main\n", "              - identifier: nope\n", 1)
	resp := roundTrip(t, map[string]any{
		"id": 8, "op": "helm", "release": helmRelease(t, rel),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
	})
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "render" {
		t.Fatalf("want render error, got %v", mustJSON(resp))
	}
	if e["template"] != "app-template/charts/common/templates/classes/_route.tpl" || e["line"] != float64(78) {
		t.Fatalf("position %v:%v:%v, want _route.tpl:78 (%s)", e["template"], e["line"], e["column"], e["message"])
	}
	msg := e["message"].(string)
	if !strings.HasPrefix(msg, "execution error at (app-template/templates/common.yaml:") ||
		!strings.HasSuffix(msg, "No enabled Service found with this identifier. (route: 'main', identifier: 'nope')") {
		t.Fatalf("message is not Helm's: %q", msg)
	}
}

func TestValuesFromTargetPathAndOptional(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	rel := appRelease + `  valuesFrom:
    - kind: ConfigMap
      name: echo-values
    - kind: Secret
      name: echo-secret
      valuesKey: tag
      targetPath: controllers.main.containers.main.image.tag
    - kind: ConfigMap
      name: absent
      optional: true
`
	// spec.values are merged last: drop the tag there so the Secret's targetPath decides it.
	rel = strings.Replace(rel, "              tag: 1.2.3\n", "", 1)
	req := map[string]any{
		"id": 9, "op": "helm", "release": helmRelease(t, rel),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
		"valuesSources": []map[string]any{
			{"kind": "ConfigMap", "namespace": "apps", "name": "echo-values", "data": map[string]string{"values.yaml": "defaultPodOptions:\n  hostname: from-configmap\n"}},
			{"kind": "Secret", "namespace": "apps", "name": "echo-secret", "data": map[string]string{"tag": "7.7.7"}},
		},
	}
	rs := resources(t, roundTrip(t, req))
	deploy := findKind(rs, "Deployment")
	if !strings.Contains(mustJSON(deploy["object"]), "ghcr.io/example/echo:7.7.7") {
		t.Fatalf("targetPath value not applied: %v", mustJSON(dig(deploy["object"], "spec", "template", "spec", "containers")))
	}
	if dig(deploy["object"], "spec", "template", "spec", "hostname") != "from-configmap" {
		t.Fatalf("ConfigMap values not merged: %v", mustJSON(dig(deploy["object"], "spec", "template", "spec")))
	}

	// The same source listed twice (one ConfigMap referenced under several keys) is one object, the
	// last one given; it used to panic in the fake client ("already exists").
	req["valuesSources"] = append(req["valuesSources"].([]map[string]any),
		map[string]any{"kind": "Secret", "namespace": "apps", "name": "echo-secret", "data": map[string]string{"tag": "8.8.8"}})
	deploy = findKind(resources(t, roundTrip(t, req)), "Deployment")
	if !strings.Contains(mustJSON(deploy["object"]), "ghcr.io/example/echo:8.8.8") {
		t.Fatalf("duplicate source: want the last one's tag, got %v", mustJSON(dig(deploy["object"], "spec", "template", "spec", "containers")))
	}

	// A missing non-optional source is values-from.
	req["valuesSources"] = []map[string]any{{"kind": "Secret", "namespace": "apps", "name": "echo-secret", "data": map[string]string{"tag": "7.7.7"}}}
	resp := roundTrip(t, req)
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "values-from" || !strings.Contains(e["message"].(string), "'apps/echo-values'") {
		t.Fatalf("want values-from naming apps/echo-values, got %v", mustJSON(resp))
	}
}

const vmRelease = `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: vm-instance-haos
  namespace: tenant-root
spec:
  chart:
    spec:
      chart: vm-instance
  values:
    instanceType: u1.medium
    instanceProfile: ubuntu
    disks:
      - name: haos
    networks: []
    external: false
    # what CozyStack's platform hands every app (its cozystack-values Secret)
    _cluster: {}
    _namespace: {}
`

func TestVMInstanceNeedsLookupObjects(t *testing.T) {
	dir := stageVMInstance(t)
	req := map[string]any{
		"id": 10, "op": "helm", "release": helmRelease(t, vmRelease),
		"chart": map[string]any{"type": "dir", "path": dir, "versionOverride": "0.12.0"}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
	}
	resp := roundTrip(t, req)
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "render" || !strings.Contains(e["message"].(string), "Specified instanceType does not exist in the cluster: u1.medium") {
		t.Fatalf("without lookup objects: want the chart's fail, got %v", mustJSON(resp))
	}
	if e["template"] != "vm-instance/templates/vm.yaml" || e["line"] != float64(2) {
		t.Fatalf("fail position %v:%v", e["template"], e["line"])
	}
	req["lookup"] = []map[string]any{
		{"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineClusterInstancetype", "metadata": map[string]any{"name": "u1.medium"}},
		{"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineClusterPreference", "metadata": map[string]any{"name": "ubuntu"}},
		{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": map[string]any{"name": "vm-disk-haos", "namespace": "tenant-root", "annotations": map[string]any{}}},
	}
	rs := resources(t, roundTrip(t, req))
	vm := findKind(rs, "VirtualMachine")
	if vm == nil {
		t.Fatalf("no VirtualMachine rendered: %v", mustJSON(rs))
	}
	if got := dig(vm["object"], "spec", "instancetype", "name"); got != "u1.medium" {
		t.Fatalf("instancetype %v", got)
	}
	if resp := roundTrip(t, req); resp["chart"].(map[string]any)["version"] != "0.12.0" {
		t.Fatalf("versionOverride: %v", resp["chart"])
	}
}

func TestRendersAreReproducible(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	// randAlphaNum and now would differ between runs without the seeded functions.
	rel := strings.Replace(appRelease, "  values:\n", "  values:\n    configMaps:\n      rand:\n        data:\n          token: '{{ randAlphaNum 16 }}'\n          at: '{{ now | date \"2006-01-02\" }}'\n          id: '{{ uuidv4 }}'\n", 1)
	req := map[string]any{
		"id": 11, "op": "helm", "release": helmRelease(t, rel),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
	}
	first := mustJSON(resources(t, roundTrip(t, req)))
	second := mustJSON(resources(t, roundTrip(t, req)))
	if first != second {
		t.Fatalf("two renders differ:\n%s\n%s", first, second)
	}
	cm := findKind(resources(t, roundTrip(t, req)), "ConfigMap")
	token, _ := dig(cm["object"], "data", "token").(string)
	if len(token) != 16 || dig(cm["object"], "data", "at") != "1970-01-01" {
		t.Fatalf("templated values not rendered as expected: %v", mustJSON(dig(cm["object"], "data")))
	}
}

func TestReleaseNameShortening(t *testing.T) {
	name := "a-very-long-target-namespace-name-for-testing-the-release-name"
	got := shortenName(name)
	if len(got) != 53 || !strings.HasPrefix(got, name[:40]+"-") {
		t.Fatalf("shortenName(%q) = %q", name, got)
	}
	if shortenName("short") != "short" {
		t.Fatal("short names stay")
	}
}

func TestBadRequestsDoNotCrash(t *testing.T) {
	for _, line := range []string{`{"id": 1, "op": "nope"}`, `not json`, `{"id": 2, "op": "helm"}`, `{"id": 3, "op": "helm", "release": {"metadata": {"name": "x"}}, "chart": {"type": "dir", "path": "/does/not/exist"}}`} {
		out, _ := json.Marshal(handle([]byte(line)))
		if !strings.Contains(string(out), `"error"`) {
			t.Fatalf("%s → %s", line, out)
		}
	}
	_ = reflect.TypeOf
}

const arcRelease = `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: arc
  namespace: arc-systems
spec:
  chart:
    spec:
      chart: gha-runner-scale-set-controller
`

// The ARC controller chart ships its CRDs in crds/: helm-controller applies them before the install
// (policy Create by default) with its origin labels, and leaves them out with install.crds: Skip.
func TestChartCRDsFollowThePolicy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gha-runner-scale-set-controller")
	copyTree(t, filepath.Join(mirrorRoot(t), "actions/actions-runner-controller/gha-runner-scale-set-0.14.2/charts/gha-runner-scale-set-controller"), dir)
	req := map[string]any{
		"id": 1, "op": "helm", "release": helmRelease(t, arcRelease),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0",
	}
	rs := resources(t, roundTrip(t, req))
	crds := 0
	for i, r := range rs {
		if r["crd"] == true {
			if i != crds {
				t.Fatalf("CRD at position %d after a non-CRD", i)
			}
			crds++
			if dig(r["object"], "kind") != "CustomResourceDefinition" || !strings.HasPrefix(r["template"].(string), "gha-runner-scale-set-controller/crds/") {
				t.Fatalf("CRD entry %v from %v", dig(r["object"], "kind"), r["template"])
			}
			if dig(r["object"], "metadata", "labels", "helm.toolkit.fluxcd.io/name") != "arc" {
				t.Fatalf("CRD without origin labels: %v", mustJSON(dig(r["object"], "metadata")))
			}
		}
	}
	if crds != 4 || findKind(rs, "Deployment") == nil {
		t.Fatalf("want 4 CRDs and the controller Deployment, got %d CRDs of %d resources", crds, len(rs))
	}
	req["release"] = helmRelease(t, arcRelease+"  install:\n    crds: Skip\n")
	for _, r := range resources(t, roundTrip(t, req)) {
		if r["crd"] == true || dig(r["object"], "kind") == "CustomResourceDefinition" {
			t.Fatal("install.crds: Skip still renders CRDs")
		}
	}
	req["release"] = helmRelease(t, arcRelease+"  install:\n    crds: Sometimes\n")
	if e, _ := roundTrip(t, req)["error"].(map[string]any); e == nil || !strings.Contains(e["message"].(string), "invalid CRD upgrade policy 'Sometimes'") {
		t.Fatal("an invalid CRD policy must fail as helm-controller does")
	}
}
