package main

// op "helm": one HelmRelease rendered as helm-controller v1.6.4 would install it, as a client-side
// dry run. Followed upstream (Apache-2.0, Copyright The Flux authors):
//   - internal/controller/helmrelease_controller.go  reconcileRelease: values via
//     chartutil.ChartValuesFromReferences(obj.Namespace, obj.GetValues(), obj.Spec.ValuesFrom...),
//     then the chart, then mutateChartWithSourceRevision ("+<first 12 hex of the digest>")
//   - internal/action/install.go  Install / newInstall: the action.Install settings taken from the spec
//   - internal/action/crds.go     crdPolicyOrDefault, applyCRDs (chart CRDs apart from the templates,
//     non-CRD objects in crds/ ignored, origin labels via setOriginVisitor)
//   - internal/action/post_render.go  toHelmPostRenderStrategy (default "combined")
//   - internal/postrender/*       see postrender.go
// What differs, because there is no cluster: DryRunStrategy client (Helm's `helm template` path) with
// Capabilities from the request, and the template functions of funcs.go (lookup from the request,
// seeded random/time functions). values.schema.json is validated by schema.go (Helm's validation,
// with $refs resolved offline) and Helm's own validation is then skipped so it never fetches.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	v2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/chartutil"
	"github.com/go-logr/logr"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartv2util "helm.sh/helm/v4/pkg/chart/v2/util"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

type valuesSource struct {
	Kind      string            `json:"kind"`
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Data      map[string]string `json:"data"`
}

type renderedResource struct {
	Template string          `json:"template"`
	Object   json.RawMessage `json:"object"`
	CRD      bool            `json:"crd,omitempty"`
	// Helm hook events (pre-install, ...) for a hook; helm-controller runs hooks but Helm keeps them
	// out of the release manifest.
	Hook []string `json:"hook,omitempty"`
}

type chartInfo struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion,omitempty"`
	Digest     string `json:"digest,omitempty"`
	// The OCI manifest digest (what OCIRepository's revision and digest tracking use).
	ManifestDigest string `json:"manifestDigest,omitempty"`
	Origin         string `json:"origin"`
	Cached         bool   `json:"cached"`
	// Bytes of the chart archive (0 for a chart directory): what a fetch downloaded when not cached.
	Size     int64 `json:"size,omitempty"`
	FetchMs  int64 `json:"fetchMs"`
	RenderMs int64 `json:"renderMs"`
	// The answer came from the render cache (rendercache.go): nothing was rendered.
	RenderCached bool `json:"renderCached,omitempty"`
}

type helmResponse struct {
	ID          int64              `json:"id"`
	ReleaseName string             `json:"releaseName,omitempty"`
	Namespace   string             `json:"namespace,omitempty"`
	Chart       *chartInfo         `json:"chart,omitempty"`
	Resources   []renderedResource `json:"resources,omitempty"`
	Notes       string             `json:"notes,omitempty"`
	Warnings    []string           `json:"warnings,omitempty"`
	Error       *opError           `json:"error,omitempty"`
}

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil)).Handler()

func renderHelm(req *request) *helmResponse {
	var key string
	resp := renderHelmKeyed(req, &key)
	if key != "" && (resp.Chart == nil || !resp.Chart.RenderCached) {
		writeRenderCache(req.CacheDir, key, resp)
	}
	return resp
}

