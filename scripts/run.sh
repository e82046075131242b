#!/usr/bin/env bash
# run.sh: the demo city, end to end, on this machine (`make run`).
#   1. installs what is missing (scripts/install-deps.sh) and builds the binaries;
#   2. imports examples/demo-site.yaml into the registry and makes the broker's accounts and ACL
#      from it (chargewatch mqtt-auth: each gateway publishes only as itself; the simulated
#      gateways share one password, kept in .run/mqtt-auth/simulators.password);
#   3. starts Mosquitto (password file and ACL on) and InfluxDB 1.8 on loopback, with their data
#      in .run/, and chargewatch with its own two broker accounts;
#   4. starts the demo's phones (cw-sim phones: what grid workers, officers and the fire brigade
#      receive by SMS and webhook goes to .run/phones.log; two thirds of the alerts are
#      acknowledged through the personal link after 3 minutes, the rest escalate), with
#      chargewatch's notifications sent to them;
#   5. starts cw-sim, which plays the demo city's devices live (with a few hazards early on);
#   6. prints where to look, then a live status line until Ctrl-C, which stops all it started.
# Ports can be changed with MQTT_PORT, INFLUX_PORT, HTTP_PORT, PROM_PORT, PHONES_PORT; RUN_DIR
# moves the data (default .run/, git-ignored). DEMO_SECONDS=N stops the demo by itself after N
# seconds.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

MQTT_PORT="${MQTT_PORT:-1883}"
INFLUX_PORT="${INFLUX_PORT:-8086}"
INFLUX_RPC_PORT="${INFLUX_RPC_PORT:-8088}"
HTTP_PORT="${HTTP_PORT:-9466}"
PROM_PORT="${PROM_PORT:-9090}"
PHONES_PORT="${PHONES_PORT:-9477}"
RUN_DIR="${RUN_DIR:-$REPO/.run}"
SITE="${SITE:-$REPO/examples/demo-site.yaml}"
DB=chargewatch

pids=()
names=()
cleanup() {
  trap - INT TERM EXIT
  printf '\n'
  step "stopping"
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      kill -TERM "${pids[$i]}" 2>/dev/null || true
      # give each its grace period (chargewatch drains its log into InfluxDB)
      for _ in $(seq 1 150); do kill -0 "${pids[$i]}" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "${pids[$i]}" 2>/dev/null || true
      printf '    stopped %s (pid %s)\n' "${names[$i]}" "${pids[$i]}"
    fi
  done
}
trap cleanup INT TERM EXIT

