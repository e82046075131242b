// Command smokebench measures how long a smoke alarm takes from its MQTT
// publish to the first notifier request (make bench-smoke): the real
// chargewatch binary, real Mosquitto and InfluxDB, a local webhook
// receiver standing in for the grid worker's phone. It measures three
// times, each over --alarms alarms on distinct detectors:
//
//   - alone;
//   - under peak telemetry (the simulators' load mode flat out beside it);
//   - while InfluxDB is stopped.
//
// and prints p50, p99 and max per case. Figures go to docs/performance.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/benchutil"
	"github.com/chargewatch/chargewatch/internal/testenv"
	"github.com/chargewatch/chargewatch/simulators/load"
)

func main() { os.Exit(run()) }

func run() int {
	alarms := flag.Int("alarms", 1000, "smoke alarms per case")
	gap := flag.Duration("gap", 20*time.Millisecond, "time between two alarms")
	loadDevices := flag.Int("load-devices", 10000, "meters of the background telemetry")
	loadRate := flag.Float64("load-rate", 41000, "background telemetry in msgs/s: the ingest benchmark's sustained peak here, measured on an idle machine (0: flat out, beyond what the machine sustains)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, *alarms, *gap, *loadDevices, *loadRate); err != nil {
		fmt.Fprintln(os.Stderr, "smokebench:", err)
		return 1
	}
	return 0
}

// receiver records when each detector's first notification arrives.
type receiver struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