// renderHelmKeyed renders, or answers from the render cache; *cacheKey is set once the request's
// render-cache key is known (the chart fetched).
func renderHelmKeyed(req *request, cacheKey *string) (resp *helmResponse) {
	resp = &helmResponse{ID: req.ID}
	warnings := map[string]bool{}
	warn := func(w string) {
		if !warnings[w] {
			warnings[w] = true
			resp.Warnings = append(resp.Warnings, w)
		}
	}
	fail := func(err error) *helmResponse {
		var oe *opError
		if !errors.As(err, &oe) {
			oe = &opError{Code: "render", Message: err.Error()}
		}
		resp.Error = oe
		resp.Resources = nil
		return resp
	}
	if len(req.Release) == 0 || req.Chart == nil {
		return fail(&opError{Code: "bad-request", Message: `op "helm" needs "release" and "chart"`})
	}
	var hr v2.HelmRelease
	if err := json.Unmarshal(req.Release, &hr); err != nil {
		return fail(&opError{Code: "bad-request", Message: "release is not a HelmRelease: " + err.Error()})
	}
	if hr.Name == "" {
		return fail(&opError{Code: "bad-request", Message: "release has no metadata.name"})
	}
	if hr.Namespace == "" {
		hr.Namespace = "default"
		warn("release has no metadata.namespace: rendered in namespace default")
	}
	resp.ReleaseName = shortenName(hr.GetReleaseName())
	resp.Namespace = hr.GetReleaseNamespace()
	timeout := 60 * time.Second
	if req.TimeoutSeconds > 0 {
		timeout = time.Duration(req.TimeoutSeconds) * time.Second
	}

	// Values, exactly as helm-controller composes them.
	values, err := composeValues(&hr, req.ValuesSources)
	if err != nil {
		return fail(err)
	}

	// The chart.
	f := &fetcher{cacheDir: req.CacheDir, offline: req.Offline, mirrors: req.Mirrors, timeout: timeout}
	start := time.Now()
	got, err := f.fetch(req.Chart)
	if err != nil {
		return fail(err)
	}
	load := func() (*chartv2.Chart, error) {
		if got.dir != "" {
			c, err := loader.LoadDir(got.dir)
			if err != nil {
				return nil, err
			}
			return c, resolveDirDependencies(c, got.dir, f)
		}
		return loadArchiveMemo(got.digest, got.archive)
	}
	cached := func(fetchMs int64) *helmResponse {
		hit := readRenderCache(req.CacheDir, *cacheKey)
		if hit == nil {
			return nil
		}
		hit.ID = req.ID
		hit.Chart.Cached, hit.Chart.FetchMs, hit.Chart.RenderCached = got.cached, fetchMs, true
		hit.Chart.Size = int64(len(got.archive))
		return hit
	}
	// The caller's content digest of a directory chart stands for its files.
	vouched := ""
	if got.dir != "" && req.Chart.ContentDigest != "" {
		vouched = "content:" + req.Chart.ContentDigest
	}
	if got.dir == "" || vouched != "" {
		// An archive's key is known before it is even decompressed (a vouched directory's too).
		key := got.digest
		if vouched != "" {
			key = vouched
		}
		if *cacheKey = renderKey(req, got, key); *cacheKey != "" {
			if hit := cached(time.Since(start).Milliseconds()); hit != nil {
				return hit
			}
		}
	}
	chrt, err := load()
	fetchMs := time.Since(start).Milliseconds()
	if err != nil {
		var oe *opError
		if errors.As(err, &oe) {
			return fail(oe)
		}
		return fail(&opError{Code: "render", Message: fmt.Sprintf("loading chart %s: %v", got.origin, err)})
	}
	chartKey := got.digest
	if vouched != "" {
		chartKey = vouched
	} else if got.dir != "" {
		// A directory's content (with the dependencies it was given) is its digest.
		chartKey = digestOfFiles(chrt)
		if *cacheKey = renderKey(req, got, chartKey); *cacheKey != "" {
			if hit := cached(fetchMs); hit != nil {
				return hit
			}
		}
	}
	renderStart := time.Now()
	artifactDigest := got.manifestDigest
	if artifactDigest == "" {
		artifactDigest = got.digest
	}
	if err := mutateVersion(chrt, req.Chart, artifactDigest, warn); err != nil {
		return fail(err)
	}
	resp.Chart = &chartInfo{
		Name: chrt.Name(), Version: chrt.Metadata.Version, AppVersion: chrt.Metadata.AppVersion,
		Digest: got.digest, ManifestDigest: got.manifestDigest, Origin: got.origin, Cached: got.cached, FetchMs: fetchMs,
		Size: int64(len(got.archive)),
	}

	// values.schema.json, as Helm validates it (after dependency processing, on coalesced values).
	if !hr.GetInstall().DisableSchemaValidation {
		check, err := load()
		if err != nil {
			return fail(&opError{Code: "render", Message: fmt.Sprintf("loading chart %s: %v", got.origin, err)})
		}
		if err := chartv2util.ProcessDependencies(check, values); err != nil {
			return fail(&opError{Code: "render", Message: "chart dependencies processing failed: " + err.Error()})
		}
		coalesced, err := commonutil.CoalesceValues(check, values)
		if err != nil {
			return fail(&opError{Code: "render", Message: err.Error()})
		}
		res := newSchemaResolver(check, req, timeout)
		err = validateValues(check, coalesced, chartKey, res)
		for _, w := range res.warnings {
			warn(w)
		}
		if err != nil {
			var se *schemaValidationError
			if errors.As(err, &se) {
				oe := &opError{Code: "values-schema", Message: se.message, SchemaErrors: se.errors}
				if len(se.urls) > 0 {
					oe.Hint = "give the referenced schema files (schemaFiles / schemaMirrors, e.g. from schemas.lock.json) or run once online to cache them"
				}
				return fail(oe)
			}
			return fail(&opError{Code: "values-schema", Message: err.Error()})
		}
	}

	idx, err := newLookupIndex(req.Lookup)
	if err != nil {
		return fail(&opError{Code: "bad-request", Message: err.Error()})
	}
	policy, err := crdPolicyOrDefault(hr.GetInstall().CRDs)
	if err != nil {
		return fail(&opError{Code: "render", Message: err.Error()})
	}

	cfg := action.NewConfiguration(action.ConfigurationSetLogger(discardLogger))
	cfg.CustomTemplateFuncs = renderFuncs(resp.Namespace+"\x00"+resp.ReleaseName, idx, warn)
	for name, fn := range failFuncs() {
		cfg.CustomTemplateFuncs[name] = fn
	}
	install := newInstall(cfg, &hr)
	if req.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(req.KubeVersion)
		if err != nil {
			return fail(&opError{Code: "bad-request", Message: fmt.Sprintf("kubeVersion %q: %v", req.KubeVersion, err)})
		}
		install.KubeVersion = kv
	}
	install.APIVersions = req.APIVersions
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rlsr, err := install.RunWithContext(ctx, chrt, values.AsMap())
	resp.Chart.RenderMs = time.Since(renderStart).Milliseconds()
	if err != nil {
		return fail(classifyRenderError(err))
	}
	rel, ok := rlsr.(*releasev1.Release)
	if !ok {
		return fail(&opError{Code: "render", Message: "only the Chart API v2 is supported"})
	}

	// CRDs first (applyCRDs runs before the install), unless the policy skips them.
	if policy != v2.Skip {
		for _, crd := range chrt.CRDObjects() {
			docs, err := splitYAML(crd.File.Data)
			if err != nil {
				return fail(&opError{Code: "render", Message: fmt.Sprintf("failed to parse CustomResourceDefinitions from %s: %v", crd.Name, err), Template: crd.Filename})
			}
			for _, doc := range docs {
				if doc["apiVersion"] == nil || !strings.HasPrefix(fmt.Sprint(doc["apiVersion"]), "apiextensions.k8s.io/") || doc["kind"] != "CustomResourceDefinition" {
					warn(fmt.Sprintf("ignoring non-CRD resource %v/%v in the chart's crds/ directory (%s), as helm-controller does", doc["kind"], nameOf(doc), crd.Filename))
					continue
				}
				mergeLabels(doc, originLabels(v2.GroupVersion.Group, hr.Namespace, hr.Name))
				data, err := json.Marshal(doc)
				if err != nil {
					return fail(err)
				}
				resp.Resources = append(resp.Resources, renderedResource{Template: crd.Filename, Object: data, CRD: true})
			}
		}
	}
	manifests, err := splitManifest(rel.Manifest)
	if err != nil {
		return fail(&opError{Code: "render", Message: err.Error()})
	}
	resp.Resources = append(resp.Resources, manifests...)
	if !hr.GetInstall().DisableHooks {
		for _, h := range rel.Hooks {
			docs, err := splitYAML([]byte(h.Manifest))
			if err != nil {
				return fail(&opError{Code: "render", Message: fmt.Sprintf("hook %s: %v", h.Path, err), Template: h.Path})
			}
			events := make([]string, 0, len(h.Events))
			for _, e := range h.Events {
				events = append(events, string(e))
			}
			for _, doc := range docs {
				data, err := json.Marshal(doc)
				if err != nil {
					return fail(err)
				}
				resp.Resources = append(resp.Resources, renderedResource{Template: h.Path, Object: data, Hook: events})
			}
		}
	}
	resp.Notes = rel.Info.Notes
	return resp
}

