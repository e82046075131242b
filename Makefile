# Makefile: thin entry points; the logic lives in scripts/.
#   make deps   install servers and tools (apt packages; influxd and staticcheck into .bin/)
#   make test   everything CI checks (scripts/test.sh)
#   make run    the demo (scripts/run.sh)
#   make build  build ./cmd/... into .bin/
#   make package  Debian packages of chargewatch and cw-edge into dist/ (packaging/cmd/cwpkg)

SHELL := bash
.DEFAULT_GOAL := test

.PHONY: deps test run build bench-ingest package bench-smoke bench-dashboards

deps:
	scripts/install-deps.sh

test:
	scripts/test.sh

run:
	scripts/run.sh

build:
	go build -o .bin/ ./cmd/...

# Ingest throughput, CPU per message and latency with real servers (several minutes).
bench-ingest: deps
	go run ./ingest/cmd/ingestbench $(BENCH_FLAGS)

# Dashboard query times (p95 per panel) on 28 days of 10,000 devices (several minutes).
bench-dashboards: deps
	go run ./dashboards/cmd/dashbench $(BENCH_FLAGS)

# Smoke alarm published to the first notifier request: alone, under peak telemetry, InfluxDB stopped.
bench-smoke: deps
	go run ./alerting/cmd/smokebench $(BENCH_FLAGS)

# Debian packages: chargewatch (amd64, arm64) and cw-edge (amd64, arm64, armhf), version from
# git describe (PACKAGE_FLAGS="-version 0.2.0 -only cw-edge -arch arm7" narrows it down).
package:
	go run ./packaging/cmd/cwpkg -out dist $(PACKAGE_FLAGS)
