package upgradetest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/backup"
)

// summary is what the writer prints.
type summary struct {
	Generation int64            `json:"generation"`
	Devices    int              `json:"devices"`
	Gateways   int              `json:"gateways"`
	People     int              `json:"people"`
	Token      string           `json:"token"`
	TokenID    int64            `json:"token_id"`
	SilenceID  int64            `json:"silence_id"`
	Alerts     []alerting.Alert `json:"alerts"`
	AuditIDs   []int64          `json:"audit_ids"`
}

// repoRoot finds the repository's top folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("the upgrade test needs the git repository (git rev-parse --show-toplevel: %v): run it in a clone of chargewatch, not in an exported tree", err)
	}
	return strings.TrimSpace(string(out))
}

// extract writes the tree of a git revision into dir.
func extract(t *testing.T, root, rev, dir string) {
	t.Helper()
	cmd := exec.Command("git", "-C", root, "archive", "--format=tar", rev)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("git archive %s: %v", rev, err)
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, filepath.Clean(dir)+string(os.PathSeparator)) {
			t.Fatalf("git archive: bad path %q", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("git archive %s: %v: %s", rev, err, stderr.String())
	}
}

// TestUpgradeFromPreviousRelease is the upgrade test described in the
// package documentation. A missing tag fails the test: CI must fetch tags
// (a plain git clone does; a shallow clone or a fetch of one branch may
// not: git fetch --tags).
func TestUpgradeFromPreviousRelease(t *testing.T) {
	start := time.Now()
	root := repoRoot(t)
	rev := PreviousCommit
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--verify", "--quiet", PreviousTag+"^{commit}").Output(); err == nil && len(out) > 0 {
		if got := strings.TrimSpace(string(out)); got != PreviousCommit {
			t.Fatalf("tag %s names %s, but PreviousCommit is %s: update the pair in upgradetest.go together", PreviousTag, got, PreviousCommit)
		}
	}
	if err := exec.Command("git", "-C", root, "cat-file", "-e", rev+"^{commit}").Run(); err != nil {
		t.Fatalf("commit %s (release %s) is missing from this clone, so the upgrade from the previous release cannot be tested: clone without --depth, or fetch it. The pin is documented in docs/operations.md (Upgrades).", rev, PreviousTag)
	}
	tmp := t.TempDir()
	old := filepath.Join(tmp, "old")
	extract(t, root, rev, old)
	src, err := os.ReadFile("testdata/writer/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(old, "cmd", "cwwriter"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, "cmd", "cwwriter", "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	// Build only the writer, against the old tree and its go.mod. Without
	// -trimpath the dependencies' build results are shared with the
	// module's own builds, so only the old tree's packages compile.
	writer := filepath.Join(tmp, "writer")
	build := exec.Command("go", "build", "-o", writer, "./cmd/cwwriter")
	build.Dir = old
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false -mod=readonly")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the writer against %s: %v\n%s", PreviousTag, err, out)
	}
	t.Logf("built the %s writer in %s", PreviousTag, time.Since(start).Round(time.Millisecond))

	data := filepath.Join(tmp, "data")
	os.MkdirAll(data, 0o750)
	regPath, alertsPath := filepath.Join(data, "registry.db"), filepath.Join(data, "alerts.db")
	site := filepath.Join(old, "examples", "demo-site.yaml")
	cmd := exec.Command(writer, "-site", site, "-registry", regPath, "-alerts", alertsPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the %s writer: %v\n%s", PreviousTag, err, stderr.String())
	}
	var sum summary
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("writer output %q: %v", out, err)
	}

	// A backup made before the upgrade restores too.
	ctx := context.Background()
	bdir := filepath.Join(tmp, "backup")
	dbs := []backup.DB{{Name: "registry", Path: regPath, KnownSchema: registry.SchemaVersion()},
		{Name: "alerts", Path: alertsPath, KnownSchema: store.SchemaVersion()}}
	if _, err := backup.Backup(ctx, dbs, bdir, PreviousTag); err != nil {
		t.Fatal(err)
	}

	// The upgrade: this version opens the old databases.
	checkUpgraded(t, ctx, regPath, alertsPath, site, sum)

	// Restore the pre-upgrade backup and upgrade again.
	if _, err := backup.Restore(ctx, dbs, bdir); err != nil {
		t.Fatal(err)
	}
	checkUpgraded(t, ctx, regPath, alertsPath, site, sum)
	t.Logf("upgrade test took %s", time.Since(start).Round(time.Millisecond))
}

func checkUpgraded(t *testing.T, ctx context.Context, regPath, alertsPath, site string, sum summary) {
	t.Helper()
	db, err := registry.OpenDB(ctx, regPath)
	if err != nil {
		t.Fatalf("open the %s registry: %v", PreviousTag, err)
	}
	defer db.Close()
	snap, err := registry.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	c := snap.Counts()
	if c.Devices != sum.Devices || c.Gateways != sum.Gateways || c.People != sum.People || snap.Generation() != sum.Generation {
		t.Errorf("registry after upgrade: %+v generation %d; %s wrote %+v", c, snap.Generation(), PreviousTag, sum)
	}
	// The registry holds exactly the site file the old version imported:
	// importing it again changes nothing.
	s, err := registry.LoadSite(site)
	if err != nil {
		t.Fatalf("this version cannot read the %s site file: %v", PreviousTag, err)
	}
	ch, err := registry.DryRunImport(ctx, db, s)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Changed() {
		t.Errorf("the upgraded registry differs from the site file %s imported: %+v", PreviousTag, ch)
	}

	st, err := store.Open(ctx, alertsPath, store.Options{})
	if err != nil {
		t.Fatalf("open the %s alert store: %v", PreviousTag, err)
	}
	defer st.Close()
	var audits int
	for _, want := range sum.Alerts {
		got, err := st.Alert(ctx, want.ID)
		if err != nil {
			t.Errorf("alert %d after upgrade: %v", want.ID, err)
			continue
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("alert %d after upgrade:\n got %+v\nwant %+v", want.ID, *got, want)
		}
		au, err := st.Audit(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		audits += len(au)
	}
	if audits != len(sum.AuditIDs) {
		t.Errorf("%d audit entries after upgrade, %s wrote %d", audits, PreviousTag, len(sum.AuditIDs))
	}
	open, err := st.OpenAlerts(ctx)
	if err != nil || len(open) != 2 {
		t.Errorf("open alerts after upgrade: %d, %v", len(open), err)
	}
	if tok, err := st.Authenticate(ctx, sum.Token, 1767225600000); err != nil || tok.ID != sum.TokenID {
		t.Errorf("the API token made by %s: %+v, %v", PreviousTag, tok, err)
	}
	if _, err := st.Silence(ctx, sum.SilenceID); err != nil {
		t.Errorf("silence made by %s: %v", PreviousTag, err)
	}
}
