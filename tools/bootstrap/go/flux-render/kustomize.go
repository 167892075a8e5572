package main

// op "kustomize": a Flux Kustomization built as kustomize-controller v1.9.0 builds it
// (internal/controller/kustomization_controller.go generate + build): fluxcd/pkg/kustomize v1.35.0's
// Generator makes the kustomization (targetNamespace, namePrefix, nameSuffix, components,
// patches, images, buildMetadata, or a generated kustomization.yaml listing the path's manifests),
// then its Build runs kustomize with load restrictions off and builtin plugins only, on the
// controller's secure file system rooted at the source (remote bases allowed, the controller's
// default). The difference: the controller writes the kustomization file into its temporary copy of
// the source; here Generator.GenerateManifest returns it and it is written into the library's
// copy-on-write overlay (fluxcd/pkg/kustomize/filesys MakeFsInMemory), so the user's checkout is never
// written. Origins come from kustomize's origin annotations (added to buildMetadata, then removed
// unless the kustomization asked for them), as kustomize-build reports them.
//
// Not done here (the controller does them after the build): postBuild substitution (op "envsubst" on
// each object's "text"), SOPS decryption, commonMetadata and the controller's own labels, applied at
// apply time.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fluxcd/pkg/kustomize"
	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

type kustomizeObject struct {
	Origin *origin         `json:"origin,omitempty"`
	Object json.RawMessage `json:"object"`
	// The object's YAML as the controller substitutes it, for objects holding "${".
	Text string `json:"text,omitempty"`
}

type origin struct {
	Path         string `json:"path,omitempty"`
	Repo         string `json:"repo,omitempty"`
	Ref          string `json:"ref,omitempty"`
	ConfiguredIn string `json:"configuredIn,omitempty"`
	ConfiguredBy any    `json:"configuredBy,omitempty"`
}

type kustomizeResponse struct {
	ID        int64             `json:"id"`
	Resources []kustomizeObject `json:"resources,omitempty"`
	// "created" when the path had no kustomization file and the generator listed its manifests
	Kustomization string   `json:"kustomization,omitempty"`
	Error         *opError `json:"error,omitempty"`
}

func runKustomize(req *request) *kustomizeResponse {
	resp := &kustomizeResponse{ID: req.ID}
	fail := func(code, format string, args ...any) *kustomizeResponse {
		resp.Resources = nil
		resp.Error = &opError{Code: code, Message: fmt.Sprintf(format, args...)}
		return resp
	}
	if req.Root == "" || !filepath.IsAbs(req.Root) {
		return fail("bad-request", `op "kustomize" needs an absolute "root"`)
	}
	root := filepath.Clean(req.Root)
	dirPath := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(req.Path, "./")))
	if dirPath != root && !strings.HasPrefix(dirPath, root+string(filepath.Separator)) {
		return fail("bad-request", "path %q leaves the source root", req.Path)
	}
	spec := req.Spec
	if spec == nil {
		spec = map[string]any{}
	}
	ks := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": "flux-render", "namespace": "flux-system"},
		"spec":       spec,
	}}
	manifest, kfile, action, err := kustomize.NewGenerator(root, ks).GenerateManifest(dirPath)
	if err != nil {
		return fail("build", "%v", err)
	}
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return fail("build", "%v", err)
	}
	userOrigin := slices.Contains(kus.BuildMetadata, kustypes.OriginAnnotations)
	if !userOrigin {
		kus.BuildMetadata = append(kus.BuildMetadata, kustypes.OriginAnnotations)
		if manifest, err = yaml.Marshal(kus); err != nil {
			return fail("build", "%v", err)
		}
	}
	disk, err := securefs.MakeFsOnDiskSecureBuild(root)
	if err != nil {
		return fail("build", "%v", err)
	}
	fs := securefs.MakeFsInMemory(disk)
	if err := fs.WriteFile(kfile, manifest); err != nil {
		return fail("build", "%v", err)
	}
	m, err := kustomize.Build(fs, dirPath)
	if err != nil {
		return fail("build", "kustomize build failed: %v", err)
	}
	origins := make([]*origin, 0, m.Size())
	for _, r := range m.Resources() {
		o, err := r.GetOrigin()
		if err != nil {
			return fail("build", "%v", err)
		}
		if o == nil {
			origins = append(origins, nil)
			continue
		}
		out := &origin{Path: o.Path, Repo: o.Repo, Ref: o.Ref, ConfiguredIn: o.ConfiguredIn}
		if o.ConfiguredBy.Name != "" || o.ConfiguredBy.Kind != "" {
			out.ConfiguredBy = o.ConfiguredBy
		}
		origins = append(origins, out)
	}
	if !userOrigin {
		if err := m.RemoveOriginAnnotations(); err != nil {
			return fail("build", "failed to clean up origin tracking annotations: %v", err)
		}
	}
	for i, r := range m.Resources() {
		// the controller's check (kustomization_controller.go build)
		if r.GetName() == "" || r.GetKind() == "" || r.GetApiVersion() == "" {
			return fail("build", "failed to decode Kubernetes apiVersion, kind and name from: %v", r.String())
		}
		data, err := r.MarshalJSON()
		if err != nil {
			return fail("build", "%v", err)
		}
		obj := kustomizeObject{Origin: origins[i], Object: data}
		if bytes.Contains(data, []byte("${")) {
			text, err := r.AsYAML()
			if err != nil {
				return fail("build", "%v", err)
			}
			obj.Text = string(text)
		}
		resp.Resources = append(resp.Resources, obj)
	}
	if action == kustomize.CreatedAction {
		resp.Kustomization = "created"
	}
	return resp
}
