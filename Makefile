# Makefile: thin entry points; the logic lives in scripts/.
#   make deps   install servers and tools (apt packages; influxd and staticcheck into .bin/)
#   make test   everything CI checks (scripts/test.sh)
#   make run    the demo (scripts/run.sh)
#   make build  build ./cmd/... into .bin/

SHELL := bash
.DEFAULT_GOAL := test

.PHONY: deps test run build bench-ingest bench-smoke

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
