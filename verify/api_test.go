package verify

import (
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestExportedAPIOwnTypes: nothing a user of this package touches (its
// exported functions, methods, fields and variables, and what those lead
// to through jwtgate's token package) has a type from outside the
// standard library and jwtgate. A service then depends on no JWT
// library's types, and jwtgate can change libraries without breaking it.
func TestExportedAPIOwnTypes(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	// Export data of verify and its dependencies, as the compiler wrote it.
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	export := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, file, _ := strings.Cut(line, "=")
		export[path] = file
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(export[path])
	})
	pkg, err := imp.Import("github.com/jwtgate/jwtgate/verify")
	if err != nil {
		t.Fatal(err)
	}
	w := apiWalker{t: t, seen: map[types.Type]bool{}}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		w.walk(obj.Type(), "verify."+name)
	}
	if w.named == 0 {
		t.Fatal("walked no named type; the test is broken")
	}
}

type apiWalker struct {
	t     *testing.T
	seen  map[types.Type]bool
	named int
}

// ours reports whether a package may appear in the API: the standard
// library (no dot in the first path element) or this module.
func ours(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") || strings.HasPrefix(path, "github.com/jwtgate/jwtgate/")
}

func (w *apiWalker) walk(typ types.Type, at string) {
	if w.seen[typ] {
		return
	}
	w.seen[typ] = true
	switch tt := typ.(type) {
	case *types.Named:
		w.named++
		obj := tt.Obj()
		if obj.Pkg() == nil {
			return // error, comparable
		}
		if !ours(obj.Pkg().Path()) {
			w.t.Errorf("%s exposes %s.%s, a type from outside the standard library and jwtgate", at, obj.Pkg().Path(), obj.Name())
			return
		}
		if !strings.HasPrefix(obj.Pkg().Path(), "github.com/jwtgate/jwtgate/") {
			return // the standard library's own API is not ours to check
		}
		// Exported methods, including those promoted from embedded fields.
		ms := types.NewMethodSet(types.NewPointer(tt))
		for i := range ms.Len() {
			if m := ms.At(i).Obj(); m.Exported() {
				w.walk(m.Type(), at+"."+m.Name()+"()")
			}
		}
		w.walk(tt.Underlying(), at)
	case *types.Struct:
		for i := range tt.NumFields() {
			if f := tt.Field(i); f.Exported() || f.Embedded() {
				w.walk(f.Type(), at+"."+f.Name())
			}
		}
	case *types.Pointer:
		w.walk(tt.Elem(), at)
	case *types.Slice:
		w.walk(tt.Elem(), at)
	case *types.Array:
		w.walk(tt.Elem(), at)
	case *types.Map:
		w.walk(tt.Key(), at)
		w.walk(tt.Elem(), at)
	case *types.Chan:
		w.walk(tt.Elem(), at)
	case *types.Signature:
		for i := range tt.Params().Len() {
			w.walk(tt.Params().At(i).Type(), at)
		}
		for i := range tt.Results().Len() {
			w.walk(tt.Results().At(i).Type(), at)
		}
	case *types.Interface:
		for i := range tt.NumMethods() {
			w.walk(tt.Method(i).Type(), at+"."+tt.Method(i).Name()+"()")
		}
	}
}
