package detect

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestCandSFAccess: the package's code reads and sets a candidate's state
// only through state() and setState() (review of round 26a): cand.sf holds
// the x flags over the state, so a raw `c.sf == cOpen` is silently false
// for a step with a flag (a mutation that made the observe loop's, the
// judge loop's or down's test raw passed the suite), and a raw `c.sf =
// cCharge` drops the flags. Raw == / != comparisons of sf, switches on sf
// and plain assignments to sf are allowed only in setState and in the
// checkpoint's decoder; the bit operations (&, |=, &^=) of the x flags
// are not restricted.
//
// Since round 33 an open step's x flags and a charge's share bits: a
// flag is read (sf & ...) only through openX and chargeX, which read each
// kind's flags in its own states only (and in state, setState, the
// decoder, sfFrom and sfTo9, which know the layout); and the free bits
// (xFree1, xFree2, xFreeFlags, and their version-9 names x9Res, x9PF)
// are named in no function but sfFrom and sfTo9, the checkpoint's
// mappings to and from version 9, which refuse them (version 10 is
// written only with one): a round that claims one adds it to the reads
// here.
func TestCandSFAccess(t *testing.T) {
	allowed := map[string]bool{"setState": true, "unmarshal": true}
	readers := map[string]bool{"state": true, "setState": true, "openX": true, "chargeX": true, "unmarshal": true, "sfFrom": true, "sfTo9": true}
	freeNames := map[string]bool{"xFree1": true, "xFree2": true, "xFreeFlags": true, "x9Res": true, "x9PF": true}
	layout := map[string]bool{"sfFrom": true, "sfTo9": true}
	isSF := func(e ast.Expr) bool {
		for {
			p, ok := e.(*ast.ParenExpr)
			if !ok {
				break
			}
			e = p.X
		}
		s, ok := e.(*ast.SelectorExpr)
		return ok && s.Sel.Name == "sf"
	}
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := 0
	for _, de := range ents {
		name := de.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			name := fn.Name.Name
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				bad := false
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if (n.Op == token.AND || n.Op == token.AND_NOT) && (isSF(n.X) || isSF(n.Y)) && !readers[name] {
						t.Errorf("%s (in %s): a raw read of cand.sf's x flags; use openX / chargeX", fset.Position(n.Pos()), name)
					}
					bad = (n.Op == token.EQL || n.Op == token.NEQ) && (isSF(n.X) || isSF(n.Y))
				case *ast.Ident:
					if freeNames[n.Name] && !layout[name] {
						t.Errorf("%s (in %s): %s is a free bit: claim it (TestCandSFAccess, TestCandStateBits, sfFrom, sfTo9) before using it", fset.Position(n.Pos()), name, n.Name)
					}
				case *ast.SwitchStmt:
					bad = n.Tag != nil && isSF(n.Tag)
				case *ast.AssignStmt:
					if n.Tok == token.ASSIGN || n.Tok == token.DEFINE {
						for _, l := range n.Lhs {
							bad = bad || isSF(l)
						}
					}
				}
				if bad && !allowed[name] {
					t.Errorf("%s (in %s): a raw access to cand.sf; use state() / setState()", fset.Position(n.Pos()), name)
				}
				return true
			})
		}
	}
	if files < 10 {
		t.Fatalf("read %d source files: not run in the package's folder?", files)
	}
}
