// Command alertbench measures the alerting engine alone: readings per
// second per core with many devices, and memory per device. It builds a
// registry of -devices devices (meters in units, and per building a
// fire monitor, an 8-port charging pile and smoke detectors), feeds each
// device a reading per simulated minute for -rounds minutes (some meters
// see e-bike charges), and prints throughput, allocations and memory.
//
//	go run ./alerting/cmd/alertbench -devices 100000 -rounds 40
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/internal/fixture"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
)

func main() { os.Exit(run()) }

func run() int {
	n := flag.Int("devices", 100_000, "devices in the registry")
	rounds := flag.Int("rounds", 40, "readings per device (one a simulated minute)")
	commitEvery := flag.Int("commit-every", 2000, "readings between commits in the second pass (as the log adapter would)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the first pass")
	flag.Parse()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "alertbench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	fmt.Printf("chargewatch alerting engine benchmark (%s, %s/%s, %d CPUs, GOMAXPROCS=%d)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	start := time.Now()
	snap, err := fixture.LoadSite(ctx, dir, fixture.BigSite(*n))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var devs []*registry.Device
	kinds := map[devices.Kind]int{}
	for d := range snap.Devices() {
		devs = append(devs, d)
		kinds[d.Kind]++
	}
	c := snap.Counts()
	fmt.Printf("registry: %d devices (meters %d, monitors %d, piles %d, smoke %d), %d gateways, %d buildings; loaded in %s\n",
		c.Devices, kinds[devices.KindMeter], kinds[devices.KindMonitor], kinds[devices.KindPile], kinds[devices.KindSmoke],
		c.Gateways, c.Buildings, time.Since(start).Round(time.Millisecond))

	st, err := store.Open(ctx, dir+"/alerts.db", store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	t0 := time.Date(2026, 1, 5, 20, 0, 0, 0, registry.Shanghai())
	clock := fixture.NewClock(t0)
	e, err := engine.New(ctx, st, fixture.Registry{S: snap}, engine.Options{Clock: clock})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	heap0 := heap()

	var r devices.Reading
	feed := func(round int, commit int) (int, error) {
		count := 0
		base := t0.Add(time.Duration(round) * time.Minute).UnixMilli()
		for i, d := range devs {
			fill(&r, d, i, round, base+int64(i%60000))
			e.Reading(d, &r)
			count++
			if commit > 0 && count%commit == 0 {
				if err := e.Commit(ctx, []byte(fmt.Sprint(round, i)), 0); err != nil {
					return count, err
				}
			}
		}
		return count, nil
	}
	// Round 0 creates every device's state.
	if _, err := feed(0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	pass := func(name string, from, to, commit int) {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0, wall0 := cpuTime(), time.Now()
		total := 0
		for round := from; round < to; round++ {
			clock.Set(t0.Add(time.Duration(round) * time.Minute))
			k, err := feed(round, commit)
			total += k
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if commit > 0 {
				if err := e.Tick(ctx); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
		}
		cpu, wall := cpuTime()-cpu0, time.Since(wall0)
		runtime.ReadMemStats(&ms1)
		fmt.Printf("%s: %d readings in %s wall, %s CPU (all threads, GC included): %.0f readings/s per core, %.0f ns CPU/reading, %.2f allocs/reading\n",
			name, total, wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
			float64(total)/cpu.Seconds(), float64(cpu.Nanoseconds())/float64(total), float64(ms1.Mallocs-ms0.Mallocs)/float64(total))
	}
	half := 1 + (*rounds-1)/2
	pass("detectors and lifecycle, no commits", 1, half, 0)
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	pass(fmt.Sprintf("with a commit every %d readings and offline checks", *commitEvery), half, *rounds, *commitEvery)

	if err := e.Commit(ctx, []byte("end"), 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	heap1 := heap()
	s := e.Stats()
	ckpt := 0
	st.States(ctx, "device", func(_ string, b []byte) error { ckpt += len(b); return nil })
	fmt.Printf("memory: heap grew %.1f MiB for %d devices: %.0f B/device (engine state estimate %.0f B/device); checkpoint %.0f B/device; %d open alerts\n",
		float64(heap1-heap0)/(1<<20), len(devs), float64(heap1-heap0)/float64(len(devs)),
		float64(s.StateBytes)/float64(s.Devices), float64(ckpt)/float64(s.Devices), s.OpenAlerts)
	open, err := st.OpenAlerts(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	byRule := map[string]int{}
	for _, a := range open {
		byRule[string(a.Rule)+" "+string(a.State)]++
	}
	fmt.Printf("open alerts by rule and state: %v\n", byRule)
	runtime.KeepAlive(e)
	return 0
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fill writes device d's reading for a round: steady loads, and on one
// meter in twenty an e-bike charge from the third minute on: a quiet home
// and a 150 W plateau rising slowly with the pack voltage, as a charger
// looks to the physics detector (confirmed about ten minutes later).
func fill(r *devices.Reading, d *registry.Device, i, round int, ts int64) {
	r.Set, r.TS, r.Seq = 0, ts, uint64(round)
	noise := float64((i*7+round*13)%11) - 5
	switch d.Kind {
	case devices.KindMeter:
		w := 300 + noise*4
		if i%20 == 0 {
			w = 300 + noise*0.1
			if round >= 2 {
				w += 150 * (1 + 0.0005*float64(round-2))
			}
		}
		r.Put(devices.FieldPower, w)
		r.Put(devices.FieldCurrent, w/228)
		r.Put(devices.FieldVoltage, 228+noise/2)
		r.Put(devices.FieldPF, 0.95)
		r.Put(devices.FieldEnergy, 1000+float64(round)*0.005)
	case devices.KindMonitor:
		r.Put(devices.FieldLeak, 40+noise)
		r.Put(devices.FieldCurrent, 20+noise)
		r.Put(devices.FieldVoltage, 228+noise/2)
		r.Put(devices.FieldTemp1, 35+noise/2)
		r.Put(devices.FieldTemp2, 33+noise/2)
	case devices.KindPile:
		r.Put(devices.FieldPort, float64(1+round%8))
		r.Put(devices.FieldState, float64(devices.PileCharging))
		r.Put(devices.FieldPower, 180+noise)
		r.Put(devices.FieldTemp, 40+noise/2)
	case devices.KindSmoke:
		r.Put(devices.FieldSmoke, 0)
		r.Put(devices.FieldBatteryPct, math.Max(30, 90-float64(round)/100))
	}
}