// valuesReader answers the one call chartutil.ChartValuesFromReferences makes of its client — Get
// of a ConfigMap or a Secret — from the request's sources, as controller-runtime's fake client
// did (a copy of the object, or the API server's NotFound: `configmaps "name" not found`) without
// building a fake client per request (0.8 ms of registering its scheme's types each time: most of
// a render-cache hit). Any other call would panic on the nil Client, and handle recovers it;
// chartutil makes none.
type valuesReader struct {
	client.Client
	objects map[string]client.Object
}

func (r valuesReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	var kind, resource string
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind, resource = "ConfigMap", "configmaps"
	case *corev1.Secret:
		kind, resource = "Secret", "secrets"
	default:
		return fmt.Errorf("valuesReader: cannot get a %T", obj)
	}
	found, ok := r.objects[kind+"\x00"+key.Namespace+"\x00"+key.Name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, key.Name)
	}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		found.(*corev1.ConfigMap).DeepCopyInto(o)
	case *corev1.Secret:
		found.(*corev1.Secret).DeepCopyInto(o)
	}
	return nil
}

// composeValues is helm-controller's call of chartutil.ChartValuesFromReferences, with the
// ConfigMaps and Secrets of the request served by controller-runtime's fake client.
func composeValues(hr *v2.HelmRelease, sources []valuesSource) (common.Values, error) {
	var c client.Client
	if len(hr.Spec.ValuesFrom) > 0 {
		// A source listed twice (a HelmRelease may reference one ConfigMap under several keys) is
		// one object, the last one given: the fake client panics on a second object of one name.
		byKey := make(map[string]client.Object, len(sources))
		for _, s := range sources {
			meta := metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace}
			var obj client.Object
			switch s.Kind {
			case "ConfigMap":
				obj = &corev1.ConfigMap{ObjectMeta: meta, Data: s.Data}
			case "Secret":
				data := make(map[string][]byte, len(s.Data))
				for k, v := range s.Data {
					data[k] = []byte(v)
				}
				obj = &corev1.Secret{ObjectMeta: meta, Data: data}
			default:
				return nil, &opError{Code: "bad-request", Message: fmt.Sprintf("valuesSources: kind %q (ConfigMap or Secret)", s.Kind)}
			}
			byKey[s.Kind+"\x00"+s.Namespace+"\x00"+s.Name] = obj
		}
		c = valuesReader{objects: byKey}
	}
	values, err := chartutil.ChartValuesFromReferences(context.Background(), logr.Discard(), c, hr.Namespace, hr.GetValues(), hr.Spec.ValuesFrom...)
	if err != nil {
		oe := &opError{Code: "values-from", Message: err.Error()}
		var ref *chartutil.ErrValuesReference
		if errors.As(err, &ref) {
			switch {
			case errors.Is(err, chartutil.ErrResourceNotFound):
				oe.Hint = fmt.Sprintf("define %s %s in the repository (in the HelmRelease's namespace) or mark the reference `optional: true`", ref.Kind, ref.Name)
			case errors.Is(err, chartutil.ErrKeyNotFound):
				oe.Hint = fmt.Sprintf("add the key %q to %s %s or set valuesKey to one of its keys", ref.Key, ref.Kind, ref.Name)
			}
		}
		return nil, oe
	}
	return values, nil
}