# start NAME LOG CMD...: starts CMD in the background and remembers its pid.
start() {
  local name="$1" log="$2"
  shift 2
  "$@" >>"$log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for NAME SECONDS CMD...: polls CMD until it succeeds, showing progress.
wait_for() {
  local name="$1" secs="$2" i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${pids[${#pids[@]} - 1]}" 2>/dev/null; then
      die "$name exited during start-up; see its log in $RUN_DIR/logs"
    fi
    sleep 0.1
  done
  die "$name did not become ready within ${secs}s; see its log in $RUN_DIR/logs"
}

step "installing what is missing"
"$REPO/scripts/install-deps.sh"

step "building chargewatch and cw-sim"
t0="$(now_s)"
go build -o "$BIN/" ./cmd/chargewatch ./cmd/cw-sim
printf '    built in %s\n' "$(elapsed "$t0")"

for p in "$MQTT_PORT" "$INFLUX_PORT" "$INFLUX_RPC_PORT" "$HTTP_PORT" "$PROM_PORT" "$PHONES_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use: stop what uses it, or set MQTT_PORT, INFLUX_PORT, INFLUX_RPC_PORT, HTTP_PORT, PROM_PORT or PHONES_PORT"
done

mkdir -p "$RUN_DIR"/{mosquitto,influxdb,chargewatch,logs}

step "importing the demo site into the registry"
# The site's webhook contacts point at the demo's phones (port 9477 in the file).
sed "s#http://127.0.0.1:9477/#http://127.0.0.1:$PHONES_PORT/#g" "$SITE" >"$RUN_DIR/site.yaml"
"$BIN/chargewatch" devices import --db "$RUN_DIR/chargewatch/registry.db" "$RUN_DIR/site.yaml" | sed 's/^/    /'

step "making the broker's accounts and ACL from the registry"
# Passwords of the server's accounts and the simulators are kept across runs (mode 0600).
"$BIN/chargewatch" mqtt-auth --db "$RUN_DIR/chargewatch/registry.db" --out "$RUN_DIR/mqtt-auth" \
  --client-id chargewatch-demo --simulators | sed -n '1s/^/    /p'

step "starting Mosquitto on 127.0.0.1:$MQTT_PORT"
render_template deploy/mosquitto/mosquitto.conf "$RUN_DIR/mosquitto.conf" \
  PORT="$MQTT_PORT" DATA_DIR="$RUN_DIR/mosquitto" USER="$(id -un)"
render_template deploy/mosquitto/auth.conf "$RUN_DIR/mosquitto-auth.conf" AUTH_DIR="$RUN_DIR/mqtt-auth"
cat "$RUN_DIR/mosquitto-auth.conf" >>"$RUN_DIR/mosquitto.conf"
start mosquitto "$RUN_DIR/logs/mosquitto.log" "$(find_bin mosquitto)" -c "$RUN_DIR/mosquitto.conf"
wait_for mosquitto 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MQTT_PORT"

step "starting InfluxDB 1.8 on 127.0.0.1:$INFLUX_PORT"
render_template deploy/influxdb/influxdb.conf "$RUN_DIR/influxdb.conf" \
  HTTP_PORT="$INFLUX_PORT" RPC_PORT="$INFLUX_RPC_PORT" DATA_DIR="$RUN_DIR/influxdb"
start influxd "$RUN_DIR/logs/influxd.log" "$BIN/influxd" run -config "$RUN_DIR/influxdb.conf"
wait_for influxd 60 curl -sf "http://127.0.0.1:$INFLUX_PORT/ping"

cat >"$RUN_DIR/chargewatch.yaml" <<EOF
# written by scripts/run.sh for the demo; see examples/chargewatch.yaml for every key
data_dir: $RUN_DIR/chargewatch
registry: $RUN_DIR/chargewatch/registry.db
http:
  listen: 127.0.0.1:$HTTP_PORT
mqtt:
  url: tcp://127.0.0.1:$MQTT_PORT
  client_id: chargewatch-demo
  username: chargewatch-demo-telemetry
  password_file: $RUN_DIR/mqtt-auth/chargewatch-demo-telemetry.password
  events_username: chargewatch-demo-events
  events_password_file: $RUN_DIR/mqtt-auth/chargewatch-demo-events.password
influxdb:
  url: http://127.0.0.1:$INFLUX_PORT
  database: $DB
EOF

step "starting the demo's phones on 127.0.0.1:$PHONES_PORT (messages to $RUN_DIR/phones.log)"
start phones "$RUN_DIR/logs/phones.log" "$BIN/cw-sim" phones --listen "127.0.0.1:$PHONES_PORT" \
  --log "$RUN_DIR/phones.log" --ack-after 3m
wait_for phones 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PHONES_PORT"

# Notifications go to the phones: SMS through a demo gateway, webhooks signed with a secret kept
# in a file only this user reads (docs/notifications.md).
[ -s "$RUN_DIR/webhook.secret" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$RUN_DIR/webhook.secret")
cat >"$RUN_DIR/notifications.yaml" <<EOF
# written by scripts/run.sh for the demo; every key: docs/notifications.md
public_url: http://127.0.0.1:$HTTP_PORT
channels:
  webhook:
    secret_file: $RUN_DIR/webhook.secret
  sms:
    url: http://127.0.0.1:$PHONES_PORT/sms
    method: POST
    content_type: application/json
    body: |
      {"phone": {{json .Phone}}, "text": {{json .Text}}}
    success:
      status: [200]
EOF
printf 'alerting:\n  notifications: %s\n' "$RUN_DIR/notifications.yaml" >>"$RUN_DIR/chargewatch.yaml"

step "starting chargewatch (HTTP on 127.0.0.1:$HTTP_PORT)"
start chargewatch "$RUN_DIR/logs/chargewatch.log" "$BIN/chargewatch" serve --config "$RUN_DIR/chargewatch.yaml"
wait_for chargewatch 30 curl -sf "http://127.0.0.1:$HTTP_PORT/readyz"

step "starting Prometheus on 127.0.0.1:$PROM_PORT (ingestion health, self-monitoring rules)"
mkdir -p "$RUN_DIR/prometheus/edge-targets" "$RUN_DIR/prometheus/data"
render_template deploy/prometheus/prometheus.yml "$RUN_DIR/prometheus.yml" \
  CHARGEWATCH_TARGET="127.0.0.1:$HTTP_PORT" EDGE_TARGETS_DIR="$RUN_DIR/prometheus/edge-targets" SCRAPE_INTERVAL=15s
printf '\nrule_files:\n  - %s/deploy/prometheus/rules/chargewatch.rules.yml\n' "$REPO" >>"$RUN_DIR/prometheus.yml"
start prometheus "$RUN_DIR/logs/prometheus.log" "$(find_bin prometheus)" --config.file="$RUN_DIR/prometheus.yml" \
  --storage.tsdb.path="$RUN_DIR/prometheus/data" --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=15d
wait_for prometheus 30 curl -sf "http://127.0.0.1:$PROM_PORT/-/ready"

step "starting cw-sim: the demo city, live"
# Every simulated gateway logs in as itself with the simulators' password (read from its file,
# so it never shows in ps).
start cw-sim "$RUN_DIR/logs/cw-sim.log" "$BIN/cw-sim" run --site "$SITE" \
  --broker "tcp://127.0.0.1:$MQTT_PORT" --password-file "$RUN_DIR/mqtt-auth/simulators.password" \
  --clock live --demo --truth "$RUN_DIR/ground-truth.jsonl"

cat <<EOF

chargewatch is running with the demo city.
  metrics      http://127.0.0.1:$HTTP_PORT/metrics
  health       http://127.0.0.1:$HTTP_PORT/readyz
  phones       $RUN_DIR/phones.log: what grid workers, officers and the fire brigade receive
               (two thirds acknowledge through their link after 3 minutes; the rest escalate)
  alerts API   make a token:  $BIN/chargewatch tokens create --config $RUN_DIR/chargewatch.yaml --name demo --person p-admin
               then: curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:$HTTP_PORT/api/v1/alerts
  seq loss     curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:$HTTP_PORT/api/v1/ingest/loss
  an alert     http://127.0.0.1:$HTTP_PORT/alerts/ID (asks for the token), and its messages:
               curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:$HTTP_PORT/api/v1/alerts/ID/deliveries
  InfluxDB     http://127.0.0.1:$INFLUX_PORT  (database $DB)
  Prometheus   http://127.0.0.1:$PROM_PORT  (scrapes chargewatch; self-monitoring alerts)
  dashboards   dashboards/json/*.json: import into Grafana with dashboards/provisioning (docs/dashboards.md)
  a query      curl -sG http://127.0.0.1:$INFLUX_PORT/query --data-urlencode db=$DB \\
                 --data-urlencode "q=SELECT mean(power_w) FROM meter WHERE time > now() - 5m GROUP BY unit"
  quarantine   curl -sG http://127.0.0.1:$INFLUX_PORT/query --data-urlencode db=$DB \\
                 --data-urlencode "q=SELECT * FROM rejected ORDER BY time DESC LIMIT 5"
  logs         $RUN_DIR/logs/
  ground truth $RUN_DIR/ground-truth.jsonl (what the simulator injected)
Press Ctrl-C to stop everything.

EOF

# metric NAME_AND_LABELS: the value of one sample from /metrics (0 if absent).
metric() {
  curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" 2>/dev/null |
    awk -v m="$1" 'index($0, m" ") == 1 { v = $2 } END { print (v == "" ? 0 : v) }'
}

prev=$(metric 'chargewatch_ingest_accepted_total{type="reading"}')
started=$(date +%s)
while true; do
  sleep 2
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || die "${names[$i]} stopped unexpectedly; see $RUN_DIR/logs/${names[$i]}.log"
  done
  cur=$(metric 'chargewatch_ingest_accepted_total{type="reading"}')
  rej=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^chargewatch_ingest_rejected_total/ { s += $2 } END { print s + 0 }')
  act=$(metric 'chargewatch_ingest_devices_active')
  firing=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^chargewatch_alerting_alerts\{.*state="(firing|acknowledged)"/ { s += $2 } END { print s + 0 }')
  printf '\r  readings/s %8.1f | readings %10.0f | rejected %6.0f | devices online %5.0f | alerts open %4.0f ' \
    "$(awk -v a="$prev" -v b="$cur" 'BEGIN { print (b - a) / 2 }')" "$cur" "$rej" "$act" "$firing"
  prev="$cur"
  if [ -n "${DEMO_SECONDS:-}" ] && [ $(($(date +%s) - started)) -ge "$DEMO_SECONDS" ]; then
    break
  fi
done