var detectorRE = regexp.MustCompile(`sb-[0-9]+-[0-9]+`)

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	for _, d := range detectorRE.FindAllString(string(body), -1) {
		if _, ok := r.seen[d]; !ok {
			r.seen[d] = at
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) at(d string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.seen[d]
	return t, ok
}

func bench(ctx context.Context, alarms int, gap time.Duration, loadDevices int, loadRate float64) error {
	work, err := os.MkdirTemp("", "smokebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	benchutil.Step("building chargewatch")
	bin, err := benchutil.BuildChargewatch(work)
	if err != nil {
		return err
	}
	benchutil.Step("starting Mosquitto and InfluxDB")
	mq, err := testenv.LaunchMosquitto()
	if err != nil {
		return err
	}
	defer mq.Close()
	inf, err := testenv.LaunchInflux()
	if err != nil {
		return err
	}
	defer inf.Close()
	rcv := &receiver{seen: map[string]time.Time{}}
	hook := httptest.NewServer(rcv)
	defer hook.Close()

	peak := "under peak telemetry (flat out)"
	if loadRate > 0 {
		peak = fmt.Sprintf("under peak telemetry (%.0f msgs/s)", loadRate)
	}
	cases := []string{"alone", peak, "InfluxDB stopped"}
	lcfg := load.NewConfig()
	lcfg.Broker, lcfg.Devices, lcfg.Prefix, lcfg.Rate = mq.URL, loadDevices, "sbload", loadRate
	site := load.Site(lcfg)
	b := site.Buildings[0].ID
	site.Units = append(site.Units, registry.UnitSpec{ID: "sb-unit", Building: b, Type: registry.UnitResidential})
	site.Gateways = append(site.Gateways, registry.GatewaySpec{ID: "sb-gw", Building: b})
	for c := range cases {
		for i := range alarms {
			site.Devices = append(site.Devices, registry.DeviceSpec{ID: detector(c, i), Kind: devices.KindSmoke, Gateway: "sb-gw",
				Unit: "sb-unit", Interval: time.Hour})
		}
	}
	community := site.Communities[0].ID
	site.People = append(site.People, registry.PersonSpec{ID: "sb-worker", Name: "值班网格员", Roles: registry.RoleSet(0).With(registry.RoleGridWorker),
		Locale: "zh", Communities: []string{community}, Contacts: []registry.ContactSpec{{Channel: registry.ChannelWebhook, Address: hook.URL + "/worker"}}})
	site.Rosters = append(site.Rosters, registry.RosterSpec{Person: "sb-worker", Community: community,
		Days: registry.EveryDay, From: registry.TimeOfDay(0), To: registry.TimeOfDay(24 * 60)})
	regPath := filepath.Join(work, "registry.db")
	rdb, err := registry.OpenDB(ctx, regPath)
	if err != nil {
		return err
	}
	if _, err := registry.Import(ctx, rdb, site); err != nil {
		rdb.Close()
		return fmt.Errorf("registering the bench site: %w", err)
	}
	rdb.Close()
	notif := filepath.Join(work, "notifications.yaml")
	os.WriteFile(notif, []byte("public_url: http://127.0.0.1\nchannels:\n  webhook:\n    secret: env:SMOKEBENCH_SECRET\nrate_limits:\n  webhook: {count: 100000, per: 1m}\n"), 0o644)
	srv, err := benchutil.StartServer(ctx, bin, work, fmt.Sprintf(`data_dir: %s
registry: %s
http: {listen: "127.0.0.1:%%d"}
mqtt: {url: %q, client_id: smokebench}
influxdb: {url: %q, database: smokebench}
alerting: {notifications: %q}
`, filepath.Join(work, "data"), regPath, mq.URL, inf.URL, notif), "SMOKEBENCH_SECRET=bench-secret")
	if err != nil {
		return err
	}
	defer srv.Stop()
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL).SetClientID("sb-gw"))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)

	type row struct {
		name          string
		p50, p99, max time.Duration
		n, lost       int
	}
	var rows []row
	for c, name := range cases {
		benchutil.Step("%s: %d smoke alarms, one every %v", name, alarms, gap)
		lctx, lcancel := context.WithCancel(ctx)
		var lwg sync.WaitGroup
		switch c {
		case 1:
			lcfg.Duration = time.Duration(alarms)*gap + 10*time.Second
			lwg.Add(1)
			go func() {
				defer lwg.Done()
				load.Run(lctx, lcfg)
			}()
			time.Sleep(2 * time.Second) // let the load reach its pace
		case 2:
			if err := inf.Stop(); err != nil {
				lcancel()
				return err
			}
		}
		sent := make([]time.Time, alarms)
		for i := range alarms {
			ev := devices.Event{TS: time.Now().UnixMilli(), Seq: 1, Type: devices.EventSmokeAlarm}
			sent[i] = time.Now()
			pub.Publish(devices.TopicFor("sb-gw", detector(c, i), devices.ChannelEvent), 1, false, devices.AppendEvent(nil, &ev))
			time.Sleep(gap)
		}
		deadline := time.Now().Add(30 * time.Second)
		var lat []time.Duration
		lost := 0
		for i := range alarms {
			for {
				if at, ok := rcv.at(detector(c, i)); ok {
					lat = append(lat, at.Sub(sent[i]))
					break
				}
				if time.Now().After(deadline) {
					lost++
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		lcancel()
		lwg.Wait()
		s := benchutil.Sorted(lat)
		r := row{name: name, n: len(lat), lost: lost}
		if len(s) > 0 {
			r.p50, r.p99, r.max = benchutil.Percentile(s, 50), benchutil.Percentile(s, 99), s[len(s)-1]
		}
		fmt.Printf("    p50 %v p99 %v max %v over %d alarms (%d never notified)\n", r.p50, r.p99, r.max, r.n, r.lost)
		rows = append(rows, r)
	}
	fmt.Printf("\nsmokebench: smoke alarm published to first webhook request, %s, %d cores\n", time.Now().UTC().Format("2006-01-02"), benchutil.NumCPU())
	fmt.Println("| case | alarms | p50 | p99 | max | not notified |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %d | %v | %v | %v | %d |\n", r.name, r.n, r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.max.Round(100*time.Microsecond), r.lost)
	}
	for _, r := range rows {
		if r.lost > 0 {
			return fmt.Errorf("%s: %d alarms never reached the receiver", r.name, r.lost)
		}
	}
	return nil
}

func detector(c, i int) string { return fmt.Sprintf("sb-%d-%04d", c, i) }