// newInstall is internal/action/install.go newInstall, for a client-side dry run.
func newInstall(cfg *action.Configuration, obj *v2.HelmRelease) *action.Install {
	install := action.NewInstall(cfg)
	install.ServerSideApply = true
	if ssa := obj.GetInstall().ServerSideApply; ssa != nil {
		install.ServerSideApply = *ssa
	}
	install.ForceConflicts = install.ServerSideApply
	install.ReleaseName = shortenName(obj.GetReleaseName())
	install.Namespace = obj.GetReleaseNamespace()
	install.TakeOwnership = !obj.GetInstall().DisableTakeOwnership
	install.WaitForJobs = !obj.GetInstall().DisableWaitForJobs
	install.DisableHooks = obj.GetInstall().DisableHooks
	install.DisableOpenAPIValidation = obj.GetInstall().DisableOpenAPIValidation
	// schema.go validated the values already (offline); Helm's validator would fetch $refs.
	install.SkipSchemaValidation = true
	install.Replace = obj.GetInstall().Replace
	install.Devel = true
	install.SkipCRDs = true
	if obj.Spec.TargetNamespace != "" {
		install.CreateNamespace = obj.GetInstall().CreateNamespace
	}
	install.PostRenderer = buildPostRenderers(obj)
	install.PostRenderStrategy = action.PostRenderStrategyCombined
	if s := obj.GetPostRenderStrategy(); s != "" {
		install.PostRenderStrategy = action.PostRenderStrategy(s)
	}
	install.DryRunStrategy = action.DryRunClient
	return install
}

