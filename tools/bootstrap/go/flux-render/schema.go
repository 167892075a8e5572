package main

// values.schema.json validation as Helm v4.2.4 does it (helm.sh/helm/v4 pkg/chart/common/util/
// jsonschema.go ValidateAgainstSchema / ValidateAgainstSingleSchema: the same library,
// santhosh-tekuri/jsonschema/v6, the same recursion into dependencies with their coalesced values,
// the same message), except where Helm fetches a `$ref` over http(s) at render time: here it is
// resolved offline, in this order:
//  1. a JSON file of the chart or one of its dependencies whose "$id" is the URL;
//  2. a JSON file whose path inside its chart, prefixed by the chart's name, ends the URL's path
//     (".../charts/library/common/schemas/definitions.json" is common's schemas/definitions.json);
//  3. the request's "schemaFiles" (URL → local file: what the caller pinned, e.g. by schemas.lock.json);
//  4. the request's "schemaMirrors": directories where the file for a URL is the directory plus the
//     URL's path (the layout of HAOS_TASKS_SCHEMA_MIRROR);
//  5. the cache: <cacheDir>/schemas/sha256/<sha256 of the URL>.json;
//  6. unless offline, the URL itself (as Helm would), stored in the cache for the next run.
//
// (2) is not enough for bjw-s common: its .helmignore leaves schemas/ out of the packaged chart, so
// the files its values.schema.json refers to are not in any published chart — Helm fetches them.
//
// A `$ref` none of these resolves fails the render with code "values-schema" naming the URL: schema
// validation is never skipped silently. Compiled schemas are kept per chart digest, so a thousand
// releases of one chart compile its schema once.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
)

type schemaError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// schemaDoc is a JSON file of a chart tree.
type schemaDoc struct {
	chart string // the chart's name
	rel   string // path inside that chart
	data  []byte
}

type schemaResolver struct {
	docs     []schemaDoc
	ids      map[string]int
	cacheDir string
	files    map[string]string
	mirrors  []string
	offline  bool
	timeout  time.Duration
	current  string // the chart whose values.schema.json is compiled (for file:/// refs)
	warnings []string
	missing  []string // URLs that could not be resolved
}

func newSchemaResolver(root *chartv2.Chart, req *request, timeout time.Duration) *schemaResolver {
	r := &schemaResolver{ids: map[string]int{}, cacheDir: req.CacheDir, files: req.SchemaFiles, mirrors: req.SchemaMirrors, offline: req.Offline, timeout: timeout}
	var walk func(c *chartv2.Chart)
	walk = func(c *chartv2.Chart) {
		if c.Schema != nil {
			r.add(schemaDoc{chart: c.Name(), rel: "values.schema.json", data: c.Schema})
		}
		for _, f := range c.Files {
			if strings.HasSuffix(f.Name, ".json") {
				r.add(schemaDoc{chart: c.Name(), rel: f.Name, data: f.Data})
			}
		}
		for _, d := range c.Dependencies() {
			walk(d)
		}
	}
	walk(root)
	return r
}

func (r *schemaResolver) add(d schemaDoc) {
	r.docs = append(r.docs, d)
	var head struct {
		ID string `json:"$id"`
	}
	if json.Unmarshal(d.data, &head) == nil && head.ID != "" {
		id := strings.TrimSuffix(head.ID, "#")
		if _, seen := r.ids[id]; !seen {
			r.ids[id] = len(r.docs) - 1
		}
	}
}

func urlKey(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}

