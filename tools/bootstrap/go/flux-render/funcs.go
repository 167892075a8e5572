package main

// Template functions that replace Helm's for a render (Configuration.CustomTemplateFuncs, applied by
// helm.sh/helm/v4 pkg/engine initFunMap after every built-in one):
//
//   - lookup answers from the request's "lookup" objects instead of a cluster (in a client-side dry
//     run Helm's lookup returns an empty map, so charts that `fail` when an object is absent could not
//     render at all);
//   - Sprig's random and clock functions are made reproducible: every render gets its own
//     math/rand/v2 ChaCha8 generator seeded with SHA-256("flux-render" NUL namespace NUL releaseName),
//     so the same release renders the same bytes in any order and any process; "now" is a fixed
//     instant (SOURCE_DATE_EPOCH when set, else the Unix epoch) and the functions that default to the
//     current time (date, dateInZone, htmlDate, ago, durationRound of a time) use it.
//
// Key and certificate generation (genPrivateKey, genCA, gen*Cert*), bcrypt, htpasswd and encryptAES
// draw from crypto/rand inside Go's crypto packages (which ignore a caller's reader since Go 1.24), so
// they cannot be seeded; a render that calls them gets a warning saying its output is not reproducible.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fixedNow is the render clock.
var fixedNow = func() time.Time {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Unix(0, 0).UTC()
}()

type lookupIndex struct {
	objects [][]byte // JSON of each object, decoded afresh per call so templates cannot mutate them
	meta    []objectKey
}

type objectKey struct{ apiVersion, kind, namespace, name string }

func newLookupIndex(objects []map[string]any) (*lookupIndex, error) {
	idx := &lookupIndex{}
	for i, o := range objects {
		data, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("lookup[%d]: %w", i, err)
		}
		u := &unstructured.Unstructured{Object: o}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("lookup[%d]: an object needs apiVersion, kind and metadata.name", i)
		}
		idx.objects = append(idx.objects, data)
		idx.meta = append(idx.meta, objectKey{u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName()})
	}
	return idx, nil
}

func (idx *lookupIndex) decode(i int) map[string]any {
	u := &unstructured.Unstructured{}
	// UnmarshalJSON decodes numbers as the dynamic client does (int64 / float64).
	if err := u.UnmarshalJSON(idx.objects[i]); err != nil {
		return map[string]any{}
	}
	return u.Object
}

// lookup has Helm's signature and semantics (pkg/engine/lookup_func.go): with a name, the object or an
// empty map; without, a list object ("<Kind>List") of the matching objects. An object without a
// namespace (cluster-scoped) matches any namespace argument, as Helm ignores it for such kinds; an
// empty namespace argument matches every namespace.
func (idx *lookupIndex) lookup(apiVersion, kind, namespace, name string) (map[string]any, error) {
	match := func(k objectKey) bool {
		return k.apiVersion == apiVersion && k.kind == kind &&
			(namespace == "" || k.namespace == "" || k.namespace == namespace)
	}
	if name != "" {
		for i, k := range idx.meta {
			if match(k) && k.name == name {
				return idx.decode(i), nil
			}
		}
		return map[string]any{}, nil
	}
	items := []any{}
	for i, k := range idx.meta {
		if match(k) {
			items = append(items, idx.decode(i))
		}
	}
	return map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind + "List",
		"metadata":   map[string]any{"resourceVersion": ""},
		"items":      items,
	}, nil
}

const (
	alphaChars   = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars = "0123456789"
)

func asciiChars() string {
	var b strings.Builder
	for c := 32; c <= 126; c++ {
		b.WriteByte(byte(c))
	}
	return b.String()
}

// renderFuncs returns the functions that override Helm's for one render; warn records a warning.
func renderFuncs(seed string, idx *lookupIndex, warn func(string)) template.FuncMap {
	sum := sha256.Sum256([]byte("flux-render\x00" + seed))
	rng := rand.New(rand.NewChaCha8(sum))
	randFrom := func(alphabet string) func(int) string {
		return func(count int) string {
			if count <= 0 {
				return ""
			}
			b := make([]byte, count)
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			return string(b)
		}
	}
	orig := sprig.TxtFuncMap()
	nowIfNotTime := func(v any) any {
		switch v.(type) {
		case time.Time, *time.Time, int64, int, int32:
			return v
		}
		return fixedNow
	}
	dateInZone := orig["dateInZone"].(func(string, any, string) string)
	htmlDateInZone := orig["htmlDateInZone"].(func(any, string) string)
	durationRound := orig["durationRound"].(func(any) string)
	unreproducible := func(name string, f any) any {
		// Wrap without changing the signature: text/template calls f through reflection.
		return wrapWarn(name, f, warn)
	}
	funcs := template.FuncMap{
		"randAlphaNum": randFrom(alphaChars + numericChars),
		"randAlpha":    randFrom(alphaChars),
		"randNumeric":  randFrom(numericChars),
		"randAscii":    randFrom(asciiChars()),
		"randBytes": func(count int) (string, error) {
			buf := make([]byte, count)
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
			return base64.StdEncoding.EncodeToString(buf), nil
		},
		"randInt": func(min, max int) int { return rng.IntN(max-min) + min },
		"uuidv4": func() string {
			u, err := uuid.NewRandomFromReader(rngReader{rng})
			if err != nil {
				return ""
			}
			return u.String()
		},
		"shuffle": func(s string) string {
			r := []rune(s)
			rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
			return string(r)
		},
		"now":  func() time.Time { return fixedNow },
		"date": func(f string, d any) string { return dateInZone(f, nowIfNotTime(d), "Local") },
		"dateInZone": func(f string, d any, zone string) string {
			return dateInZone(f, nowIfNotTime(d), zone)
		},
		"date_in_zone": func(f string, d any, zone string) string {
			return dateInZone(f, nowIfNotTime(d), zone)
		},
		"htmlDate":       func(d any) string { return htmlDateInZone(nowIfNotTime(d), "Local") },
		"htmlDateInZone": func(d any, zone string) string { return htmlDateInZone(nowIfNotTime(d), zone) },
		"ago": func(d any) string {
			var t time.Time
			switch v := nowIfNotTime(d).(type) {
			case time.Time:
				t = v
			case *time.Time:
				t = *v
			case int64:
				t = time.Unix(v, 0)
			case int:
				t = time.Unix(int64(v), 0)
			case int32:
				t = time.Unix(int64(v), 0)
			}
			return fixedNow.Sub(t).Round(time.Second).String()
		},
		"durationRound": func(d any) string {
			if t, ok := d.(time.Time); ok {
				return durationRound(int64(fixedNow.Sub(t)))
			}
			return durationRound(d)
		},
		"lookup": idx.lookup,
	}
	for _, name := range []string{"genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
		"genSignedCert", "genSignedCertWithKey", "bcrypt", "htpasswd", "encryptAES", "buildCustomCert"} {
		if f, ok := orig[name]; ok {
			funcs[name] = unreproducible(name, f)
		}
	}
	return funcs
}

type rngReader struct{ r *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// wrapWarn returns f with the same signature, recording a warning each time it is called.
func wrapWarn(name string, f any, warn func(string)) any {
	v := reflect.ValueOf(f)
	return reflect.MakeFunc(v.Type(), func(args []reflect.Value) []reflect.Value {
		warn(fmt.Sprintf("template function %s draws from crypto/rand: the rendered output is not reproducible", name))
		if v.Type().IsVariadic() {
			return v.CallSlice(args)
		}
		return v.Call(args)
	}).Interface()
}
