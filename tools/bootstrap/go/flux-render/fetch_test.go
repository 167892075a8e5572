package main

// Chart fetching against real servers on 127.0.0.1: an OCI registry (distribution's own registry
// handlers, in-memory storage, plain HTTP) that charts are pushed to with Helm's registry client,
// and an HTTP chart repository (index.yaml made by Helm's repo.IndexDirectory) served by net/http.

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartv2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// packageChart packages a chart directory as `helm package` does and returns the archive's path.
func packageChart(t *testing.T, dir string) string {
	t.Helper()
	c, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	path, err := chartv2util.Save(c, out)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// countingServer counts requests, so a test can prove the cache served a render.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func startRegistry(t *testing.T) (host string, hits *atomic.Int64) {
	t.Helper()
	config := &configuration.Configuration{}
	config.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	config.Log.Level = "error"
	app := handlers.NewApp(context.Background(), config)
	srv, n := countingServer(t, app)
	return strings.TrimPrefix(srv.URL, "http://"), n
}

func TestOCIChartThroughMirrorCacheAndOffline(t *testing.T) {
	host, hits := startRegistry(t)
	archive := packageChart(t, stageAppTemplate(t, "4.1.0"))
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	client, err := registry.NewClient(registry.ClientOptPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := client.Push(data, host+"/bjw-s-labs/helm/app-template:4.1.0")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	req := map[string]any{
		"id": 1, "op": "helm", "release": helmRelease(t, appRelease),
		"chart":    map[string]any{"type": "oci", "url": "oci://ghcr.io/bjw-s-labs/helm/app-template", "semver": ">=4.0.0 <5", "digestTracking": true},
		"mirrors":  []map[string]any{{"origin": "oci://ghcr.io/bjw-s-labs/helm", "url": "http://" + host + "/bjw-s-labs/helm"}},
		"cacheDir": cache, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)}, "timeoutSeconds": 10,
	}
	resp := roundTrip(t, req)
	rs := resources(t, resp)
	chart := resp["chart"].(map[string]any)
	wantVersion := "4.1.0+" + strings.TrimPrefix(pushed.Manifest.Digest, "sha256:")[:12]
	if chart["version"] != wantVersion || chart["origin"] != "oci://ghcr.io/bjw-s-labs/helm/app-template" || chart["cached"] != false {
		t.Fatalf("chart %v, want version %s from the original origin, not cached", chart, wantVersion)
	}
	if chart["manifestDigest"] != pushed.Manifest.Digest || chart["digest"] != "sha256:"+sha256Hex(data) {
		t.Fatalf("digests %v / %v, pushed manifest %s", chart["manifestDigest"], chart["digest"], pushed.Manifest.Digest)
	}
	if findKind(rs, "Deployment") == nil {
		t.Fatal("no Deployment rendered from the OCI chart")
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "charts", "sha256", "*.tgz"))
	if len(entries) != 1 || filepath.Base(entries[0]) != sha256Hex(data)+".tgz" {
		t.Fatalf("cache holds %v, want the archive named by its sha256", entries)
	}

	// The same exact tag again: served from the cache, the registry is not asked.
	before := hits.Load()
	exact := map[string]any{}
	for k, v := range req {
		exact[k] = v
	}
	exact["chart"] = map[string]any{"type": "oci", "url": "oci://ghcr.io/bjw-s-labs/helm/app-template", "tag": "4.1.0"}
	resp = roundTrip(t, exact)
	if resp["error"] != nil || resp["chart"].(map[string]any)["cached"] != true || hits.Load() != before {
		t.Fatalf("exact tag: want a cache hit without requests (%d requests), got %v", hits.Load()-before, mustJSON(resp["chart"]))
	}

	// Offline: the range's last resolution is replayed from the cache.
	req["offline"] = true
	resp = roundTrip(t, req)
	if resp["error"] != nil || resp["chart"].(map[string]any)["version"] != wantVersion || hits.Load() != before {
		t.Fatalf("offline from cache: %v", mustJSON(resp))
	}
	// Offline with an empty cache: chart-unavailable with the hint.
	req["cacheDir"] = t.TempDir()
	resp = roundTrip(t, req)
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "chart-unavailable" || e["hint"] != "run once online or drop --offline" {
		t.Fatalf("offline miss: %v", mustJSON(resp))
	}

	// A tag the registry does not have: chart-unavailable, no hang.
	missing := map[string]any{}
	for k, v := range exact {
		missing[k] = v
	}
	missing["cacheDir"] = t.TempDir()
	missing["chart"] = map[string]any{"type": "oci", "url": "oci://ghcr.io/bjw-s-labs/helm/app-template", "tag": "9.9.9"}
	resp = roundTrip(t, missing)
	if e, _ := resp["error"].(map[string]any); e == nil || e["code"] != "chart-unavailable" {
		t.Fatalf("missing tag: %v", mustJSON(resp))
	}
}

