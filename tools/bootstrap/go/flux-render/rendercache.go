package main

// The render cache: op "helm" responses kept on disk between runs (and CI jobs), content-addressed
// under the chart cache directory:
//
//	<cacheDir>/renders/<key>.json     {"key": "<key>", "response": { the helm response, without id }}
//
// <key> is the SHA-256 of everything a response depends on: this binary's build (its Go build ID,
// which changes with any source or dependency), the chart's content (the archive's digest and OCI
// manifest digest, or a directory chart's files with its resolved dependencies), and the whole
// request but for how the chart is fetched (id, cacheDir, mirrors, timeoutSeconds): the release,
// its values sources, kubeVersion, apiVersions, lookup objects, the chart spec (versionOverride,
// digestTracking), schemaFiles/schemaMirrors and offline, and SOURCE_DATE_EPOCH (`now`). Values are
// composed from the release and its sources, so the key covers them.
//
// Only answers that a fresh render would give again are kept: successes, and the errors of the
// chart itself (render, post-render, values-schema with every $ref resolved, values-from); never a
// timeout, an unavailable chart or a bad request. Entries are written to a temporary file renamed
// into place; an entry that does not decode, or names another key, is ignored (and rewritten). A
// request opts in with "renderCache": true.

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// renderCacheVersion changes when the entry format or the key's composition changes.
const renderCacheVersion = "flux-render-cache/1"

var buildStamp = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	// The Go build ID (ELF note "Go", type 4): derived from every input of the build.
	if f, err := elf.Open(exe); err == nil {
		defer f.Close()
		if s := f.Section(".note.go.buildid"); s != nil {
			if data, err := s.Data(); err == nil && len(data) > 16 {
				return "go-buildid:" + strings.TrimRight(string(data[16:]), "\x00")
			}
		}
	}
	// Elsewhere (macOS, Windows): the executable's own digest.
	r, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return ""
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
})

type renderCacheKey struct {
	Version        string            `json:"v"`
	Build          string            `json:"build"`
	Digest         string            `json:"digest"`
	ManifestDigest string            `json:"manifestDigest,omitempty"`
	Origin         string            `json:"origin"`
	Chart          *chartSpec        `json:"chart"`
	Release        json.RawMessage   `json:"release"`
	ValuesSources  []valuesSource    `json:"valuesSources,omitempty"`
	KubeVersion    string            `json:"kubeVersion,omitempty"`
	APIVersions    []string          `json:"apiVersions,omitempty"`
	Lookup         []map[string]any  `json:"lookup,omitempty"`
	SchemaFiles    map[string]string `json:"schemaFiles,omitempty"`
	SchemaMirrors  []string          `json:"schemaMirrors,omitempty"`
	Offline        bool              `json:"offline,omitempty"`
	SourceDate     string            `json:"sourceDateEpoch,omitempty"`
}

// renderKey is the cache key of a request whose chart is `got` (content digest chartDigest), or ""
// when the request does not use the cache.
func renderKey(req *request, got *fetched, chartDigest string) string {
	if !req.RenderCache || req.CacheDir == "" || chartDigest == "" {
		return ""
	}
	stamp := buildStamp()
	if stamp == "" {
		return ""
	}
	data, err := json.Marshal(renderCacheKey{
		Version: renderCacheVersion, Build: stamp, Digest: chartDigest, ManifestDigest: got.manifestDigest,
		Origin: got.origin, Chart: req.Chart, Release: req.Release, ValuesSources: req.ValuesSources,
		KubeVersion: req.KubeVersion, APIVersions: req.APIVersions, Lookup: req.Lookup,
		SchemaFiles: req.SchemaFiles, SchemaMirrors: req.SchemaMirrors, Offline: req.Offline,
		SourceDate: os.Getenv("SOURCE_DATE_EPOCH"),
	})
	if err != nil {
		return ""
	}
	return sha256Hex(data)
}

type renderCacheEntry struct {
	Key      string        `json:"key"`
	Response *helmResponse `json:"response"`
}

func renderCachePath(cacheDir, key string) string {
	return filepath.Join(cacheDir, "renders", key+".json")
}

// readRenderCache is the kept response for key, or nil (absent, partial, corrupt, another key's).
func readRenderCache(cacheDir, key string) *helmResponse {
	data, err := os.ReadFile(renderCachePath(cacheDir, key))
	if err != nil {
		return nil
	}
	var e renderCacheEntry
	if json.Unmarshal(data, &e) != nil || e.Key != key || e.Response == nil || e.Response.Chart == nil {
		return nil
	}
	return e.Response
}

// cacheable: a fresh render would answer the same.
func cacheable(resp *helmResponse) bool {
	if resp.Chart == nil {
		return false
	}
	if resp.Error == nil {
		return true
	}
	switch resp.Error.Code {
	case "render", "post-render":
		return !strings.Contains(resp.Error.Message, "context deadline exceeded") && !strings.Contains(resp.Error.Message, "context canceled")
	case "values-schema":
		// A $ref that could not be resolved (hint set) may resolve next time.
		return resp.Error.Hint == ""
	case "values-from":
		return true
	}
	return false
}

func writeRenderCache(cacheDir, key string, resp *helmResponse) {
	if !cacheable(resp) {
		return
	}
	kept := *resp
	kept.ID = 0
	chart := *resp.Chart
	chart.Cached, chart.FetchMs, chart.RenderMs, chart.RenderCached = false, 0, 0, false
	kept.Chart = &chart
	data, err := json.Marshal(renderCacheEntry{Key: key, Response: &kept})
	if err != nil {
		return
	}
	// A cache that cannot be written costs the next run a render, nothing else.
	_ = writeAtomic(renderCachePath(cacheDir, key), data)
}
