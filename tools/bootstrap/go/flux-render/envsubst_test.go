package main

import (
	"strings"
	"testing"
)

func substitute(t *testing.T, items ...map[string]any) []map[string]any {
	t.Helper()
	resp := roundTrip(t, map[string]any{"id": 1, "op": "envsubst", "items": items})
	var out []map[string]any
	for _, it := range resp["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	if len(out) != len(items) {
		t.Fatalf("%d answers for %d items", len(out), len(items))
	}
	return out
}

const cmText = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  namespace: apps
data:
  value: "%s"
`

func cm(value string) string { return strings.Replace(cmText, "%s", value, 1) }

// The cases issue 22 measured against fluxcd/pkg/envsubst v1.7.0 (kustomize-controller v1.9.0).
func TestEnvsubstAsFlux(t *testing.T) {
	vars := map[string]any{"SET": "x", "EMPTY": "", "U": "é€"}
	// Flux substitutes in kustomize's serialization of the object, where a string that needs no
	// quotes has none: "${#U}" is written ${#U} and its result read back as a number, ${UNSET} as null.
	cases := []struct {
		expr string
		want any
	}{
		{"${SET:+alt}", "x"},
		{"${EMPTY:+alt}", "alt"},
		{"${EMPTY:?boom}", "boom"},
		{"${#U}", float64(5)}, // bytes: é is 2, € is 3
		{"${UNSET}", nil},
		{"${UNSET:=dflt}", "dflt"},
	}
	var items []map[string]any
	for _, c := range cases {
		items = append(items, map[string]any{"text": cm(c.expr), "vars": vars})
	}
	for i, got := range substitute(t, items...) {
		if got["error"] != nil {
			t.Fatalf("%s: %v", cases[i].expr, got["error"])
		}
		if v := dig(got["object"], "data", "value"); v != cases[i].want {
			t.Errorf("%s = %#v, want %#v", cases[i].expr, v, cases[i].want)
		}
	}
}

func TestEnvsubstYAML11AndPositions(t *testing.T) {
	text := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  flag: ${FLAG}\n  list: ${LIST}\n"
	got := substitute(t,
		map[string]any{"text": text, "vars": map[string]any{"FLAG": "yes", "LIST": "ok"}},
		map[string]any{"text": text, "vars": map[string]any{"FLAG": "yes", "LIST": "[unclosed"}},
		// strict: an undefined variable is an error
		map[string]any{"text": text, "vars": map[string]any{"FLAG": "yes"}, "strict": true},
		// the opt-out annotation leaves the object alone
		map[string]any{"text": strings.Replace(text, "  name: cm\n", "  name: cm\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n", 1), "vars": map[string]any{"FLAG": "yes"}},
	)
	if v := dig(got[0]["object"], "data", "flag"); v != true {
		t.Fatalf("YAML 1.1: `yes` must read as true, got %#v", v)
	}
	// The line counts in the text Flux substituted (kustomize's serialization, keys sorted), which
	// the error carries.
	e, _ := got[1]["error"].(map[string]any)
	if e == nil || e["line"] == nil {
		t.Fatalf("invalid YAML after substitution: want an error with a line, got %v", mustJSON(got[1]))
	}
	lines := strings.Split(e["text"].(string), "\n")
	if n := int(e["line"].(float64)); n < 1 || n > len(lines) || !strings.Contains(lines[n-1], "list: ${LIST}") {
		t.Fatalf("line %v does not point at list: ${LIST} in %q", e["line"], e["text"])
	}
	if e, _ := got[2]["error"].(map[string]any); e == nil || !strings.Contains(e["message"].(string), "LIST") {
		t.Fatalf("strict: want an error naming LIST, got %v", mustJSON(got[2]))
	}
	if got[3]["disabled"] != true || dig(got[3]["object"], "data", "flag") != "${FLAG}" {
		t.Fatalf("substitute: disabled not honoured: %v", mustJSON(got[3]))
	}
}