// crdPolicyOrDefault is internal/action/crds.go crdPolicyOrDefault.
func crdPolicyOrDefault(policy v2.CRDsPolicy) (v2.CRDsPolicy, error) {
	switch policy {
	case "":
		policy = v2.Create
	case v2.Skip, v2.Create, v2.CreateReplace:
	default:
		return policy, fmt.Errorf("invalid CRD upgrade policy '%s', valid values are '%s', '%s' or '%s'",
			policy, v2.Skip, v2.Create, v2.CreateReplace)
	}
	return policy, nil
}

// mutateVersion sets versionOverride, then helm-controller's mutateChartWithSourceRevision for
// digest tracking: the version's build metadata becomes the first 12 hex of the artifact digest.
func mutateVersion(chrt *chartv2.Chart, spec *chartSpec, digest string, warn func(string)) error {
	if spec.VersionOverride != "" {
		chrt.Metadata.Version = spec.VersionOverride
	}
	if !spec.DigestTracking {
		return nil
	}
	if digest == "" {
		warn("digestTracking: the chart has no artifact digest (a directory chart); the version is left as it is")
		return nil
	}
	ver, err := semver.NewVersion(chrt.Metadata.Version)
	if err != nil {
		return &opError{Code: "render", Message: fmt.Sprintf("invalid chart version %s", chrt.Metadata.Version)}
	}
	_, sha, ok := strings.Cut(digest, ":")
	if !ok || len(sha) < 12 {
		return &opError{Code: "render", Message: fmt.Sprintf("invalid artifact revision %s", digest)}
	}
	withMeta, err := ver.SetMetadata(sha[:12])
	if err != nil {
		return &opError{Code: "render", Message: err.Error()}
	}
	chrt.Metadata.Version = withMeta.String()
	return nil
}

