// Command kustomize-build builds many kustomization roots in one process with the kustomize library
// kubectl embeds (sigs.k8s.io/kustomize/api at the version k8s.io/kubectl's go.mod pins), so
// haos-tasks validate pays one process start instead of one `kubectl kustomize` per root.
//
// Every build runs with the options `kubectl kustomize DIR` uses with no flags, made by the same
// code (k8s.io/kubectl/pkg/cmd/kustomize → sigs.k8s.io/kustomize/kustomize/v5/commands/build):
// krusty.MakeDefaultOptions() passed through build.HonorKustomizeFlags, i.e. reorder
// "unspecified" (sortOptions, else the legacy order), load restrictor RootOnly, plugins disabled,
// helm disabled with command "helm", and the managed-by label only when
// KUSTOMIZE_ENABLE_MANAGEDBY_LABEL=on. The on-disk file system is the one kubectl uses.
//
// Protocol: one JSON request per stdin line, one JSON response per stdout line, in request order.
//
//	request:  {"id": 1, "dir": "/repo/apps/x", "yaml": false, "loadRestrictor": "rootOnly",
//	           "components": ["../components/common"], "resources": ["a.yaml"], "namespace": "x"}
//	response: {"id": 1, "dir": "/repo/apps/x", "resources": [{"origin": {...}, "object": {...}}]}
//	          {"id": 1, "dir": "/repo/apps/x", "error": {"message": "...", "panic": false}}
//
// "yaml": true adds "yaml": the exact bytes `kubectl kustomize DIR` prints. "loadRestrictor":
// "none" is kubectl's --load-restrictor LoadRestrictionsNone (what Flux's kustomize-controller
// uses). "components", "resources" and "namespace" are Flux's build semantics (see rootFS). "error.message" is
// the text kubectl prints after "error: ". Objects whose JSON holds "${" also carry "text", their
// YAML as kubectl prints it (Flux substitutes variables in that text).
//
// Each object's origin (the file it was read from, or for generated objects the kustomization
// that configured the generator) comes from kustomize's own origin tracking: the root's
// kustomization is read with `originAnnotations` added to buildMetadata, and the annotations are
// removed again with kustomize's own RemoveOriginAnnotations — the same path kustomize takes for a
// kustomization whose buildMetadata lacks originAnnotations. Builds run one at a time (kustomize's
// global OpenAPI schema is neither goroutine-safe nor per build: it is reset before every build,
// as Flux's kustomize-controller does); run one process per core for parallelism.
//
// With directory arguments instead of stdin, it builds each and prints the same responses.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kustomize/v5/commands/build"
	"sigs.k8s.io/kustomize/kyaml/errors"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

type request struct {
	ID             int64  `json:"id"`
	Dir            string `json:"dir"`
	YAML           bool   `json:"yaml,omitempty"`
	LoadRestrictor string `json:"loadRestrictor,omitempty"`
	// Flux's spec.components, relative to Dir: appended to the root kustomization's components.
	Components []string `json:"components,omitempty"`
	// For a Flux path without a kustomization file: the resources of the kustomization.yaml Flux
	// generates, relative to Dir. Ignored when Dir has a kustomization file.
	Resources []string `json:"resources,omitempty"`
	// Flux's spec.targetNamespace: the root kustomization's namespace, as kustomize-controller
	// sets it (fluxcd/pkg/kustomize Generator: kus.Namespace = targetNamespace).
	Namespace string `json:"namespace,omitempty"`
	// Files this build must not read, absolute path → why (haos-tasks found them over its input
	// limits: an alias bomb, nesting too deep, a file too large). Reading one fails the build with
	// the reason, so such a file never reaches kustomize's parser.
	Refuse map[string]string `json:"refuse,omitempty"`
	// Flux's spec.patches, spec.patchesStrategicMerge, spec.patchesJson6902 and spec.images, as
	// written in the Flux Kustomization: added to the root kustomization as kustomize-controller's
	// generator (fluxcd/pkg/kustomize kustomize_generator.go, WriteFile) adds them.
	Patches               []fluxPatch       `json:"patches,omitempty"`
	PatchesStrategicMerge []json.RawMessage `json:"patchesStrategicMerge,omitempty"`
	PatchesJSON6902       []fluxJSONPatch   `json:"patchesJson6902,omitempty"`
	Images                []fluxImage       `json:"images,omitempty"`
	// Flux's spec.namePrefix and spec.nameSuffix: set on the root kustomization (replacing its own)
	// when the Flux Kustomization has the field, even empty, as the generator does
	// (fluxcd/pkg/kustomize Generator: kus.NamePrefix = namePrefix).
	NamePrefix *string `json:"namePrefix,omitempty"`
	NameSuffix *string `json:"nameSuffix,omitempty"`
}