// serveRepository serves the archives in a directory as an HTTP chart repository.
func serveRepository(t *testing.T, archives ...string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	dir := t.TempDir()
	for _, a := range archives {
		data, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(a)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	index, err := repo.IndexDirectory(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return countingServer(t, http.FileServer(http.Dir(dir)))
}

func TestHTTPRepositoryChartAndDirDependencyThroughMirror(t *testing.T) {
	root := mirrorRoot(t)
	common := packageChart(t, filepath.Join(root, "bjw-s-labs/helm-charts/common-4.1.0/charts/library/common"))
	app := packageChart(t, stageAppTemplate(t, "4.1.0"))
	srv, _ := serveRepository(t, common, app)
	mirrors := []map[string]any{{"origin": "https://bjw-s-labs.github.io/helm-charts", "url": srv.URL}}

	resp := roundTrip(t, map[string]any{
		"id": 1, "op": "helm", "release": helmRelease(t, appRelease),
		"chart":   map[string]any{"type": "http", "url": "https://bjw-s-labs.github.io/helm-charts", "name": "app-template", "version": "4.x"},
		"mirrors": mirrors, "cacheDir": t.TempDir(), "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)}, "timeoutSeconds": 10,
	})
	if findKind(resources(t, resp), "Service") == nil {
		t.Fatal("no Service rendered from the HTTP repository chart")
	}
	if c := resp["chart"].(map[string]any); c["version"] != "4.1.0" || c["origin"] != "https://bjw-s-labs.github.io/helm-charts" {
		t.Fatalf("chart %v", c)
	}

	// app-template as a directory without charts/common: its Chart.yaml dependency (repository
	// https://bjw-s-labs.github.io/helm-charts) is fetched through the mirror, as source-controller
	// builds a chart from a GitRepository.
	dir := stageAppTemplate(t, "4.1.0")
	if err := os.RemoveAll(filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	resp = roundTrip(t, map[string]any{
		"id": 2, "op": "helm", "release": helmRelease(t, appRelease),
		"chart":   map[string]any{"type": "dir", "path": dir},
		"mirrors": mirrors, "cacheDir": t.TempDir(), "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)}, "timeoutSeconds": 10,
	})
	if findKind(resources(t, resp), "Deployment") == nil {
		t.Fatal("no Deployment rendered from the directory chart with a fetched dependency")
	}

	// Without the mirror the dependency cannot be had offline: chart-unavailable naming it.
	resp = roundTrip(t, map[string]any{
		"id": 3, "op": "helm", "release": helmRelease(t, appRelease),
		"chart":    map[string]any{"type": "dir", "path": dir},
		"cacheDir": t.TempDir(), "offline": true, "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)},
	})
	if e, _ := resp["error"].(map[string]any); e == nil || e["code"] != "chart-unavailable" || !strings.Contains(e["message"].(string), "dependency common") {
		t.Fatalf("offline dependency miss: %v", mustJSON(resp))
	}
}

// Two transient failures are retried; a server that never answers costs the timeout per attempt,
// never a hang.
func TestTransientErrorsAreRetriedAndTimeoutsBounded(t *testing.T) {
	app := packageChart(t, stageAppTemplate(t, "4.1.0"))
	repoSrv, _ := serveRepository(t, app)
	var failures atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/index.yaml") && failures.Add(1) <= 2 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		resp, err := http.Get(repoSrv.URL + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(flaky.Close)
	req := map[string]any{
		"id": 1, "op": "helm", "release": helmRelease(t, appRelease),
		"chart":    map[string]any{"type": "http", "url": "https://charts.example.com", "name": "app-template", "version": "4.1.0"},
		"mirrors":  []map[string]any{{"origin": "https://charts.example.com", "url": flaky.URL}},
		"cacheDir": t.TempDir(), "kubeVersion": "v1.34.0", "schemaMirrors": []string{mirrorRoot(t)}, "timeoutSeconds": 5,
	}
	resp := roundTrip(t, req)
	if resp["error"] != nil || failures.Load() != 3 {
		t.Fatalf("after two 503s the third attempt must succeed (attempts %d): %v", failures.Load(), mustJSON(resp["error"]))
	}

	hang := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); stuck.Close() })
	req["mirrors"] = []map[string]any{{"origin": "https://charts.example.com", "url": stuck.URL}}
	req["cacheDir"] = t.TempDir()
	req["timeoutSeconds"] = 1
	start := time.Now()
	resp = roundTrip(t, req)
	e, _ := resp["error"].(map[string]any)
	if e == nil || e["code"] != "chart-unavailable" || !strings.Contains(e["hint"].(string), "no answer within 1s") {
		t.Fatalf("a server that never answers: want chart-unavailable with the timeout hint, got %v", mustJSON(resp))
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("three 1 s attempts took %s", elapsed)
	}
}

