package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartv2util "helm.sh/helm/v4/pkg/chart/v2/util"
)

// BenchmarkRenderAppTemplateArchive renders app-template from a cached OCI archive, as validate's
// bench does (chart from the cache, values schema validated, templates executed, output encoded):
//
//	go test -run XXX -bench RenderAppTemplate -cpuprofile cpu.prof .
//
// (-benchtime 40x; `go tool pprof -top -cum flux-render.test cpu.prof`).
func BenchmarkRenderAppTemplateArchive(b *testing.B) {
	root := os.Getenv("HAOS_TASKS_SCHEMA_MIRROR")
	if root == "" {
		root = "/work/shared/upstream"
	}
	tmp := b.TempDir()
	dir := filepath.Join(tmp, "app-template")
	copyTreeB(b, filepath.Join(root, "bjw-s-labs/helm-charts/app-template-4.1.0/charts/other/app-template"), dir)
	copyTreeB(b, filepath.Join(root, "bjw-s-labs/helm-charts/common-4.1.0/charts/library/common"), filepath.Join(dir, "charts", "common"))
	c, err := loader.LoadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(tmp, "pkg")
	os.MkdirAll(out, 0o755)
	tgz, err := chartv2util.Save(c, out)
	if err != nil {
		b.Fatal(err)
	}
	archive, _ := os.ReadFile(tgz)
	cache := filepath.Join(tmp, "cache")
	f := &fetcher{cacheDir: cache}
	origin := "oci://example.invalid/charts/app-template"
	if err := f.store(&fetched{archive: archive, digest: "sha256:" + sha256Hex(archive), version: "4.1.0", origin: origin}, "", "tag:4.1.0"); err != nil {
		b.Fatal(err)
	}
	req := map[string]any{
		"id": 1, "op": "helm", "release": json.RawMessage(yamlJSON(b, appRelease)),
		"chart":    map[string]any{"type": "oci", "url": origin, "tag": "4.1.0"},
		"cacheDir": cache, "offline": true,
		"schemaMirrors": []string{root},
		"apiVersions":   []string{"gateway.networking.k8s.io/v1"}, "kubeVersion": "v1.34.0",
	}
	line, _ := json.Marshal(req)
	if r := handle(line).(*helmResponse); r.Error != nil {
		b.Fatal(r.Error.Message)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := handle(line)
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}

func yamlJSON(b *testing.B, y string) []byte {
	docs, err := splitYAML([]byte(y))
	if err != nil {
		b.Fatal(err)
	}
	data, _ := json.Marshal(docs[0])
	return data
}

func copyTreeB(b *testing.B, src, dst string) {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
}