// resolveDirDependencies gives a chart directory the dependencies its Chart.yaml declares but its
// charts/ directory lacks, as source-controller's dependency manager builds a GitRepository chart:
// file:// repositories from the working tree, oci:// and http(s):// ones through the fetcher (cache,
// mirrors, offline).
func resolveDirDependencies(c *chartv2.Chart, dir string, f *fetcher) error {
	if c.Metadata == nil {
		return nil
	}
	have := map[string]bool{}
	for _, d := range c.Dependencies() {
		have[d.Name()] = true
	}
	for _, dep := range c.Metadata.Dependencies {
		if have[dep.Name] {
			continue
		}
		var sub *chartv2.Chart
		var err error
		switch {
		case strings.HasPrefix(dep.Repository, "file://"):
			p := strings.TrimPrefix(dep.Repository, "file://")
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			sub, err = loader.LoadDir(p)
			if err == nil {
				err = resolveDirDependencies(sub, p, f)
			}
		case strings.HasPrefix(dep.Repository, "oci://"):
			var got *fetched
			spec := &chartSpec{Type: "oci", URL: strings.TrimSuffix(dep.Repository, "/") + "/" + dep.Name}
			if isVersionRange(dep.Version) {
				spec.Semver = dep.Version
			} else {
				spec.Tag = dep.Version
			}
			if got, err = f.fetch(spec); err == nil {
				sub, err = loadArchiveMemo(got.digest, got.archive)
			}
		case strings.HasPrefix(dep.Repository, "http://"), strings.HasPrefix(dep.Repository, "https://"):
			var got *fetched
			if got, err = f.fetch(&chartSpec{Type: "http", URL: dep.Repository, Name: dep.Name, Version: dep.Version}); err == nil {
				sub, err = loadArchiveMemo(got.digest, got.archive)
			}
		default:
			return &opError{Code: "chart-unavailable", Message: fmt.Sprintf("%s: dependency %s (repository %q) is not in charts/ and cannot be resolved", dir, dep.Name, dep.Repository),
				Hint: "vendor the dependency under charts/ or give it a file://, oci:// or https:// repository"}
		}
		if err != nil {
			var oe *opError
			if errors.As(err, &oe) {
				oe.Message = fmt.Sprintf("%s: dependency %s: %s", dir, dep.Name, oe.Message)
				return oe
			}
			return &opError{Code: "chart-unavailable", Message: fmt.Sprintf("%s: dependency %s from %s: %v", dir, dep.Name, dep.Repository, err)}
		}
		c.AddDependency(sub)
	}
	return nil
}

// digestOfFiles identifies a directory chart's content for the compiled-schema cache.
func digestOfFiles(c *chartv2.Chart) string {
	h := sha256.New()
	var walk func(c *chartv2.Chart)
	walk = func(c *chartv2.Chart) {
		files := append([]*common.File{}, c.Raw...)
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		fmt.Fprintf(h, "chart %s\n", c.ChartFullPath())
		for _, f := range files {
			fmt.Fprintf(h, "%s %d\n", f.Name, len(f.Data))
			h.Write(f.Data)
		}
		for _, d := range c.Dependencies() {
			walk(d)
		}
	}
	walk(c)
	return "dir:" + hex.EncodeToString(h.Sum(nil))
}

var sourceLine = regexp.MustCompile(`(?m)^---\n# Source: ([^\n]*)\n`)

// splitManifest turns Helm's release manifest ("---\n# Source: <template>\n<yaml>" per object) into
// objects, in order.
func splitManifest(manifest string) ([]renderedResource, error) {
	var out []renderedResource
	locs := sourceLine.FindAllStringSubmatchIndex(manifest, -1)
	for i, loc := range locs {
		end := len(manifest)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		template := manifest[loc[2]:loc[3]]
		docs, err := splitYAML([]byte(manifest[loc[1]:end]))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", template, err)
		}
		for _, doc := range docs {
			data, err := json.Marshal(doc)
			if err != nil {
				return nil, err
			}
			out = append(out, renderedResource{Template: template, Object: data})
		}
	}
	return out, nil
}

// splitYAML decodes a multi-document YAML stream into objects (sigs.k8s.io/yaml semantics, as the
// Kubernetes client reads a manifest), skipping empty documents.
func splitYAML(data []byte) ([]map[string]any, error) {
	var out []map[string]any
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, err
		}
		if len(obj) > 0 {
			out = append(out, obj)
		}
	}
}

func nameOf(doc map[string]any) any {
	if m, ok := doc["metadata"].(map[string]any); ok {
		return m["name"]
	}
	return nil
}

func mergeLabels(doc map[string]any, labels map[string]string) {
	meta, ok := doc["metadata"].(map[string]any)
	if !ok {
		meta = map[string]any{}
		doc["metadata"] = meta
	}
	current, ok := meta["labels"].(map[string]any)
	if !ok {
		current = map[string]any{}
	}
	for k, v := range labels {
		current[k] = v
	}
	meta["labels"] = current
}

// Helm's `fail` and `required` (pkg/engine/engine.go initFunMap) wrap their message in markers that
// make Helm report only the outermost template position; these return the same message with a marker
// of their own, so Helm's error keeps the whole template chain and classifyRenderError can report the
// innermost position, then rebuild Helm's exact message.
const failStart, failEnd = "FLUX_RENDER_FAIL<<", ">>FLUX_RENDER_FAIL"