// Load implements jsonschema.URLLoader.
func (r *schemaResolver) Load(u string) (any, error) {
	u = strings.TrimSuffix(u, "#")
	switch {
	case strings.HasPrefix(u, "urn:"):
		// Helm's urnLoader: an unresolved URN is a permissive schema, with a warning.
		r.warnings = append(r.warnings, fmt.Sprintf("values.schema.json: unresolved URN reference %s ignored (Helm uses a permissive schema)", u))
		return jsonschema.UnmarshalJSON(strings.NewReader("true"))
	case strings.HasPrefix(u, "file://"):
		p := strings.TrimPrefix(u, "file://")
		rel := strings.TrimPrefix(path.Clean(p), "/")
		for _, d := range r.docs {
			if d.chart == r.current && d.rel == rel {
				return jsonschema.UnmarshalJSON(bytes.NewReader(d.data))
			}
		}
		// Helm reads any other file:// reference from the local disk.
		return jsonschema.FileLoader{}.Load(u)
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		if i, ok := r.ids[u]; ok {
			return jsonschema.UnmarshalJSON(bytes.NewReader(r.docs[i].data))
		}
		urlPath := u
		if i := strings.Index(u, "://"); i >= 0 {
			urlPath = u[i+3:]
		}
		if i := strings.IndexAny(urlPath, "?#"); i >= 0 {
			urlPath = urlPath[:i]
		}
		best := -1
		for i, d := range r.docs {
			key := "/" + d.chart + "/" + d.rel
			if strings.HasSuffix(urlPath, key) && (best < 0 || len(d.rel) > len(r.docs[best].rel)) {
				best = i
			}
		}
		if best >= 0 {
			return jsonschema.UnmarshalJSON(bytes.NewReader(r.docs[best].data))
		}
		if p, ok := r.files[u]; ok {
			data, err := os.ReadFile(p)
			if err != nil {
				r.missing = append(r.missing, u)
				return nil, fmt.Errorf("schemaFiles[%s]: %w", u, err)
			}
			return jsonschema.UnmarshalJSON(bytes.NewReader(data))
		}
		_, urlFile, _ := strings.Cut(urlPath, "/") // the URL's path without its host
		for _, m := range r.mirrors {
			if data, err := os.ReadFile(filepath.Join(m, filepath.FromSlash(path.Clean("/"+urlFile)))); err == nil {
				return jsonschema.UnmarshalJSON(bytes.NewReader(data))
			}
		}
		if data, err := r.fromCache(u); err == nil {
			return jsonschema.UnmarshalJSON(bytes.NewReader(data))
		}
		if !r.offline {
			data, err := r.fetch(u)
			if err == nil {
				return jsonschema.UnmarshalJSON(bytes.NewReader(data))
			}
			r.missing = append(r.missing, u)
			return nil, fmt.Errorf("%s is not in the chart or its dependencies, not in the cache, and fetching it failed: %w", u, err)
		}
		r.missing = append(r.missing, u)
		return nil, fmt.Errorf("%s is not in the chart or its dependencies, schemaFiles, schemaMirrors or the cache (offline)", u)
	}
	r.missing = append(r.missing, u)
	return nil, fmt.Errorf("unsupported $ref %s", u)
}

func (r *schemaResolver) cachePath(u string) string {
	if r.cacheDir == "" {
		return ""
	}
	return filepath.Join(r.cacheDir, "schemas", "sha256", urlKey(u)+".json")
}

func (r *schemaResolver) fromCache(u string) ([]byte, error) {
	p := r.cachePath(u)
	if p == "" {
		return nil, os.ErrNotExist
	}
	return os.ReadFile(p)
}

func (r *schemaResolver) fetch(u string) ([]byte, error) {
	client := &http.Client{Timeout: r.timeout}
	var data []byte
	err := withRetries(func() error {
		resp, err := client.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &httpStatusError{url: u, code: resp.StatusCode}
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		return err
	})
	if err != nil {
		return nil, err
	}
	if p := r.cachePath(u); p != "" {
		if err := writeAtomic(p, data); err != nil {
			r.warnings = append(r.warnings, fmt.Sprintf("cannot cache schema %s: %v", u, err))
		}
	}
	return data, nil
}

// compiled schemas per (chart digest, chart path in the tree); a nil entry means "no schema".
var (
	schemaCacheMu sync.Mutex
	schemaCache   = map[string]*jsonschema.Schema{}
)

var printer = message.NewPrinter(language.English)

// schemaValidationError is a values-schema failure.
type schemaValidationError struct {
	message string
	errors  []schemaError
	urls    []string
}

func (e *schemaValidationError) Error() string { return e.message }

