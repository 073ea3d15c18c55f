# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
DEMO_ADDR := 127.0.0.1:50051
DEMO_DB := .virtplane/virtplane.db

.PHONY: run test lint unit bench deps test-deps

## Build and run the service with its embedded defaults: SQLite, libvirt's test hypervisor.
run: deps
	@echo "==> virtplane on $(DEMO_ADDR) with libvirt's test hypervisor; try:"
	@echo "    grpcurl -plaintext $(DEMO_ADDR) virtplane.v1.DomainService/ListDomains"
	cargo run --release --bin virtplane -- \
		--listen $(DEMO_ADDR) \
		--libvirt-uri test:///default \
		--database-url sqlite://$(DEMO_DB)

## Run the whole test suite: lints, unit tests, and black-box tests against a private
## libvirtd, PostgreSQL, SQLite and RabbitMQ.
test: test-deps lint check-deploy
	scripts/ensure-rabbitmq.sh
	VIRTPLANE_TEST_POSTGRES="$$(scripts/ensure-postgres.sh)" cargo nextest run --no-fail-fast

lint:
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings
	python3 scripts/check_layers.py --self-test
	python3 scripts/check_layers.py src

## Benchmarks: domain-call latency against direct libvirt calls, idle RSS, time to
## SERVING; lifecycle events persisted per second and delivery latency to watchers.
bench: test-deps
	scripts/ensure-rabbitmq.sh
	VIRTPLANE_TEST_POSTGRES="$$(scripts/ensure-postgres.sh)" cargo bench

deps:
	@scripts/ensure-deps.sh

test-deps:
	@scripts/ensure-deps.sh --test

## Offline checks of deploy/: every Kustomize overlay rendered and validated against
## Kubernetes' schemas, the manifests checked against the service's configuration, the
## Dockerfile linted, and the alert rules and dashboard of deploy/monitoring checked
## (promtool unit tests; the monitoring component and the service's metric names).
## Installs its tools when missing; takes seconds.
.PHONY: check-deploy
check-deploy:
	scripts/check-deploy.sh
