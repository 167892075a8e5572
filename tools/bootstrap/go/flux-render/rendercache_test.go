package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// renderRaw answers one request as the process writes it (JSON), decoded.
func renderRaw(t *testing.T, req map[string]any) (map[string]any, []byte) {
	t.Helper()
	resp := roundTrip(t, req)
	delete(resp, "id")
	chart, _ := resp["chart"].(map[string]any)
	cached, _ := chart["renderCached"].(bool)
	for _, k := range []string{"cached", "fetchMs", "renderMs", "renderCached"} {
		delete(chart, k)
	}
	data, _ := json.Marshal(resp)
	resp["_renderCached"] = cached
	return resp, data
}

func renderCacheEntries(t *testing.T, cacheDir string) []string {
	t.Helper()
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "renders", "*.json"))
	return entries
}

// cachedDirRequest renders the app-template release from the chart directory dir, offline, through
// the render cache in cacheDir.
func cachedDirRequest(t *testing.T, dir, cacheDir string) map[string]any {
	t.Helper()
	return map[string]any{
		"id": 1, "op": "helm", "release": helmRelease(t, appRelease),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
		"cacheDir": cacheDir, "offline": true, "renderCache": true,
	}
}

func TestRenderCacheHitIsTheFreshRender(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	cacheDir := t.TempDir()
	req := cachedDirRequest(t, dir, cacheDir)
	first, firstJSON := renderRaw(t, req)
	if first["_renderCached"] != false {
		t.Fatal("the first render came from the cache")
	}
	if n := len(renderCacheEntries(t, cacheDir)); n != 1 {
		t.Fatalf("%d cache entries after one render, want 1", n)
	}
	second, secondJSON := renderRaw(t, req)
	if second["_renderCached"] != true {
		t.Fatal("the second render was not answered from the cache")
	}
	if string(firstJSON) != string(secondJSON) {
		t.Fatalf("cache hit differs from the fresh render:\n%s\n%s", firstJSON, secondJSON)
	}
	// Without renderCache the request renders (and answers the same).
	delete(req, "renderCache")
	fresh, freshJSON := renderRaw(t, req)
	if fresh["_renderCached"] != false || string(freshJSON) != string(firstJSON) {
		t.Fatal("a request without renderCache was answered from the cache, or differently")
	}
}