// A host that does not answer costs one failure per process: the next chart it serves fails at once
// with the same cause, while a host that answers (even with an error status) is asked every time.
func TestUnreachableHostIsTriedOncePerProcess(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	req := func(name string) map[string]any {
		return map[string]any{
			"id": 1, "op": "helm", "release": helmRelease(t, appRelease),
			"chart":    map[string]any{"type": "http", "url": "https://down.example.com", "name": name, "version": "1.0.0"},
			"mirrors":  []map[string]any{{"origin": "https://down.example.com", "url": refused}},
			"cacheDir": t.TempDir(), "kubeVersion": "v1.34.0", "timeoutSeconds": 5,
		}
	}
	start := time.Now()
	first := roundTrip(t, req("one"))
	firstTook := time.Since(start)
	e, _ := first["error"].(map[string]any)
	if e == nil || e["code"] != "chart-unavailable" || !strings.Contains(e["message"].(string), "connection refused") {
		t.Fatalf("first chart from a refused host: want chart-unavailable naming the refusal, got %v", mustJSON(first))
	}
	if firstTook < 1200*time.Millisecond {
		t.Fatalf("the first failure must have retried twice (300 ms + 1 s), took %s", firstTook)
	}
	start = time.Now()
	second := roundTrip(t, req("two"))
	secondTook := time.Since(start)
	e2, _ := second["error"].(map[string]any)
	if e2 == nil || e2["code"] != "chart-unavailable" || !strings.Contains(e2["message"].(string), "did not answer earlier in this run") ||
		!strings.Contains(e2["message"].(string), "connection refused") || e2["hint"] != e["hint"] {
		t.Fatalf("second chart from the same host: want the remembered failure, got %v", mustJSON(second))
	}
	if secondTook > 200*time.Millisecond {
		t.Fatalf("the second chart from a refused host must fail at once, took %s", secondTook)
	}

	// An answer is not unreachability: a 404 index is asked for again.
	var asked atomic.Int64
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(notFound.Close)
	for _, name := range []string{"a", "b"} {
		r := req(name)
		r["mirrors"] = []map[string]any{{"origin": "https://down.example.com", "url": notFound.URL}}
		if resp := roundTrip(t, r); resp["error"] == nil {
			t.Fatalf("a 404 index must be chart-unavailable, got %v", mustJSON(resp))
		}
	}
	if asked.Load() != 2 {
		t.Fatalf("a host that answers must be asked for every chart: %d requests", asked.Load())
	}
}
