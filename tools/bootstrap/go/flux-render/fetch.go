package main

// Chart fetching: OCI registries through Helm's registry client (ORAS; credentials from Helm's
// registry config with Docker's as fallback, as `helm pull` has them), HTTP chart repositories through
// Helm's repository index and HTTP getter, and chart directories from the working tree.
//
// Cache (content-addressed, shared by every process and run):
//
//	<cacheDir>/charts/sha256/<hex>.tgz          the chart archive, named by its SHA-256
//	<cacheDir>/charts/index/<key>.json          {"digest", "version", "manifestDigest", "name", "origin"}
//
// where <key> is the SHA-256 of origin NUL name NUL version-spec (origin is the URL as the release
// declares it, before any mirror). An exact tag, version or digest that the index holds is served
// from the cache without touching the network (OCI tags and repository versions are treated as
// immutable; a changed tag is picked up by clearing the cache). A semver range is resolved online
// every time and recorded under its own key, so `offline` can replay the last resolution. Every write
// is a temporary file renamed into place.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

type chartSpec struct {
	Type    string `json:"type"` // oci | http | dir
	URL     string `json:"url,omitempty"`
	Tag     string `json:"tag,omitempty"`
	Semver  string `json:"semver,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path,omitempty"`
	// A directory chart's content digest, given by a caller that vouches for the directory (the
	// chart files the schema lock pins, staged and checked by haos-tasks): the render cache is then
	// answered without loading and hashing the directory. Without it the files are hashed.
	ContentDigest string `json:"contentDigest,omitempty"`
	// helm-controller's chart version "+<first 12 hex of the artifact digest>" (OCIRepository /
	// ExternalArtifact chartRef).
	DigestTracking  bool   `json:"digestTracking,omitempty"`
	VersionOverride string `json:"versionOverride,omitempty"`
}

type mirror struct {
	Origin string `json:"origin"`
	URL    string `json:"url"`
}

// fetched is a chart archive (or directory) and where it came from.
type fetched struct {
	archive []byte
	dir     string
	// sha256:<hex> of the archive
	digest string
	// OCI manifest digest (the OCIRepository artifact revision's digest)
	manifestDigest string
	version        string
	origin         string
	cached         bool
}

type indexEntry struct {
	Digest         string `json:"digest"`
	ManifestDigest string `json:"manifestDigest,omitempty"`
	Version        string `json:"version"`
	Name           string `json:"name,omitempty"`
	Origin         string `json:"origin"`
}

type fetcher struct {
	cacheDir string
	offline  bool
	mirrors  []mirror
	timeout  time.Duration
}

func unavailable(format string, args ...any) *opError {
	return &opError{Code: "chart-unavailable", Message: fmt.Sprintf(format, args...)}
}