// validateValues is Helm's ValidateAgainstSchema with the offline resolver; chartKey identifies the
// chart's content (its digest) for the compiled-schema cache ("" disables the cache).
func validateValues(root *chartv2.Chart, values map[string]any, chartKey string, res *schemaResolver) error {
	var sb strings.Builder
	var all []schemaError
	var walk func(c *chartv2.Chart, vals map[string]any, prefix, treePath string) error
	walk = func(c *chartv2.Chart, vals map[string]any, prefix, treePath string) error {
		if c.Schema != nil {
			sch, err := compileSchema(c, chartKey, treePath, res)
			if err != nil {
				return err
			}
			if err := sch.Validate(toJSONValue(vals)); err != nil {
				var verr *jsonschema.ValidationError
				if !errors.As(err, &verr) {
					return err
				}
				fmt.Fprintf(&sb, "%s:\n", c.Name())
				text := strings.TrimPrefix(verr.Error(), "jsonschema validation failed with 'file:///values.schema.json#'\n")
				sb.WriteString(text + "\n")
				all = append(all, leafErrors(verr, prefix)...)
			}
		}
		for _, sub := range c.Dependencies() {
			raw, exists := vals[sub.Name()]
			if !exists || raw == nil {
				continue
			}
			subVals, ok := raw.(map[string]any)
			if !ok {
				fmt.Fprintf(&sb, "%s:\ninvalid type for values: expected object (map), got %T\n", sub.Name(), raw)
				all = append(all, schemaError{Path: prefix + "/" + escapePointer(sub.Name()), Message: fmt.Sprintf("invalid type for values: expected object (map), got %T", raw)})
				continue
			}
			if err := walk(sub, subVals, prefix+"/"+escapePointer(sub.Name()), treePath+"/charts/"+sub.Name()); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, values, "", root.Name()); err != nil {
		return err
	}
	if sb.Len() > 0 {
		return &schemaValidationError{
			message: "values don't meet the specifications of the schema(s) in the following chart(s):\n" + sb.String(),
			errors:  all,
		}
	}
	return nil
}

func compileSchema(c *chartv2.Chart, chartKey, treePath string, res *schemaResolver) (*jsonschema.Schema, error) {
	key := chartKey + "\x00" + treePath
	if chartKey != "" {
		schemaCacheMu.Lock()
		sch, ok := schemaCache[key]
		schemaCacheMu.Unlock()
		if ok {
			return sch, nil
		}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(c.Schema))
	if err != nil {
		return nil, &schemaValidationError{message: fmt.Sprintf("%s: values.schema.json is not valid JSON: %v", c.Name(), err)}
	}
	res.current = c.Name()
	compiler := jsonschema.NewCompiler()
	compiler.UseLoader(res)
	if err := compiler.AddResource("file:///values.schema.json", doc); err != nil {
		return nil, &schemaValidationError{message: fmt.Sprintf("%s: values.schema.json: %v", c.Name(), err)}
	}
	sch, err := compiler.Compile("file:///values.schema.json")
	if err != nil {
		msg := fmt.Sprintf("%s: values.schema.json cannot be compiled: %v", c.Name(), err)
		if len(res.missing) > 0 {
			msg = fmt.Sprintf("%s: values.schema.json refers to %s, which cannot be resolved offline: %v", c.Name(), strings.Join(res.missing, ", "), err)
		}
		return nil, &schemaValidationError{message: msg, urls: res.missing}
	}
	if chartKey != "" {
		schemaCacheMu.Lock()
		schemaCache[key] = sch
		schemaCacheMu.Unlock()
	}
	return sch, nil
}

// toJSONValue turns Helm's values (YAML-decoded: ints, float64s, nested maps) into what the
// validator accepts, the same way Helm's Values.AsMap hands them over.
func toJSONValue(v any) any {
	switch t := v.(type) {
	case common.Values:
		return toJSONValue(map[string]any(t))
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = toJSONValue(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = toJSONValue(x)
		}
		return s
	default:
		return v
	}
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func leafErrors(e *jsonschema.ValidationError, prefix string) []schemaError {
	if len(e.Causes) == 0 {
		var b strings.Builder
		b.WriteString(prefix)
		for _, seg := range e.InstanceLocation {
			b.WriteString("/" + escapePointer(seg))
		}
		return []schemaError{{Path: b.String(), Message: e.ErrorKind.LocalizedString(printer)}}
	}
	var out []schemaError
	for _, c := range e.Causes {
		out = append(out, leafErrors(c, prefix)...)
	}
	return out
}