// fluxPatch is github.com/fluxcd/pkg/apis/kustomize Patch: its target has kustomize's selector keys.
type fluxPatch struct {
	Patch  string          `json:"patch,omitempty"`
	Target json.RawMessage `json:"target,omitempty"`
}

// fluxJSONPatch is github.com/fluxcd/pkg/apis/kustomize JSON6902Patch: operations as data.
type fluxJSONPatch struct {
	Patch  json.RawMessage `json:"patch"`
	Target json.RawMessage `json:"target"`
}

// fluxImage is github.com/fluxcd/pkg/apis/kustomize Image.
type fluxImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// origin is kustomize's resource.Origin with empty fields left out.
type origin struct {
	Path         string                   `json:"path,omitempty"`
	Repo         string                   `json:"repo,omitempty"`
	Ref          string                   `json:"ref,omitempty"`
	ConfiguredIn string                   `json:"configuredIn,omitempty"`
	ConfiguredBy *yaml.ResourceIdentifier `json:"configuredBy,omitempty"`
}

type built struct {
	Origin *origin         `json:"origin,omitempty"`
	Object json.RawMessage `json:"object"`
	// The object's YAML as kubectl prints it, for objects holding "${": Flux's postBuild
	// substitution runs on this text.
	Text string `json:"text,omitempty"`
}

func originOf(o *resource.Origin) *origin {
	if o == nil {
		return nil
	}
	out := &origin{Path: o.Path, Repo: o.Repo, Ref: o.Ref, ConfiguredIn: o.ConfiguredIn}
	if o.ConfiguredBy != (yaml.ResourceIdentifier{}) {
		by := o.ConfiguredBy
		out.ConfiguredBy = &by
	}
	return out
}

type buildError struct {
	Message string `json:"message"`
	Panic   bool   `json:"panic,omitempty"`
}

type response struct {
	ID        int64       `json:"id"`
	Dir       string      `json:"dir"`
	Resources []built     `json:"resources,omitempty"`
	YAML      *string     `json:"yaml,omitempty"`
	Error     *buildError `json:"error,omitempty"`
	// What kustomize printed on stderr during this build (deprecation warnings), one per line.
	Warnings []string `json:"warnings,omitempty"`
}

type hello struct {
	Ready     bool   `json:"ready"`
	Kustomize string `json:"kustomize"`
	API       string `json:"api"`
	Kyaml     string `json:"kyaml"`
}

const originAnnotations = string(types.OriginAnnotations)

// rootFS is the on-disk file system, except for the root's kustomization file:
//   - it reads with originAnnotations in its buildMetadata (userOrigin records whether the file
//     already asked for them), so every object says which file it came from;
//   - Flux's spec.components are appended to its components and spec.targetNamespace becomes its
//     namespace, as kustomize-controller does;
//   - for a Flux path without a kustomization file, kustomization.yaml reads as the one Flux
//     generates (the resources the request lists).
type rootFS struct {
	filesys.FileSystem
	kustomizationFiles []string
	generated          string // the path of the generated kustomization.yaml, if any
	generatedText      []byte
	components         []string
	namespace          string
	flux               fluxEdits
	userOrigin         bool
	refuse             map[string]string
}

// fluxEdits are the Flux Kustomization fields kustomize-controller's generator writes into the
// root kustomization besides namespace: patches, patchesStrategicMerge, patchesJson6902, images, namePrefix, nameSuffix.
type fluxEdits struct {
	patches    []fluxPatch
	sm         []json.RawMessage
	json       []fluxJSONPatch
	images     []fluxImage
	namePrefix *string
	nameSuffix *string
}

func (f fluxEdits) empty() bool {
	return len(f.patches) == 0 && len(f.sm) == 0 && len(f.json) == 0 && len(f.images) == 0 &&
		f.namePrefix == nil && f.nameSuffix == nil
}

