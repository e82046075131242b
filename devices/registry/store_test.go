package registry

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestStoreReloadsOnImportElsewhere imports through a second connection, as
// "chargewatch devices import" does from another process, and waits for the
// running Store to swap in the new snapshot.
func TestStoreReloadsOnImportElsewhere(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "registry.db")
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	var swaps atomic.Int32
	store, err := Open(ctx, path,
		WithPollInterval(5*time.Millisecond),
		WithRegisterer(reg),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		WithOnSwap(func(old, new *Snapshot) { swaps.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if s := store.Current(); s == nil || s.Generation() != 0 || s.Counts() != (Counts{}) {
		t.Fatalf("snapshot of a new registry: %+v", s)
	}
	done := make(chan error, 1)
	go func() { done <- store.Run(ctx) }()

	other, err := OpenDB(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	site := loadDemo(t)
	if _, err := Import(ctx, other, site); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, store, 1)
	if _, ok := store.Current().Device("smk-xj-03-201"); !ok {
		t.Error("device missing after reload")
	}

	site.Devices = site.Devices[:10]
	if _, err := Import(ctx, other, site); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, store, 2)
	if n := store.Current().Counts().Devices; n != 10 {
		t.Errorf("%d devices after the second import, want 10", n)
	}

	if got := testutil.ToFloat64(store.metrics.generation); got != 2 {
		t.Errorf("generation metric %v, want 2", got)
	}
	if got := testutil.ToFloat64(store.metrics.devices); got != 10 {
		t.Errorf("devices metric %v, want 10", got)
	}
	if n := swaps.Load(); n != 2 {
		t.Errorf("OnSwap called %d times, want 2", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	if !strings.Contains(logs.String(), "registry reloaded") {
		t.Errorf("no reload logged:\n%s", logs.String())
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP chargewatch_registry_reloads_total Snapshot reloads after a registry change, by result (ok or error).
# TYPE chargewatch_registry_reloads_total counter
chargewatch_registry_reloads_total{result="error"} 0
chargewatch_registry_reloads_total{result="ok"} 2
`), "chargewatch_registry_reloads_total"); err != nil {
		t.Error(err)
	}
}

func waitGeneration(t *testing.T, s *Store, gen int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Current().Generation() != gen {
		if time.Now().After(deadline) {
			t.Fatalf("store still at generation %d, want %d", s.Current().Generation(), gen)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStoreImportIsCurrentAtOnce(t *testing.T) {
	ctx := context.Background()
	store, err := Open(ctx, filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ch, err := store.Import(ctx, loadDemo(t))
	if err != nil {
		t.Fatal(err)
	}
	if store.Current().Generation() != ch.Generation {
		t.Errorf("current generation %d, import made %d", store.Current().Generation(), ch.Generation)
	}
	if reloaded, err := store.Reload(ctx); err != nil || reloaded {
		t.Errorf("Reload with nothing new = %v, %v; want false, nil", reloaded, err)
	}
}

func TestStoreMetricsRegisterTwice(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	s1, err := Open(ctx, filepath.Join(dir, "a.db"), WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if _, err := Open(ctx, filepath.Join(dir, "b.db"), WithRegisterer(reg)); err == nil {
		t.Error("second Store on the same registerer opened, want a registration error")
	}
}