func TestRenderCacheMissesOnAnyInput(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	cacheDir := t.TempDir()
	base := func() map[string]any {
		return cachedDirRequest(t, dir, cacheDir)
	}
	if r, _ := renderRaw(t, base()); r["_renderCached"] != false {
		t.Fatal("first render came from the cache")
	}
	changed := map[string]func(map[string]any){
		"values": func(r map[string]any) {
			r["release"] = helmRelease(t, appRelease+"    defaultPodOptions:\n      hostNetwork: true\n")
		},
		"kubeVersion": func(r map[string]any) { r["kubeVersion"] = "v1.33.0" },
		"apiVersions": func(r map[string]any) {
			r["apiVersions"] = []string{"gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1/HTTPRoute"}
		},
		"chart version": func(r map[string]any) {
			r["chart"] = map[string]any{"type": "dir", "path": dir, "versionOverride": "9.9.9"}
		},
		"lookup": func(r map[string]any) {
			r["lookup"] = []map[string]any{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x", "namespace": "apps"}}}
		},
	}
	for name, change := range changed {
		req := base()
		change(req)
		if r, _ := renderRaw(t, req); r["_renderCached"] != false {
			t.Fatalf("a change of %s was answered from the cache", name)
		}
	}
	// The chart's content: one template changed.
	tpl := filepath.Join(dir, "templates", "extra.yaml")
	if err := os.WriteFile(tpl, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := renderRaw(t, base())
	if r["_renderCached"] != false || findKind(resources(t, r), "ConfigMap") == nil {
		t.Fatal("a changed chart was answered from the cache")
	}
}

func TestRenderCacheCorruptEntryIsRerendered(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	cacheDir := t.TempDir()
	req := cachedDirRequest(t, dir, cacheDir)
	first, firstJSON := renderRaw(t, req)
	entries := renderCacheEntries(t, cacheDir)
	if len(entries) != 1 || first["_renderCached"] != false {
		t.Fatalf("entries %v", entries)
	}
	for _, corrupt := range [][]byte{[]byte(`{"key":"`), []byte(`{"key":"other","response":{"chart":{}}}`), {}} {
		if err := os.WriteFile(entries[0], corrupt, 0o644); err != nil {
			t.Fatal(err)
		}
		again, againJSON := renderRaw(t, req)
		if again["_renderCached"] != false || string(againJSON) != string(firstJSON) {
			t.Fatalf("corrupt entry %q: cached=%v", corrupt, again["_renderCached"])
		}
		// …and the entry is written anew.
		if hit, _ := renderRaw(t, req); hit["_renderCached"] != true {
			t.Fatalf("corrupt entry %q was not replaced", corrupt)
		}
	}
}

func TestRenderCacheKeepsChartErrorsNotUnavailableCharts(t *testing.T) {
	cacheDir := t.TempDir()
	req := map[string]any{
		"id": 1, "op": "helm", "release": helmRelease(t, appRelease),
		"chart":    map[string]any{"type": "oci", "url": "oci://example.invalid/charts/app-template", "tag": "1.0.0"},
		"cacheDir": cacheDir, "offline": true, "renderCache": true,
	}
	r, _ := renderRaw(t, req)
	if e, _ := r["error"].(map[string]any); e == nil || e["code"] != "chart-unavailable" {
		t.Fatalf("want chart-unavailable, got %v", r["error"])
	}
	if n := len(renderCacheEntries(t, cacheDir)); n != 0 {
		t.Fatalf("an unavailable chart was cached (%d entries)", n)
	}
	// A values-schema violation is the chart's answer: kept, and answered again identically.
	dir := stageAppTemplate(t, "4.1.0")
	bad := map[string]any{
		"id": 2, "op": "helm", "release": helmRelease(t, appRelease+"    controllers2: 3\n    defaultPodOptionsStrategy: nope\n"),
		"chart": map[string]any{"type": "dir", "path": dir}, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
		"cacheDir": cacheDir, "offline": true, "renderCache": true,
	}
	first, firstJSON := renderRaw(t, bad)
	if first["error"] == nil {
		t.Skip("the values did not violate the schema")
	}
	second, secondJSON := renderRaw(t, bad)
	if second["_renderCached"] != true || !reflect.DeepEqual(firstJSON, secondJSON) {
		t.Fatalf("schema error not answered from the cache identically")
	}
}

// A directory chart whose content digest the caller gives is answered from the render cache
// without being read: the cache hit survives the directory's templates being removed (which a
// load would notice), and a request without the digest loads the files and misses.
func TestRenderCacheVouchedDirectoryIsNotRead(t *testing.T) {
	dir := stageAppTemplate(t, "4.1.0")
	cacheDir := t.TempDir()
	req := func(digest string) map[string]any {
		r := cachedDirRequest(t, dir, cacheDir)
		if digest != "" {
			r["chart"].(map[string]any)["contentDigest"] = digest
		}
		return r
	}
	first, firstJSON := renderRaw(t, req("abc123"))
	if first["_renderCached"] != false || first["error"] != nil {
		t.Fatalf("first render: cached=%v error=%v", first["_renderCached"], first["error"])
	}
	if err := os.RemoveAll(filepath.Join(dir, "templates")); err != nil {
		t.Fatal(err)
	}
	second, secondJSON := renderRaw(t, req("abc123"))
	if second["_renderCached"] != true || string(firstJSON) != string(secondJSON) {
		t.Fatalf("the vouched directory was read again (cached=%v)", second["_renderCached"])
	}
	if r, _ := renderRaw(t, req("")); r["_renderCached"] != false {
		t.Fatal("a directory without a content digest was answered from the vouched entry")
	}
}
