package graph

// The repository documents itself (docs/): these tests keep the docs and
// the code in step. Code comments and schema descriptions cite docs/ pages
// only; every relative link and cited section of docs/ and the README
// exists; and the two tables of docs/authorization.md are what the code
// says. PORTIER_UPDATE_DOCS=1 rewrites the tables.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"portier/internal/authz"
	"portier/internal/domain"
)

const repoRoot = ".."

// repoFiles returns the files of the repository (relative to its root)
// whose names satisfy keep, leaving out VCS, build and data directories.
func repoFiles(t *testing.T, keep func(name string) bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "bench-results", "data", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if keep(d.Name()) {
			rel, _ := filepath.Rel(repoRoot, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no files found; is the test run from graph/?")
	}
	return out
}

func readRepo(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sourceLike(name string) bool {
	for _, ext := range []string{".go", ".graphqls", ".md", ".sh", ".yml", ".yaml", ".tmpl"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return name == "Makefile" || name == "Dockerfile"
}

// outsideCitation matches citations of documents that are not in the
// repository: the product design notes and the numbered help pages the
// domain was taken from. Code cites docs/ instead.
var outsideCitation = regexp.MustCompile(`(?i:\bseeds? ?0\d\d)|DESIGN[ ]§|DESIGN\.md|DESIGN (flow|issue|section)|DESIGN'[s]|shared[/](DESIGN|seeds)`)

// lineBreakInComment joins a comment's lines, so that a citation wrapped
// over two lines is found too.
var lineBreakInComment = regexp.MustCompile(`[ \t]*\n[ \t]*(//|#)?[ \t]*`)

func TestDocsNoCitationsOutsideTheRepository(t *testing.T) {
	for _, f := range repoFiles(t, sourceLike) {
		text := readRepo(t, f)
		found := false
		for i, line := range strings.Split(text, "\n") {
			if m := outsideCitation.FindString(line); m != "" {
				found = true
				t.Errorf("%s:%d cites %q, which is not in the repository: cite a docs/ page instead", f, i+1, m)
			}
		}
		if m := outsideCitation.FindString(lineBreakInComment.ReplaceAllString(text, " ")); m != "" && !found {
			t.Errorf("%s cites %q over a line break, which is not in the repository: cite a docs/ page instead", f, m)
		}
	}
}

// docCitation is a citation of a docs/ page in code, optionally with a
// quoted section: docs/authorization.md, 'Validity dates'.
var docCitation = regexp.MustCompile(`docs/([A-Za-z0-9_.-]+\.md)(?:,\s*'([^']+)')?`)

func TestDocsCitationsInCodeExist(t *testing.T) {
	n := 0
	for _, f := range repoFiles(t, func(name string) bool {
		return strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".graphqls") || name == "Makefile" || strings.HasSuffix(name, ".sh")
	}) {
		for i, line := range strings.Split(readRepo(t, f), "\n") {
			for _, m := range docCitation.FindAllStringSubmatch(line, -1) {
				n++
				page := filepath.Join("docs", m[1])
				b, err := os.ReadFile(filepath.Join(repoRoot, page))
				if err != nil {
					t.Errorf("%s:%d cites %s, which does not exist", f, i+1, page)
					continue
				}
				if m[2] != "" && !slices.Contains(headings(string(b)), m[2]) {
					t.Errorf("%s:%d cites section %q of %s, which has no such heading", f, i+1, m[2], page)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no code cites docs/ at all; is the pattern right?")
	}
}

// headings returns the text of the Markdown headings of doc.
func headings(doc string) []string {
	var out []string
	fence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(line, "#") {
			out = append(out, strings.TrimSpace(strings.TrimLeft(line, "#")))
		}
	}
	return out
}

// anchor is GitHub's anchor of a heading: lower case, punctuation dropped,
// spaces as hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestDocsRelativeLinksResolve(t *testing.T) {
	pages := []string{"README.md"}
	for _, f := range repoFiles(t, func(name string) bool { return strings.HasSuffix(name, ".md") }) {
		if strings.HasPrefix(f, "docs"+string(filepath.Separator)) {
			pages = append(pages, f)
		}
	}
	for _, want := range []string{"architecture.md", "authorization.md", "api.md", "operations.md", "performance.md", "README.md"} {
		if !slices.Contains(pages, filepath.Join("docs", want)) {
			t.Errorf("docs/%s is missing", want)
		}
	}
	links := 0
	for _, page := range pages {
		fence := false
		for i, line := range strings.Split(readRepo(t, page), "\n") {
			if strings.HasPrefix(line, "```") {
				fence = !fence
			}
			if fence {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				path, frag, _ := strings.Cut(target, "#")
				file := page
				if path != "" {
					file = filepath.Join(filepath.Dir(page), path)
				}
				b, err := os.ReadFile(filepath.Join(repoRoot, file))
				if err != nil {
					t.Errorf("%s:%d links %s, which does not exist", page, i+1, target)
					continue
				}
				if frag == "" || !strings.HasSuffix(file, ".md") {
					continue
				}
				found := false
				for _, h := range headings(string(b)) {
					if anchor(h) == frag {
						found = true
					}
				}
				if !found {
					t.Errorf("%s:%d links %s: %s has no heading with anchor #%s", page, i+1, target, file, frag)
				}
			}
		}
	}
	if links < 10 {
		t.Errorf("only %d relative links checked; is the pattern right?", links)
	}
}

// ---- the generated tables of docs/authorization.md

func docsSchema(t *testing.T) *ast.Schema {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "schema", "*.graphqls"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	var sources []*ast.Source
	for _, f := range files {
		sources = append(sources, &ast.Source{Name: f, Input: readRepo(t, filepath.Join("schema", filepath.Base(f)))})
	}
	s, gerr := gqlparser.LoadSchema(sources...)
	if gerr != nil {
		t.Fatalf("load schema: %v", gerr)
	}
	return s
}

func argString(d *ast.Directive, name string) string {
	if a := d.Arguments.ForName(name); a != nil && a.Value != nil {
		return a.Value.Raw
	}
	return ""
}

// rootFieldsTable renders the gate of every Query and Mutation field, and
// whether an API key or a scoped login can pass it.
func rootFieldsTable(s *ast.Schema) string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	var b strings.Builder
	b.WriteString("| field | gate | key | scoped |\n|---|---|---|---|\n")
	for _, root := range []*ast.Definition{s.Query, s.Mutation} {
		fields := slices.Clone(root.Fields)
		sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
		for _, f := range fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			gate, key, scoped := "none", false, false
			for _, d := range f.Directives {
				switch d.Name {
				case "public":
					gate, key, scoped = "public", true, true
				case "auth":
					gate = "authenticated"
					key = !keyRefused[f.Name] && (root.Name == "Query" || keyAuthMutations[f.Name])
					scoped = scopedAuthFields[f.Name]
				case "hasPermission":
					p := argString(d, "permission")
					gate = fmt.Sprintf("`%s` on `%s`", p, argString(d, "account"))
					perm, _ := domain.ParsePermissionEnum(p)
					key = !keyRefused[f.Name] && !slices.Contains(authz.KeyNever, perm)
				case "staff":
					gate = "staff"
					if r := argString(d, "role"); r != "" {
						gate = "staff " + r
					}
				case "credentialsRight":
					gate = fmt.Sprintf("credentials of `%s`", argString(d, "resource"))
					key = !keyRefused[f.Name]
				}
			}
			fmt.Fprintf(&b, "| `%s.%s` | %s | %s | %s |\n", root.Name, f.Name, gate, yes(key), yes(scoped))
		}
	}
	return b.String()
}

// permissionMatrix renders which role and staff role holds which
// permission.
func permissionMatrix() string {
	type column struct {
		name string
		set  authz.PermSet
	}
	var cols []column
	for _, r := range domain.Roles {
		set := authz.PermSet{}
		set.Add(domain.RolePermissions[r]...)
		cols = append(cols, column{string(r), set})
	}
	cols = append(cols,
		column{"SUPPORT", authz.StaffPermissions(domain.StaffSupport, false, false)},
		column{"SUPPORT, consent", authz.StaffPermissions(domain.StaffSupport, true, false)},
		column{"SALES", authz.StaffPermissions(domain.StaffSales, false, true)},
		column{"SALES, consent", authz.StaffPermissions(domain.StaffSales, true, true)},
		column{"ADMIN", authz.StaffPermissions(domain.StaffAdmin, false, false)},
	)
	var b strings.Builder
	b.WriteString("| permission |")
	for _, c := range cols {
		b.WriteString(" " + c.name + " |")
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, p := range domain.Permissions {
		fmt.Fprintf(&b, "| `%s` |", p.EnumName())
		for _, c := range cols {
			if c.set.Has(p) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// replaceGenerated puts body between the markers of section name.
func replaceGenerated(doc, name, body string) (string, error) {
	begin := "<!-- BEGIN GENERATED: " + name + " -->\n"
	end := "<!-- END GENERATED: " + name + " -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("markers of %s not found", name)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}

func TestDocsAuthorizationTables(t *testing.T) {
	const page = "docs/authorization.md"
	doc := readRepo(t, page)
	want := doc
	var err error
	if want, err = replaceGenerated(want, "permission-matrix", permissionMatrix()); err != nil {
		t.Fatal(err)
	}
	if want, err = replaceGenerated(want, "root-fields", rootFieldsTable(docsSchema(t))); err != nil {
		t.Fatal(err)
	}
	if want == doc {
		return
	}
	if os.Getenv("PORTIER_UPDATE_DOCS") != "" {
		if err := os.WriteFile(filepath.Join(repoRoot, page), []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the tables of %s", page)
		return
	}
	t.Errorf("the tables of %s do not match the code; run PORTIER_UPDATE_DOCS=1 go test ./graph -run TestDocsAuthorizationTables and commit the result", page)
}