func failFuncs() map[string]any {
	return map[string]any{
		"fail": func(msg string) (string, error) {
			return "", errors.New(failStart + msg + failEnd)
		},
		"required": func(warn string, val any) (any, error) {
			if val == nil {
				return val, errors.New(failStart + warn + failEnd)
			} else if s, ok := val.(string); ok && s == "" {
				return val, errors.New(failStart + warn + failEnd)
			}
			return val, nil
		},
	}
}

var (
	failRe = regexp.MustCompile(`(?s)` + regexp.QuoteMeta(failStart) + `(.*?)` + regexp.QuoteMeta(failEnd))
	// a position line of Helm's multi-line trace ("app/templates/x.yaml:12:3")
	traceLocRe = regexp.MustCompile(`(?m)^(\S+?):(\d+)(?::(\d+))?$`)
	// text/template's own chain ("template: app/templates/x.yaml:12:3: executing ...")
	tmplLocRe = regexp.MustCompile(`template: (\S+?):(\d+)(?::(\d+))?: `)
	execAtRe  = regexp.MustCompile(`execution error at \((\S+?):(\d+)(?::(\d+))?\)`)
	parseAtRe = regexp.MustCompile(`parse error (?:at|in) \((\S+?)(?::(\d+))?(?::(\d+))?\)`)
	yamlErrRe = regexp.MustCompile(`YAML parse error on (\S+?): `)
)

type position struct {
	template     string
	line, column int
}

func positionsOf(re *regexp.Regexp, text string) []position {
	var out []position
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		p := position{template: m[1]}
		if len(m) > 2 {
			p.line, _ = strconv.Atoi(m[2])
		}
		if len(m) > 3 {
			p.column, _ = strconv.Atoi(m[3])
		}
		out = append(out, p)
	}
	return out
}

func (p position) String() string {
	s := p.template
	if p.line > 0 {
		s += ":" + strconv.Itoa(p.line)
	}
	if p.column > 0 {
		s += ":" + strconv.Itoa(p.column)
	}
	return s
}

// classifyRenderError turns Helm's install error into the protocol's error: code post-render for
// the post-renderers, else render, with the template position Helm's text names (the innermost one).
func classifyRenderError(err error) *opError {
	text := err.Error()
	oe := &opError{Code: "render", Message: text}
	if strings.Contains(text, "error while running post render") || strings.Contains(text, "error while parsing post rendered output") || strings.Contains(text, "error merging manifests") {
		oe.Code = "post-render"
		oe.Hint = "check spec.postRenderers: a patch must match an object the chart renders and be valid for it"
		return oe
	}
	if strings.Contains(text, "chart requires kubeVersion") {
		oe.Hint = "the chart does not support the declared Kubernetes version (kubeVersion)"
		return oe
	}
	var pos []position
	if m := failRe.FindStringSubmatch(text); m != nil {
		msg := m[1]
		// Every position Helm printed, outermost first.
		pos = positionsOf(traceLocRe, text)
		if len(pos) == 0 {
			pos = positionsOf(tmplLocRe, text)
		}
		if len(pos) > 0 {
			// Helm's own message for a fail/required: the outermost position and the message.
			oe.Message = fmt.Sprintf("execution error at (%s): %s", pos[0], msg)
		} else {
			oe.Message = failRe.ReplaceAllString(text, "$1")
		}
	} else {
		for _, re := range []*regexp.Regexp{execAtRe, traceLocRe, tmplLocRe, parseAtRe} {
			if pos = positionsOf(re, text); len(pos) > 0 {
				break
			}
		}
		if len(pos) == 0 {
			if m := yamlErrRe.FindStringSubmatch(text); m != nil {
				// The line of a YAML error counts in the rendered output, not in the template.
				oe.Template = m[1]
				oe.Hint = "the template renders invalid YAML (the line number counts in the rendered output)"
				return oe
			}
		}
	}
	if len(pos) > 0 {
		inner := pos[len(pos)-1]
		oe.Template, oe.Line, oe.Column = inner.template, inner.line, inner.column
	}
	return oe
}
