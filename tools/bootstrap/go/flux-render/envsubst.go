package main

// op "envsubst": Flux's postBuild substitution on one object's YAML, exactly as kustomize-controller
// v1.9.0 runs it (internal/controller/kustomization_controller.go build: generator.SubstituteVariables
// with SubstituteWithStrict and SubstituteWithAlways), by calling the same function:
// fluxcd/pkg/kustomize v1.35.0 kustomize_varsub.go SubstituteVariables, which skips objects labelled
// or annotated kustomize.toolkit.fluxcd.io/substitute: disabled, removes newlines from the values,
// checks the variable names, runs fluxcd/pkg/envsubst v1.7.0 on the object's YAML and reads the result
// back with sigs.k8s.io/yaml (YAML 1.1: `yes` is true). The variables arrive resolved (the
// Kustomization's substitute merged over its substituteFrom ConfigMaps/Secrets), so the call runs in
// dry-run mode, which reads them from spec.postBuild.substitute only.

import (
	"context"
	"encoding/json"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"
)

type envsubstItem struct {
	Text   string            `json:"text"`
	Vars   map[string]string `json:"vars"`
	Strict bool              `json:"strict,omitempty"`
	// spec.postBuild.substituteStrategy: Always (substitute even with no variables)
	Always bool `json:"always,omitempty"`
}

type envsubstError struct {
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	// The text Line and Column count in: the object's YAML as kustomize serializes it, which is what
	// Flux substitutes (not the caller's text).
	Text string `json:"text,omitempty"`
}

type envsubstResult struct {
	Object json.RawMessage `json:"object,omitempty"`
	// the object carries kustomize.toolkit.fluxcd.io/substitute: disabled and was left as it is
	Disabled bool           `json:"disabled,omitempty"`
	Error    *envsubstError `json:"error,omitempty"`
}

type envsubstResponse struct {
	ID    int64            `json:"id"`
	Items []envsubstResult `json:"items"`
}

var resourceFactory = provider.NewDefaultDepProvider().GetResourceFactory()

var yamlLineRe = regexp.MustCompile(`line (\d+)(?:, column (\d+))?`)

// runEnvsubst substitutes the items on every processor the process has (they are independent;
// each answer goes to its item's place): validate sends all objects of a run in one request.
func runEnvsubst(req *request) *envsubstResponse {
	resp := &envsubstResponse{ID: req.ID, Items: make([]envsubstResult, len(req.Items))}
	workers := min(runtime.GOMAXPROCS(0), len(req.Items))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(req.Items) {
					return
				}
				resp.Items[i] = substituteOne(req.Items[i])
			}
		}()
	}
	wg.Wait()
	return resp
}

func substituteOne(item envsubstItem) (out envsubstResult) {
	defer func() {
		if r := recover(); r != nil {
			out = envsubstResult{Error: &envsubstError{Message: "envsubst panicked: " + toString(r)}}
		}
	}()
	fail := func(err error) envsubstResult {
		e := &envsubstError{Message: err.Error()}
		if m := yamlLineRe.FindStringSubmatch(e.Message); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				e.Column, _ = strconv.Atoi(m[2])
			}
		}
		return envsubstResult{Error: e}
	}
	res, err := resourceFactory.FromBytes([]byte(item.Text))
	if err != nil {
		return fail(err)
	}
	substitute := map[string]any{}
	for k, v := range item.Vars {
		substitute[k] = v
	}
	ks := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": "flux-render", "namespace": "flux-system"},
		"spec":       map[string]any{"postBuild": map[string]any{"substitute": substitute}},
	}}
	serialized, _ := res.AsYAML()
	outRes, err := kustomize.SubstituteVariables(context.Background(), nil, ks, res,
		kustomize.SubstituteWithDryRun(true),
		kustomize.SubstituteWithStrict(item.Strict),
		kustomize.SubstituteWithAlways(item.Always))
	if err != nil {
		r := fail(err)
		if r.Error.Line > 0 {
			r.Error.Text = string(serialized)
		}
		return r
	}
	if outRes == nil {
		data, err := res.MarshalJSON()
		if err != nil {
			return fail(err)
		}
		return envsubstResult{Object: data, Disabled: true}
	}
	data, err := outRes.MarshalJSON()
	if err != nil {
		return fail(err)
	}
	return envsubstResult{Object: data}
}

func toString(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