// rewrite applies the first mirror whose origin prefixes u at a path boundary.
func (f *fetcher) rewrite(u string) string {
	for _, m := range f.mirrors {
		o := strings.TrimSuffix(m.Origin, "/")
		if u == o || strings.HasPrefix(u, o+"/") {
			return strings.TrimSuffix(m.URL, "/") + strings.TrimPrefix(u, o)
		}
	}
	return u
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func (f *fetcher) indexPath(origin, name, spec string) string {
	return filepath.Join(f.cacheDir, "charts", "index", sha256Hex([]byte(origin+"\x00"+name+"\x00"+spec))+".json")
}

func (f *fetcher) archivePath(digest string) string {
	return filepath.Join(f.cacheDir, "charts", "sha256", strings.TrimPrefix(digest, "sha256:")+".tgz")
}

// fromCache returns the archive the index records for (origin, name, spec), verified against its
// digest.
func (f *fetcher) fromCache(origin, name, spec string) (*fetched, bool) {
	if f.cacheDir == "" {
		return nil, false
	}
	path := f.indexPath(origin, name, spec)
	if c, ok := cacheMemo.get(path); ok {
		return &c, true
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var e indexEntry
	if json.Unmarshal(data, &e) != nil || e.Digest == "" {
		return nil, false
	}
	archive, err := os.ReadFile(f.archivePath(e.Digest))
	if err != nil || "sha256:"+sha256Hex(archive) != e.Digest {
		return nil, false
	}
	c := fetched{archive: archive, digest: e.Digest, manifestDigest: e.ManifestDigest, version: e.Version, origin: origin, cached: true}
	cacheMemo.put(path, c)
	return &c, true
}

// store writes the archive and the index entries for each spec.
func (f *fetcher) store(c *fetched, name string, specs ...string) error {
	if f.cacheDir == "" {
		return nil
	}
	if err := writeAtomic(f.archivePath(c.digest), c.archive); err != nil {
		return err
	}
	entry, _ := json.Marshal(indexEntry{Digest: c.digest, ManifestDigest: c.manifestDigest, Version: c.version, Name: name, Origin: c.origin})
	for _, spec := range specs {
		if err := writeAtomic(f.indexPath(c.origin, name, spec), entry); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

const offlineHint = "run once online or drop --offline"

func (f *fetcher) fetch(spec *chartSpec) (*fetched, error) {
	switch spec.Type {
	case "dir":
		if spec.Path == "" || !filepath.IsAbs(spec.Path) {
			return nil, &opError{Code: "bad-request", Message: fmt.Sprintf("chart type dir needs an absolute path, got %q", spec.Path)}
		}
		if st, err := os.Stat(spec.Path); err != nil || !st.IsDir() {
			return nil, unavailable("chart directory %s does not exist", spec.Path)
		}
		return &fetched{dir: spec.Path, origin: spec.Path}, nil
	case "oci":
		return f.fetchOCI(spec)
	case "http":
		return f.fetchHTTP(spec)
	default:
		return nil, &opError{Code: "bad-request", Message: fmt.Sprintf("unknown chart type %q", spec.Type), Hint: `chart types: "oci", "http", "dir"`}
	}
}

// ociTarget is a rewritten oci:// URL as a registry reference plus its transport.
func (f *fetcher) ociTarget(origin string) (ref string, plainHTTP bool, err error) {
	target := f.rewrite(origin)
	switch {
	case strings.HasPrefix(target, "oci://"):
		return strings.TrimPrefix(target, "oci://"), false, nil
	case strings.HasPrefix(target, "http://"):
		return strings.TrimPrefix(target, "http://"), true, nil
	case strings.HasPrefix(target, "https://"):
		return strings.TrimPrefix(target, "https://"), false, nil
	}
	return "", false, fmt.Errorf("%s is not an oci:// URL", target)
}

func (f *fetcher) registryClient(plainHTTP bool) (*registry.Client, error) {
	opts := []registry.ClientOption{
		registry.ClientOptHTTPClient(&http.Client{Timeout: f.timeout, Transport: registry.NewTransport(false)}),
		registry.ClientOptWriter(io.Discard),
	}
	if plainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	return registry.NewClient(opts...)
}

func (f *fetcher) fetchOCI(spec *chartSpec) (*fetched, error) {
	origin := strings.TrimSuffix(spec.URL, "/")
	if !strings.HasPrefix(origin, "oci://") {
		return nil, &opError{Code: "bad-request", Message: fmt.Sprintf("chart type oci needs an oci:// url, got %q", spec.URL)}
	}
	var key string
	switch {
	case spec.Digest != "":
		key = "digest:" + spec.Digest
	case spec.Tag != "":
		key = "tag:" + spec.Tag
	case spec.Semver != "":
		key = "semver:" + spec.Semver
	default:
		key = "tag:latest"
	}
	exact := spec.Semver == "" || spec.Digest != "" || spec.Tag != ""
	if exact || f.offline {
		if c, ok := f.fromCache(origin, "", key); ok {
			return c, nil
		}
	}
	if f.offline {
		return nil, &opError{Code: "chart-unavailable", Message: fmt.Sprintf("chart %s (%s) is not in the cache %s and the render is offline", origin, key, f.cacheDir), Hint: offlineHint}
	}
	rangeKey := f.rewrite(origin) + "\x00\x00" + spec.Semver
	if !exact {
		if tag, ok := rangeMemo.get(rangeKey); ok {
			if c, ok := f.fromCache(origin, "", "tag:"+tag); ok {
				return c, nil
			}
		}
	}
	ref, plainHTTP, err := f.ociTarget(origin)
	if err != nil {
		return nil, &opError{Code: "bad-request", Message: err.Error()}
	}
	if down := hostDown(origin, ref); down != nil {
		return nil, down
	}
	client, err := f.registryClient(plainHTTP)
	if err != nil {
		return nil, unavailable("%s: cannot create the registry client: %v", origin, err)
	}
	tag := spec.Tag
	switch {
	case spec.Digest != "":
		ref = ref + "@" + spec.Digest
	case spec.Semver != "" && spec.Tag == "":
		constraint, cerr := semver.NewConstraint(spec.Semver)
		if cerr != nil {
			return nil, &opError{Code: "bad-request", Message: fmt.Sprintf("invalid semver range %q: %v", spec.Semver, cerr)}
		}
		var tags []string
		if err := withRetries(func() (e error) { tags, e = client.Tags(ref); return }); err != nil {
			return nil, f.fetchError(origin, ref, err)
		}
		// Tags come sorted newest first: the first match is the highest, as source-controller picks.
		for _, t := range tags {
			if v, verr := semver.NewVersion(t); verr == nil && constraint.Check(v) {
				tag = t
				break
			}
		}
		if tag == "" {
			return nil, unavailable("%s: no tag matches %s (tags: %s)", origin, spec.Semver, strings.Join(tags, ", "))
		}
		defer func() {
			if f.cacheDir != "" {
				rangeMemo.put(rangeKey, tag)
			}
		}()
		if c, ok := f.fromCache(origin, "", "tag:"+tag); ok {
			_ = f.store(c, "", key)
			return c, nil
		}
		ref = ref + ":" + strings.ReplaceAll(tag, "+", "_")
	default:
		if tag == "" {
			tag = "latest"
		}
		ref = ref + ":" + strings.ReplaceAll(tag, "+", "_")
	}
	var result *registry.PullResult
	if err := withRetries(func() (e error) { result, e = client.Pull(ref); return }); err != nil {
		return nil, f.fetchError(origin, ref, err)
	}
	c := &fetched{
		archive:        result.Chart.Data,
		digest:         "sha256:" + sha256Hex(result.Chart.Data),
		manifestDigest: result.Manifest.Digest,
		origin:         origin,
	}
	if result.Chart.Meta != nil {
		c.version = result.Chart.Meta.Version
	}
	specs := []string{key}
	if tag != "" && key != "tag:"+tag {
		specs = append(specs, "tag:"+tag)
	}
	if err := f.store(c, "", specs...); err != nil {
		return nil, unavailable("%s: cannot write the chart cache %s: %v", origin, f.cacheDir, err)
	}
	return c, nil
}

func (f *fetcher) fetchHTTP(spec *chartSpec) (*fetched, error) {
	origin := strings.TrimSuffix(spec.URL, "/")
	if !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
		return nil, &opError{Code: "bad-request", Message: fmt.Sprintf("chart type http needs an http(s):// repository url, got %q", spec.URL)}
	}
	if spec.Name == "" {
		return nil, &opError{Code: "bad-request", Message: "chart type http needs the chart name"}
	}
	version := spec.Version
	if version == "*" {
		version = ""
	}
	key := "version:" + version
	exact := version != "" && !isVersionRange(version)
	if exact || f.offline {
		if c, ok := f.fromCache(origin, spec.Name, key); ok {
			return c, nil
		}
	}
	if f.offline {
		return nil, &opError{Code: "chart-unavailable", Message: fmt.Sprintf("chart %s from %s (version %q) is not in the cache %s and the render is offline", spec.Name, origin, spec.Version, f.cacheDir), Hint: offlineHint}
	}
	base := f.rewrite(origin)
	rangeKey := base + "\x00" + spec.Name + "\x00" + version
	if !exact && f.cacheDir != "" {
		if v, ok := rangeMemo.get(rangeKey); ok {
			if c, ok := f.fromCache(origin, spec.Name, "version:"+v); ok {
				return c, nil
			}
		}
	}
	if down := hostDown(origin, base); down != nil {
		return nil, down
	}
	g, err := getter.NewHTTPGetter(getter.WithTimeout(f.timeout))
	if err != nil {
		return nil, unavailable("%s: %v", origin, err)
	}
	indexURL := strings.TrimSuffix(base, "/") + "/index.yaml"
	var buf *bytes.Buffer
	if err := withRetries(func() (e error) { buf, e = g.Get(indexURL); return }); err != nil {
		return nil, f.fetchError(origin, indexURL, err)
	}
	index, err := loadIndex(buf.Bytes())
	if err != nil {
		return nil, unavailable("%s: index.yaml cannot be read: %v", origin, err)
	}
	cv, err := index.Get(spec.Name, version)
	if err != nil {
		return nil, unavailable("%s: chart %s version %q: %v", origin, spec.Name, spec.Version, err)
	}
	if !exact && f.cacheDir != "" {
		defer rangeMemo.put(rangeKey, cv.Version)
	}
	if c, ok := f.fromCache(origin, spec.Name, "version:"+cv.Version); ok {
		_ = f.store(c, spec.Name, key)
		return c, nil
	}
	if len(cv.URLs) == 0 {
		return nil, unavailable("%s: chart %s %s has no download URL in index.yaml", origin, spec.Name, cv.Version)
	}
	chartURL, err := repo.ResolveReferenceURL(base, cv.URLs[0])
	if err != nil {
		return nil, unavailable("%s: %v", origin, err)
	}
	// An absolute chart URL under the origin goes through the mirror too.
	chartURL = f.rewrite(chartURL)
	if err := withRetries(func() (e error) { buf, e = g.Get(chartURL); return }); err != nil {
		return nil, f.fetchError(origin, chartURL, err)
	}
	archive := buf.Bytes()
	digest := sha256Hex(archive)
	if cv.Digest != "" && !strings.EqualFold(strings.TrimPrefix(cv.Digest, "sha256:"), digest) {
		return nil, unavailable("%s: %s has digest sha256:%s, index.yaml says %s", origin, chartURL, digest, cv.Digest)
	}
	c := &fetched{archive: archive, digest: "sha256:" + digest, version: cv.Version, origin: origin}
	specs := []string{key}
	if key != "version:"+cv.Version {
		specs = append(specs, "version:"+cv.Version)
	}
	if err := f.store(c, spec.Name, specs...); err != nil {
		return nil, unavailable("%s: cannot write the chart cache %s: %v", origin, f.cacheDir, err)
	}
	return c, nil
}

func loadIndex(data []byte) (*repo.IndexFile, error) {
	// repo.LoadIndexFile reads a path (its byte-level loader is unexported).
	tmp, err := os.CreateTemp("", "flux-render-index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return repo.LoadIndexFile(tmp.Name())
}

// isVersionRange is helm.sh/helm/v4 pkg/repo/v1/index.go isVersionRange (unexported).
func isVersionRange(version string) bool {
	if strings.ContainsAny(version, "^~<>=!*") || strings.Contains(version, "||") || strings.Contains(version, " - ") {
		return true
	}
	core := version
	if idx := strings.IndexAny(version, "-+"); idx != -1 {
		core = version[:idx]
	}
	return strings.ContainsAny(core, "xX")
}

type httpStatusError struct {
	url  string
	code int
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.url, e.code, http.StatusText(e.code))
}

// transient reports errors worth retrying: timeouts, refused or reset connections, 5xx and 429.
func transient(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.code >= 500 || se.code == http.StatusTooManyRequests
	}
	msg := err.Error()
	for _, s := range []string{"500 Internal Server Error", "502 Bad Gateway", "503 Service Unavailable", "504 Gateway Timeout", "429 Too Many Requests", "connection reset", "connection refused", "i/o timeout", "TLS handshake timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// retryDelays: two retries on transient errors.
var retryDelays = []time.Duration{300 * time.Millisecond, 1 * time.Second}

func withRetries(op func() error) error {
	err := op()
	for _, d := range retryDelays {
		if err == nil || !transient(err) {
			return err
		}
		time.Sleep(d)
		err = op()
	}
	return err
}

func (f *fetcher) fetchError(origin, target string, err error) *opError {
	e := unavailable("%s: %v", origin, err)
	if target != "" && !strings.Contains(e.Message, target) {
		e.Message = fmt.Sprintf("%s (fetching %s): %v", origin, target, err)
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "401") || strings.Contains(msg, "403") || strings.Contains(msg, "unauthorized") || strings.Contains(msg, "denied"):
		e.Hint = "the registry needs credentials: log in with `helm registry login` or `docker login` (Helm's and Docker's credential stores are read)"
	case strings.Contains(msg, "http: server gave http response to https client"):
		e.Hint = "the registry speaks plain HTTP: give the mirror as http://host:port/path"
	default:
		e.Hint = "check the URL and the network, or serve the chart from a mirror (--chart-mirror ORIGIN=URL)"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		e.Hint = fmt.Sprintf("no answer within %s (3 attempts): raise timeoutSeconds or use a mirror (--chart-mirror ORIGIN=URL)", f.timeout)
	}
	if unreachable(err) {
		downMemo.put(hostOf(target), *e)
	}
	return e
}

// downMemo: a host found unreachable in this process (no such host, refused, reset, timed out, no
// route — after the retries) → the error it gave. The next chart it serves fails at once with that
// error instead of waiting out three attempts again: a repository of 80 releases from an
// unreachable registry costs one failure per host and process, not 80. An HTTP answer (404, 5xx,
// 429, 401) is the server speaking and is never kept.
var downMemo memoMap[opError]

// unreachable reports network errors that say nothing answers at the host.
func unreachable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "i/o timeout", "TLS handshake timeout", "no such host", "network is unreachable", "no route to host"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// hostOf is the host[:port] of a URL or of an OCI reference without a scheme (ghcr.io/org/chart).
func hostOf(target string) string {
	t := target
	if i := strings.Index(t, "://"); i >= 0 {
		t = t[i+3:]
	}
	if i := strings.IndexAny(t, "/?#"); i >= 0 {
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

// hostDown is the error for a chart whose host this process already found unreachable, or nil.
func hostDown(origin, target string) *opError {
	prev, ok := downMemo.get(hostOf(target))
	if !ok {
		return nil
	}
	return &opError{
		Code:    "chart-unavailable",
		Message: fmt.Sprintf("%s: %s did not answer earlier in this run, not tried again (%s)", origin, hostOf(target), prev.Message),
		Hint:    prev.Hint,
	}
}
