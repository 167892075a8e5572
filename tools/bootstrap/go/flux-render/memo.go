package main

// Per-process memos. A run renders one snapshot of a repository, and one flux-render process serves
// it: what a render learns about a chart is kept for the next render of that chart.
//   - a version range's resolution (OCI tag list, HTTP index.yaml): listed once per process instead of
//     once per release (the chart cache already records each resolution for offline replay);
//   - a cached archive, read and digest-verified once;
//   - an archive's decompressed files: every render loads a fresh *chart.Chart from them with Helm's
//     loader.LoadFiles (loader.LoadArchive is LoadArchiveFiles then LoadFiles), so no render sees
//     another's dependency processing or version mutation. The file bytes are shared, read-only.

import (
	"bytes"
	"sync"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// memoLimit bounds each memo (a repository uses a few dozen charts; the bound only guards memory:
// a full memo starts over).
const memoLimit = 64

type memoMap[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (m *memoMap[V]) get(key string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok
}

func (m *memoMap[V]) put(key string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= memoLimit {
		m.m = map[string]V{}
	}
	m.m[key] = v
}

var (
	// rewritten origin NUL name NUL range → the tag or version it resolved to in this process
	rangeMemo memoMap[string]
	// index entry path → the verified cached archive
	cacheMemo memoMap[fetched]
	// archive digest → its files, decompressed
	filesMemo memoMap[[]*archive.BufferedFile]
)

// loadArchiveMemo is loader.LoadArchive, decompressing an archive once per process.
func loadArchiveMemo(digest string, data []byte) (*chartv2.Chart, error) {
	if digest == "" {
		return loader.LoadArchive(bytes.NewReader(data))
	}
	files, ok := filesMemo.get(digest)
	if !ok {
		var err error
		if files, err = archive.LoadArchiveFiles(bytes.NewReader(data)); err != nil {
			return nil, err
		}
		filesMemo.put(digest, files)
	}
	// LoadFiles never changes the files it is given (subcharts get copies), only reads them.
	return loader.LoadFiles(files)
}