// apply appends the edits to the kustomization node as fluxcd/pkg/kustomize's Generator.WriteFile
// does: patches, patchesStrategicMerge and patchesJson6902 appended (a JSON 6902 patch's operations
// marshalled to a JSON string), an image replacing the entry of the same name or appended.
func (f fluxEdits) apply(node *yaml.RNode) error {
	appendTo := func(field string, items ...*yaml.RNode) error {
		if len(items) == 0 {
			return nil
		}
		list, err := node.Pipe(yaml.LookupCreate(yaml.SequenceNode, field))
		if err != nil {
			return err
		}
		if list == nil || list.YNode().Kind != yaml.SequenceNode {
			return fmt.Errorf("%s is not a list", field)
		}
		for _, item := range items {
			if err := list.PipeE(yaml.Append(item.YNode())); err != nil {
				return err
			}
		}
		return nil
	}
	for _, kv := range []struct {
		field string
		value *string
	}{{"namePrefix", f.namePrefix}, {"nameSuffix", f.nameSuffix}} {
		if kv.value != nil {
			if err := node.PipeE(yaml.SetField(kv.field, yaml.NewStringRNode(*kv.value))); err != nil {
				return err
			}
		}
	}
	fromJSON := func(raw []byte) (*yaml.RNode, error) { return yaml.ConvertJSONToYamlNode(string(raw)) }
	var patches []*yaml.RNode
	for _, p := range f.patches {
		entry := yaml.NewMapRNode(nil)
		if p.Patch != "" {
			if err := entry.PipeE(yaml.SetField("patch", yaml.NewStringRNode(p.Patch))); err != nil {
				return err
			}
		}
		if len(p.Target) > 0 && string(p.Target) != "null" {
			target, err := fromJSON(p.Target)
			if err != nil {
				return err
			}
			if err := entry.PipeE(yaml.SetField("target", target)); err != nil {
				return err
			}
		}
		patches = append(patches, entry)
	}
	var sm []*yaml.RNode
	for _, raw := range f.sm {
		text, err := yaml.ConvertJSONToYamlNode(string(raw))
		if err != nil {
			return err
		}
		body, err := text.String()
		if err != nil {
			return err
		}
		sm = append(sm, yaml.NewStringRNode(body))
	}
	var jsonPatches []*yaml.RNode
	for _, p := range f.json {
		entry := yaml.NewMapRNode(nil)
		if err := entry.PipeE(yaml.SetField("patch", yaml.NewStringRNode(string(p.Patch)))); err != nil {
			return err
		}
		if len(p.Target) > 0 && string(p.Target) != "null" {
			target, err := fromJSON(p.Target)
			if err != nil {
				return err
			}
			if err := entry.PipeE(yaml.SetField("target", target)); err != nil {
				return err
			}
		}
		jsonPatches = append(jsonPatches, entry)
	}
	if err := appendTo("patches", patches...); err != nil {
		return err
	}
	if err := appendTo("patchesStrategicMerge", sm...); err != nil {
		return err
	}
	if err := appendTo("patchesJson6902", jsonPatches...); err != nil {
		return err
	}
	for _, image := range f.images {
		entry := yaml.NewMapRNode(nil)
		for _, kv := range [][2]string{{"name", image.Name}, {"newName", image.NewName}, {"newTag", image.NewTag}, {"digest", image.Digest}} {
			if kv[1] != "" {
				if err := entry.PipeE(yaml.SetField(kv[0], yaml.NewStringRNode(kv[1]))); err != nil {
					return err
				}
			}
		}
		list, err := node.Pipe(yaml.LookupCreate(yaml.SequenceNode, "images"))
		if err != nil {
			return err
		}
		replaced := false
		for i, existing := range list.Content() {
			if yaml.NewRNode(existing).Field("name") != nil && yaml.GetValue(yaml.NewRNode(existing).Field("name").Value) == image.Name {
				list.YNode().Content[i] = entry.YNode()
				replaced = true
				break
			}
		}
		if !replaced {
			if err := list.PipeE(yaml.Append(entry.YNode())); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxFileBytes bounds any one file a build reads (haos-tasks refuses smaller limits itself, with a
// finding at the file; this holds for files it did not see, e.g. outside the repository).
const maxFileBytes = 64 << 20

func (fs *rootFS) ReadFile(path string) ([]byte, error) {
	if fs.generated != "" && path == fs.generated {
		return fs.edit(fs.generatedText), nil
	}
	if reason, refused := fs.refuse[path]; refused {
		return nil, fmt.Errorf("%s: not read: %s", path, reason)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s: not read: %d bytes, over the %d MiB a build reads from one file", path, info.Size(), maxFileBytes>>20)
	}
	data, err := fs.FileSystem.ReadFile(path)
	if err != nil || !slices.Contains(fs.kustomizationFiles, path) {
		return data, err
	}
	return fs.edit(data), nil
}

// edit returns the kustomization with originAnnotations added to buildMetadata and the requested
// components appended. Anything it cannot edit safely is returned unchanged, so kustomize reports
// its own error about it; so is a kustomization kustomize would reject as empty, which
// buildMetadata would otherwise make non-empty.
func (fs *rootFS) edit(data []byte) []byte {
	node, err := yaml.Parse(string(data))
	if err != nil || node.YNode().Kind != yaml.MappingNode {
		return data
	}
	if len(fs.components) == 0 && fs.namespace == "" && fs.flux.empty() {
		var k types.Kustomization
		if err := k.Unmarshal(data); err != nil {
			return data
		}
		k.FixKustomization()
		if k.CheckEmpty() != nil {
			return data
		}
	}
	if len(fs.components) > 0 {
		list, err := node.Pipe(yaml.LookupCreate(yaml.SequenceNode, "components"))
		if err != nil || list == nil || list.YNode().Kind != yaml.SequenceNode {
			return data
		}
		for _, c := range fs.components {
			if err := list.PipeE(yaml.Append(yaml.NewScalarRNode(c).YNode())); err != nil {
				return data
			}
		}
	}
	if fs.namespace != "" {
		if err := node.PipeE(yaml.SetField("namespace", yaml.NewStringRNode(fs.namespace))); err != nil {
			return data
		}
	}
	if err := fs.flux.apply(node); err != nil {
		return data
	}
	field := node.Field("buildMetadata")
	if field == nil || field.Value.IsNil() {
		if err := node.PipeE(yaml.SetField("buildMetadata", yaml.NewListRNode(originAnnotations))); err != nil {
			return data
		}
	} else {
		if field.Value.YNode().Kind != yaml.SequenceNode {
			return data
		}
		has := false
		for _, v := range field.Value.Content() {
			has = has || v.Value == originAnnotations
		}
		if has {
			fs.userOrigin = true
		} else if err := field.Value.PipeE(yaml.Append(yaml.NewScalarRNode(originAnnotations).YNode())); err != nil {
			return data
		}
	}
	text, err := node.String()
	if err != nil {
		return data
	}
	return []byte(text)
}

// generatedKustomization is the kustomization.yaml Flux's kustomize-controller writes for a path
// without one (fluxcd/pkg/kustomize Generator): every manifest it found, as resources.
func generatedKustomization(resources []string) []byte {
	node := yaml.NewMapRNode(&map[string]string{
		"apiVersion": types.KustomizationVersion,
		"kind":       types.KustomizationKind,
	})
	if len(resources) > 0 {
		_ = node.PipeE(yaml.SetField("resources", yaml.NewListRNode(resources...)))
	}
	text, err := node.String()
	if err != nil {
		return nil
	}
	return []byte(text)
}

// kubectl's own flag handling: `kubectl kustomize` is build.NewCmdBuild from
// sigs.k8s.io/kustomize/kustomize/v5 (k8s.io/kubectl/pkg/cmd/kustomize), and its RunE makes the
// krusty options with build.HonorKustomizeFlags(krusty.MakeDefaultOptions(), cmd.Flags()). The
// same command and function run here, with the flags at their defaults except --load-restrictor.
var kubectlCmd = build.NewCmdBuild(filesys.MakeFsOnDisk(), build.MakeHelp("kubectl", "kustomize"), io.Discard)

func kubectlOptions(loadRestrictor string) (*krusty.Options, error) {
	value := types.LoadRestrictionsRootOnly.String()
	if loadRestrictor == "none" || loadRestrictor == types.LoadRestrictionsNone.String() {
		value = types.LoadRestrictionsNone.String()
	}
	if err := kubectlCmd.Flags().Set("load-restrictor", value); err != nil {
		return nil, err
	}
	// build.Validate checks the flags and records the path exactly as RunE does.
	if err := build.Validate([]string{"."}); err != nil {
		return nil, err
	}
	return build.HonorKustomizeFlags(krusty.MakeDefaultOptions(), kubectlCmd.Flags()), nil
}

// stderrCapture receives what kustomize writes to os.Stderr and the log package during one build
// (builds run one at a time), so each warning is reported with the root it belongs to.
type stderrCapture struct {
	file *os.File
	real *os.File
}

func newStderrCapture() *stderrCapture {
	f, err := os.CreateTemp("", "kustomize-build-stderr-")
	if err != nil {
		return nil
	}
	_ = os.Remove(f.Name())
	return &stderrCapture{file: f, real: os.Stderr}
}

func (c *stderrCapture) start() {
	if c == nil {
		return
	}
	_ = c.file.Truncate(0)
	_, _ = c.file.Seek(0, io.SeekStart)
	os.Stderr = c.file
	log.SetOutput(c.file)
}

func (c *stderrCapture) stop() []string {
	if c == nil {
		return nil
	}
	os.Stderr = c.real
	log.SetOutput(c.real)
	size, err := c.file.Seek(0, io.SeekCurrent)
	if err != nil || size == 0 {
		return nil
	}
	data := make([]byte, size)
	if _, err := c.file.ReadAt(data, 0); err != nil && err != io.EOF {
		return nil
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

var capture = newStderrCapture()

// defaultSchemaVersion is what kyaml reports before any kustomization chose a schema.
var defaultSchemaVersion = openapi.GetSchemaVersion()

func buildRoot(req request) response {
	capture.start()
	resp := buildOne(req)
	resp.Warnings = capture.stop()
	return resp
}

func buildOne(req request) (resp response) {
	resp = response{ID: req.ID, Dir: req.Dir}
	// Kustomize can panic on malformed input; kubectl would crash, we report it for this root.
	defer func() {
		if r := recover(); r != nil {
			resp.Resources = nil
			resp.YAML = nil
			resp.Error = &buildError{Message: fmt.Sprintf("kustomize panicked: %v", r), Panic: true}
		}
	}()
	fail := func(err error) response {
		resp.Error = &buildError{Message: err.Error()}
		return resp
	}
	disk := filesys.MakeFsOnDisk()
	fs := &rootFS{
		FileSystem: disk,
		components: req.Components,
		namespace:  req.Namespace,
		refuse:     req.Refuse,
		flux: fluxEdits{
			patches:    req.Patches,
			sm:         req.PatchesStrategicMerge,
			json:       req.PatchesJSON6902,
			images:     req.Images,
			namePrefix: req.NamePrefix,
			nameSuffix: req.NameSuffix,
		},
	}
	if root, file, err := disk.CleanedAbs(req.Dir); err == nil && file == "" {
		existing := false
		for _, name := range konfig.RecognizedKustomizationFileNames() {
			path := filepath.Join(string(root), name)
			fs.kustomizationFiles = append(fs.kustomizationFiles, path)
			existing = existing || disk.Exists(path)
		}
		if req.Resources != nil && !existing {
			fs.generated = filepath.Join(string(root), konfig.DefaultKustomizationFileName())
			fs.generatedText = generatedKustomization(req.Resources)
		}
	}
	// Each kubectl process starts with kustomize's built-in schema; a kustomization's `openapi:`
	// field replaces it globally (and krusty does not undo a custom schema), so a build after one
	// that changed it starts from a reset. Resetting every time would re-parse the built-in
	// schema on every build, most of a small build's cost.
	if openapi.GetSchemaVersion() != defaultSchemaVersion {
		openapi.ResetOpenAPI()
	}
	options, err := kubectlOptions(req.LoadRestrictor)
	if err != nil {
		return fail(err)
	}
	m, err := krusty.MakeKustomizer(options).Run(fs, req.Dir)
	if err != nil {
		return fail(err)
	}
	origins := make([]*origin, 0, m.Size())
	for _, r := range m.Resources() {
		o, err := originOfResource(r)
		if err != nil {
			return fail(err)
		}
		origins = append(origins, originOf(o))
	}
	if !fs.userOrigin {
		if err := m.RemoveOriginAnnotations(); err != nil {
			return fail(fmt.Errorf("failed to clean up origin tracking annotations: %w", err))
		}
	}
	resp.Resources = make([]built, 0, m.Size())
	for i, r := range m.Resources() {
		object, err := marshalJSON(r)
		if err != nil {
			// resWrangler.AsYaml's wrapping, so the message is the one kubectl prints.
			m, _ := r.Map()
			return fail(errors.WrapPrefixf(err, "%#v", m))
		}
		b := built{Origin: origins[i], Object: object}
		if bytes.Contains(object, []byte("${")) {
			text, err := r.AsYAML()
			if err != nil {
				return fail(err)
			}
			b.Text = string(text)
		}
		resp.Resources = append(resp.Resources, b)
	}
	if req.YAML {
		text, err := asYaml(m)
		if err != nil {
			return fail(err)
		}
		resp.YAML = &text
	}
	return resp
}

// plainPath is an origin annotation kustomize wrote for a resource file: `path: <file>` and nothing
// else, the file a YAML or JSON name made only of characters no YAML parser reads as anything but a
// string (no quote, space, colon, `#`, flow or tag character; a letter in the extension, so never
// a number, a boolean or null, in YAML 1.1 or 1.2).
var plainPath = regexp.MustCompile(`^path: ([A-Za-z0-9_./-]*[A-Za-z0-9_/-]\.(?:yaml|yml|json))\n$`)

// originOfResource is kustomize's Resource.GetOrigin, which decodes the origin annotation with
// sigs.k8s.io/yaml (YAML to JSON to struct): about a twentieth of a small build's CPU. The common
// annotation — a resource file's path alone — is read here directly; any other (a remote base, a
// generator's configuredIn/configuredBy, a quoted path) goes through GetOrigin itself, so its result
// and its errors stay kustomize's.
func originOfResource(r *resource.Resource) (*resource.Origin, error) {
	value, ok := r.GetAnnotations()[originKey]
	if !ok {
		return nil, nil
	}
	if match := plainPath.FindStringSubmatch(value); match != nil {
		fast := &resource.Origin{Path: match[1]}
		if checkOrigins {
			slow, err := r.GetOrigin()
			if err != nil || slow == nil || *slow != *fast {
				return nil, fmt.Errorf("kustomize-build: origin %q read as %+v, kustomize reads %+v (%v)", value, *fast, slow, err)
			}
		}
		return fast, nil
	}
	return r.GetOrigin()
}

// KUSTOMIZE_BUILD_CHECK_ORIGINS=1 (the differential test sets it) also decodes every fast-path
// origin with kustomize's GetOrigin and fails the build when the two differ.
var checkOrigins = os.Getenv("KUSTOMIZE_BUILD_CHECK_ORIGINS") == "1"

// The annotation kustomize's origin tracking writes (sigs.k8s.io/kustomize/api/internal/utils
// OriginAnnotationKey, an internal package).
const originKey = "config.kubernetes.io/origin"

// marshalJSON is kyaml's RNode.MarshalJSON without its detour through YAML text: that encodes the
// node, parses the text again and decodes the result into a map for encoding/json. Decoding the
// node itself goes through the same yaml.v3 decoder (same tag resolution, same duplicate-key and
// alias rules), so the map and the JSON are the same, for about a fifth of a build's CPU. Anything
// but a mapping, and any decode error, takes kyaml's own path, so the error text stays kubectl's.
func marshalJSON(r *resource.Resource) ([]byte, error) {
	if node := r.YNode(); node != nil && node.Kind == yaml.MappingNode {
		m := map[string]interface{}{}
		if err := node.Decode(&m); err == nil {
			return json.Marshal(m)
		}
	}
	return r.MarshalJSON()
}

func asYaml(m resmap.ResMap) (string, error) {
	out, err := m.AsYaml()
	return string(out), err
}

// encodeResponse writes one response line. A result encoding/json cannot write (a value nested
// deeper than its 10,000 levels) becomes that root's error: one bad file must not end the helper
// and every other build of the run with it. Only a failed write (stdout gone: the parent died) exits.
func encodeResponse(out *bufio.Writer, resp response) {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		line.Reset()
		failed := response{ID: resp.ID, Dir: resp.Dir, Warnings: resp.Warnings,
			Error: &buildError{Message: "kustomize-build cannot encode the result: " + err.Error()}}
		if err := enc.Encode(failed); err != nil {
			os.Exit(2)
		}
	}
	if _, err := out.Write(line.Bytes()); err != nil {
		os.Exit(2)
	}
}

// watchParent ends the helper when the process that started it is gone (killed by SIGKILL, or by a
// signal it did not pass on): a helper must never outlive validate. On Linux the kernel sends
// SIGKILL at the parent's death (exitWithParent); everywhere the parent's pid is polled, which also
// covers the moment before the kernel hook was set.
func watchParent() {
	parent := os.Getppid()
	exitWithParent()
	go func() {
		for {
			if os.Getppid() != parent {
				os.Exit(3)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			return dep.Version
		}
	}
	return "unknown"
}

const usage = `kustomize-build: build kustomizations in-process exactly as ` + "`kubectl kustomize DIR`" + ` does.

usage:
  kustomize-build            read JSON requests on stdin, one per line:
                             {"id": 1, "dir": "/repo/apps/x", "yaml": true, "loadRestrictor": "rootOnly"}
  kustomize-build DIR...     build each DIR and exit (1 if any failed)
  kustomize-build --version

Responses are JSON lines on stdout, in request order, after a first {"ready": true, ...} line:
  {"id": 1, "dir": "...", "resources": [{"origin": {"path": "deployment.yaml"}, "object": {...}}], "yaml": "..."}
  {"id": 1, "dir": "...", "error": {"message": "accumulating resources: ..."}}
`

func main() {
	// KUSTOMIZE_BUILD_CPUPROFILE=file writes a Go CPU profile (go tool pprof) of the whole run.
	if file := os.Getenv("KUSTOMIZE_BUILD_CPUPROFILE"); file != "" {
		if f, err := os.Create(file); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	// Builds allocate much and keep little: collecting less often cuts CPU by about a third
	// (500 small apps: 3.8 s → 2.7 s) for a few MB more. GOGC still overrides it.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	args := os.Args[1:]
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	greeting := hello{
		Ready:     true,
		Kustomize: moduleVersion("sigs.k8s.io/kustomize/kustomize/v5"),
		API:       moduleVersion("sigs.k8s.io/kustomize/api"),
		Kyaml:     moduleVersion("sigs.k8s.io/kustomize/kyaml"),
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Print(usage)
		return
	}
	if len(args) > 0 && args[0] == "--version" {
		fmt.Printf("kustomize-build (kustomize %s, sigs.k8s.io/kustomize/api %s, kyaml %s)\n", greeting.Kustomize, greeting.API, greeting.Kyaml)
		return
	}
	if err := enc.Encode(greeting); err != nil {
		os.Exit(2)
	}
	if len(args) > 0 {
		failed := false
		for i, dir := range args {
			resp := buildRoot(request{ID: int64(i + 1), Dir: dir})
			failed = failed || resp.Error != nil
			encodeResponse(out, resp)
		}
		if failed {
			out.Flush()
			os.Exit(1)
		}
		return
	}
	if err := out.Flush(); err != nil {
		os.Exit(2)
	}
	watchParent()
	warmUp()
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 && !isBlank(line) {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				encodeResponse(out, response{ID: req.ID, Error: &buildError{Message: "bad request: " + jerr.Error()}})
			} else {
				encodeResponse(out, buildRoot(req))
			}
			if ferr := out.Flush(); ferr != nil {
				os.Exit(2)
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "kustomize-build: reading stdin: %v\n", err)
			os.Exit(2)
		}
	}
}

// warmUp builds a small kustomization in memory and drops the result. A helper's first build pays
// for kustomize's one-time set-up (the built-in transformer configs, the OpenAPI lookups), about 8 ms
// of a one-app validate's critical path; validate starts the helpers while it reads the
// repository, so this runs before the first request arrives. It leaves no state a later build
// sees (no `openapi:` field: the built-in schema stays selected), and prints nothing.
func warmUp() {
	fs := filesys.MakeFsInMemory()
	if fs.WriteFile("/warm-up/kustomization.yaml", []byte("namespace: w\nlabels:\n- pairs:\n    app: w\nresources:\n- cm.yaml\n")) != nil ||
		fs.WriteFile("/warm-up/cm.yaml", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n      containers:\n      - name: w\n        image: w\n")) != nil {
		return
	}
	options, err := kubectlOptions("")
	if err != nil {
		return
	}
	capture.start()
	defer capture.stop()
	defer func() { _ = recover() }()
	if m, err := krusty.MakeKustomizer(options).Run(fs, "/warm-up"); err == nil {
		_, _ = marshalJSON(m.Resources()[0])
	}
}

func isBlank(line []byte) bool {
	for _, b := range line {
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return false
		}
	}
	return true
}
