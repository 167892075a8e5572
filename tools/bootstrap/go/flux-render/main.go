// Command flux-render renders what Flux would deploy, in one long-lived process, with the libraries
// the declared controllers link:
//
//   - op "helm": one HelmRelease rendered as helm-controller v1.6.4 renders it (Helm SDK v4 action.Install
//     as a client-side dry run, fluxcd/pkg/chartutil for values/valuesFrom, helm-controller's
//     post-renderers, commonMetadata and origin labels), with the chart fetched from a directory, an OCI
//     registry or an HTTP chart repository through a content-addressed cache;
//   - op "envsubst": Flux's postBuild substitution as kustomize-controller v1.9.0 applies it
//     (fluxcd/pkg/kustomize SubstituteVariables, fluxcd/pkg/envsubst v1.7.0).
//
// Protocol (README.md in this directory is the full reference): one JSON request per stdin line, one
// JSON response per stdout line, in request order, after a first {"ready": true, ...} line. A request
// never crashes the process: a panic becomes {"id": .., "error": {"code": "panic", ...}}. stderr
// carries logs only.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"
)

// request is every op's request; each op reads the fields it documents.
type request struct {
	ID int64  `json:"id"`
	Op string `json:"op"`

	// op "helm"
	Release        json.RawMessage  `json:"release,omitempty"`
	Chart          *chartSpec       `json:"chart,omitempty"`
	ValuesSources  []valuesSource   `json:"valuesSources,omitempty"`
	KubeVersion    string           `json:"kubeVersion,omitempty"`
	APIVersions    []string         `json:"apiVersions,omitempty"`
	Lookup         []map[string]any `json:"lookup,omitempty"`
	CacheDir       string           `json:"cacheDir,omitempty"`
	Offline        bool             `json:"offline,omitempty"`
	Mirrors        []mirror         `json:"mirrors,omitempty"`
	TimeoutSeconds int              `json:"timeoutSeconds,omitempty"`
	// values.schema.json $refs: URL → local file, and mirror directories (file = dir + URL path)
	SchemaFiles   map[string]string `json:"schemaFiles,omitempty"`
	SchemaMirrors []string          `json:"schemaMirrors,omitempty"`
	// the render cache (rendercache.go) under cacheDir: answer from it and keep the answer
	RenderCache bool `json:"renderCache,omitempty"`

	// op "envsubst"
	Items []envsubstItem `json:"items,omitempty"`

	// op "kustomize": the source root, the Kustomization's spec.path and its spec
	Root string         `json:"root,omitempty"`
	Path string         `json:"path,omitempty"`
	Spec map[string]any `json:"spec,omitempty"`
}

// opError is the "error" of a failed response.
type opError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	// values-schema: one entry per violated constraint, path a JSON pointer into the merged values.
	SchemaErrors []schemaError `json:"schemaErrors,omitempty"`
	// render: Helm's template position, when its error text names one.
	Template string `json:"template,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

func (e *opError) Error() string { return e.Message }

type hello struct {
	Ready      bool     `json:"ready"`
	Helm       string   `json:"helm"`
	Chartutil  string   `json:"chartutil"`
	HelmAPI    string   `json:"helmControllerApi"`
	Kustomize  string   `json:"kustomize"`
	Envsubst   string   `json:"envsubst"`
	KustomizeA string   `json:"kustomizeApi"`
	Ops        []string `json:"ops"`
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return "unknown"
}

func greeting() hello {
	return hello{
		Ready:      true,
		Helm:       moduleVersion("helm.sh/helm/v4"),
		Chartutil:  moduleVersion("github.com/fluxcd/pkg/chartutil"),
		HelmAPI:    moduleVersion("github.com/fluxcd/helm-controller/api"),
		Kustomize:  moduleVersion("github.com/fluxcd/pkg/kustomize"),
		Envsubst:   moduleVersion("github.com/fluxcd/pkg/envsubst"),
		KustomizeA: moduleVersion("sigs.k8s.io/kustomize/api"),
		Ops:        []string{"helm", "envsubst", "kustomize"},
	}
}

// handle answers one request line. It never panics.
func handle(line []byte) (resp any) {
	var req request
	defer func() {
		if r := recover(); r != nil {
			resp = map[string]any{"id": req.ID, "error": &opError{
				Code:    "panic",
				Message: fmt.Sprintf("flux-render panicked: %v", r),
				Hint:    "this is a bug in flux-render or the library it called; the process keeps serving",
			}}
			slog.Error("panic", "id", req.ID, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if err := json.Unmarshal(line, &req); err != nil {
		return map[string]any{"id": req.ID, "error": &opError{Code: "bad-request", Message: "bad request: " + err.Error()}}
	}
	switch req.Op {
	case "helm":
		return renderHelm(&req)
	case "envsubst":
		return runEnvsubst(&req)
	case "kustomize":
		return runKustomize(&req)
	default:
		return map[string]any{"id": req.ID, "error": &opError{
			Code:    "bad-request",
			Message: fmt.Sprintf("unknown op %q", req.Op),
			Hint:    `ops: "helm", "envsubst", "kustomize"`,
		}}
	}
}

const usage = `flux-render: render HelmReleases as helm-controller v1.6.4 does and apply Flux's postBuild
substitution as kustomize-controller v1.9.0 does, in-process.

usage:
  flux-render             read JSON requests on stdin, one per line; answer one JSON line each
  flux-render --version

See tools/bootstrap/go/flux-render/README.md for the protocol.
`

func main() {
	// Logs (Helm's slog warnings, retries) go to stderr, never to the protocol stream.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	// Sprig's date functions format in time.Local; the controllers run in UTC containers, so renders
	// are the same on every machine whatever its TZ.
	time.Local = time.UTC
	args := os.Args[1:]
	g := greeting()
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Print(usage)
		return
	}
	if len(args) > 0 && args[0] == "--version" {
		fmt.Printf("flux-render (helm %s, fluxcd/pkg/chartutil %s, helm-controller/api %s, fluxcd/pkg/kustomize %s, fluxcd/pkg/envsubst %s, kustomize/api %s)\n",
			g.Helm, g.Chartutil, g.HelmAPI, g.Kustomize, g.Envsubst, g.KustomizeA)
		return
	}
	if len(args) > 0 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	dieWithParent()
	// FLUX_RENDER_CPUPROFILE=<prefix>: a CPU profile of the whole session in <prefix>.<pid> (`go tool pprof`).
	if file := os.Getenv("FLUX_RENDER_CPUPROFILE"); file != "" {
		if f, err := os.Create(fmt.Sprintf("%s.%d", file, os.Getpid())); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	// A render allocates a few MB that die with it: collecting at 4× the live heap instead of 2×
	// halves the collector's CPU for a few tens of MB more (GOGC in the environment still decides).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g); err != nil || out.Flush() != nil {
		os.Exit(2)
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 && !isBlank(line) {
			if eerr := enc.Encode(handle(line)); eerr != nil {
				os.Exit(2)
			}
			if ferr := out.Flush(); ferr != nil {
				os.Exit(2)
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "flux-render: reading stdin: %v\n", err)
			os.Exit(2)
		}
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
