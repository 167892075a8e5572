package main

// helm-controller v1.6.4's post-rendering, reproduced with the same libraries: its code lives in
// internal/ packages that cannot be imported. Followed line by line (Apache-2.0, Copyright The Flux
// authors):
//   - internal/postrender/build.go            BuildPostRenderers (order: kustomize, commonMetadata, origin labels)
//   - internal/postrender/combined.go         Combined
//   - internal/postrender/kustomize.go        Kustomize (in-memory kustomization over helm-output.yaml)
//   - internal/postrender/common_renderer.go  CommonRenderer, OriginLabels
//   - internal/postrender/transformer.go      transform, labelTransformer, annotationTransformer
//   - internal/release/name.go                ShortenName
//   - internal/action/crds.go                 setOriginVisitor (origin labels on the chart's CRDs)

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	v2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	helmpostrender "helm.sh/helm/v4/pkg/postrenderer"
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// buildPostRenderers is internal/postrender/build.go BuildPostRenderers.
func buildPostRenderers(rel *v2.HelmRelease) helmpostrender.PostRenderer {
	if rel == nil {
		return nil
	}
	renderers := make([]helmpostrender.PostRenderer, 0)
	for _, r := range rel.Spec.PostRenderers {
		if r.Kustomize != nil {
			renderers = append(renderers, &kustomizeRenderer{
				Patches: r.Kustomize.Patches,
				Images:  r.Kustomize.Images,
			})
		}
	}
	if rel.Spec.CommonMetadata != nil {
		renderers = append(renderers, newCommonRenderer(rel.Spec.CommonMetadata))
	}
	// OriginLabels takes precedence over CommonMetadata renderer, so that in case of label key
	// collision, the label from common metadata is skipped.
	renderers = append(renderers, &originLabelsRenderer{group: v2.GroupVersion.Group, namespace: rel.Namespace, name: rel.Name})
	return &combined{renderers: renderers}
}

// combined is internal/postrender/combined.go Combined.
type combined struct {
	renderers []helmpostrender.PostRenderer
}

func (c *combined) Run(renderedManifests *bytes.Buffer) (*bytes.Buffer, error) {
	result := renderedManifests
	var err error
	for _, renderer := range c.renderers {
		result, err = renderer.Run(result)
		if err != nil {
			return nil, err
		}
	}
	return result, nil
}

// kustomizeRenderer is internal/postrender/kustomize.go Kustomize.
type kustomizeRenderer struct {
	Patches []kustomize.Patch
	Images  []kustomize.Image
}

func (k *kustomizeRenderer) Run(renderedManifests *bytes.Buffer) (*bytes.Buffer, error) {
	fs := filesys.MakeFsInMemory()
	cfg := kustypes.Kustomization{}
	cfg.APIVersion = kustypes.KustomizationVersion
	cfg.Kind = kustypes.KustomizationKind
	cfg.Images = adaptImages(k.Images)

	const input = "helm-output.yaml"
	cfg.Resources = append(cfg.Resources, input)
	if err := fs.WriteFile(input, renderedManifests.Bytes()); err != nil {
		return nil, err
	}
	for _, m := range k.Patches {
		cfg.Patches = append(cfg.Patches, kustypes.Patch{
			Patch:  m.Patch,
			Target: adaptSelector(m.Target),
		})
	}
	kustomization, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", kustomization); err != nil {
		return nil, err
	}
	// buildKustomization: load restrictions none, builtin plugins only. Requests run one at a time,
	// so upstream's mutex (kustomize issue 3659) is not needed here.
	resMap, err := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	}).Run(fs, ".")
	if err != nil {
		return nil, err
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}

func adaptImages(images []kustomize.Image) (output []kustypes.Image) {
	for _, image := range images {
		output = append(output, kustypes.Image{
			Name:    image.Name,
			NewName: image.NewName,
			NewTag:  image.NewTag,
			Digest:  image.Digest,
		})
	}
	return
}

func adaptSelector(selector *kustomize.Selector) (output *kustypes.Selector) {
	if selector != nil {
		output = &kustypes.Selector{}
		output.Gvk.Group = selector.Group
		output.Gvk.Kind = selector.Kind
		output.Gvk.Version = selector.Version
		output.Name = selector.Name
		output.Namespace = selector.Namespace
		output.LabelSelector = selector.LabelSelector
		output.AnnotationSelector = selector.AnnotationSelector
	}
	return
}

// originLabelsRenderer is internal/postrender/common_renderer.go OriginLabels.
type originLabelsRenderer struct {
	group, namespace, name string
}

func (k *originLabelsRenderer) Run(renderedManifests *bytes.Buffer) (*bytes.Buffer, error) {
	return transform(renderedManifests, labelTransformer(originLabels(k.group, k.namespace, k.name)))
}

// commonRenderer is internal/postrender/common_renderer.go CommonRenderer.
type commonRenderer struct {
	labels      map[string]string
	annotations map[string]string
}

func newCommonRenderer(commonMetadata *v2.CommonMetadata) *commonRenderer {
	renderer := &commonRenderer{}
	if commonMetadata.Labels != nil {
		renderer.labels = commonMetadata.Labels
	}
	if commonMetadata.Annotations != nil {
		renderer.annotations = commonMetadata.Annotations
	}
	return renderer
}

func (k *commonRenderer) Run(renderedManifests *bytes.Buffer) (*bytes.Buffer, error) {
	var transformers []resMapTransformer
	if k.labels != nil {
		transformers = append(transformers, labelTransformer(k.labels))
	}
	if k.annotations != nil {
		transformers = append(transformers, annotationTransformer(k.annotations))
	}
	if len(transformers) == 0 {
		return renderedManifests, nil
	}
	return transform(renderedManifests, transformers...)
}

func originLabels(group, namespace, name string) map[string]string {
	return map[string]string{
		fmt.Sprintf("%s/name", group):      name,
		fmt.Sprintf("%s/namespace", group): namespace,
	}
}

// resMapTransformer and transform are internal/postrender/transformer.go.
type resMapTransformer interface {
	Transform(resmap.ResMap) error
}

func transform(renderedManifests *bytes.Buffer, transformers ...resMapTransformer) (*bytes.Buffer, error) {
	resFactory := provider.NewDefaultDepProvider().GetResourceFactory()
	resMapFactory := resmap.NewFactory(resFactory)
	resMap, err := resMapFactory.NewResMapFromBytes(renderedManifests.Bytes())
	if err != nil {
		return nil, err
	}
	for _, t := range transformers {
		if err := t.Transform(resMap); err != nil {
			return nil, err
		}
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}

func labelTransformer(labels map[string]string) resMapTransformer {
	return &builtins.LabelTransformerPlugin{
		Labels:     labels,
		FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}},
	}
}

func annotationTransformer(annotations map[string]string) resMapTransformer {
	return &builtins.AnnotationsTransformerPlugin{
		Annotations: annotations,
		FieldSpecs:  []kustypes.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}},
	}
}

// shortenName is internal/release/name.go ShortenName: names over 53 characters become the first 40
// characters, "-" and the first 12 hex digits of the name's SHA-256.
func shortenName(name string) string {
	if len(name) <= 53 {
		return name
	}
	const maxLength = 53
	const shortHashLength = 12
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:maxLength-(shortHashLength+1)] + "-" + sum[:shortHashLength]
}
