# permid — build, run, test and benchmark. Every target installs what it needs first.
SHELL := /bin/bash
APT_PACKAGES := libmicrohttpd-dev libssl-dev libsqlite3-dev libpq-dev libsodium-dev pkg-config
# The Python tools live in a virtual environment under the build folder, pinned in
# Tests/requirements.txt: a distribution's python3 (PEP 668) refuses pip installs into itself.
VENV := .build/venv
PY := $(CURDIR)/$(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DATABASE ?= ./data/permid.sqlite
LISTEN ?= 127.0.0.1:8080

.PHONY: deps pyenv build run test handshake-interop sealed-interop examples postgres-up postgres-down docs api-check generated-clients hardening-server vectors bench bench-smoke hardening hardening-ci sanitize sanitize-thread fuzz clean

## deps: install the C libraries permid links against (Debian/Ubuntu), only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi

## pyenv: the virtual environment with every Python tool the tests use (Tests/requirements.txt),
## made with the python3 on PATH (installing Debian's python3-venv when venv is missing), reused
## while the requirements are unchanged.
pyenv: $(VENV)/.installed

$(VENV)/.installed: Tests/requirements.txt
	@command -v python3 >/dev/null || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y python3; }
	@rm -rf $(VENV)
	@python3 -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); \
	  echo "installing: python3-venv"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r Tests/requirements.txt
	@touch $@

## build: release binaries permidd and permid.
build: deps
	swift build -c release --product permidd
	swift build -c release --product permid

## run: build and start the directory on $(LISTEN) with its database at $(DATABASE).
run: build
	mkdir -p $(dir $(DATABASE))
	.build/release/permidd serve --listen $(LISTEN) --database $(DATABASE)

## test: every Swift test (the store and node tests also on a throwaway PostgreSQL, Tests/postgres.sh,
## stopped when they end, which also runs the server tests and the API contract check once more with
## PostgreSQL as the store), the example programs, the
## vector cross-check, the docs' command reference, the handshake and sealed-record interop, the API contract check, the
## generated clients and the server's hardening tests.
test: deps pyenv
	swift build --build-tests
	url=$$(bash Tests/postgres.sh start) && trap 'bash Tests/postgres.sh stop' EXIT && \
	  PERMID_TEST_POSTGRES=$$url swift test && \
	  PERMID_TEST_POSTGRES=$$url PERMID_TEST_SERVER_ON_POSTGRES=1 swift test --skip-build --filter PermIDServerTests && \
	  psql "$$url" -q -c 'DROP DATABASE IF EXISTS permid_api_check' -c 'CREATE DATABASE permid_api_check' && \
	  PYTHON=$(PY) bash Tests/api-check.sh .build/debug/permidd 30 "$${url%/*}/permid_api_check"
	$(MAKE) examples
	$(PY) Tests/Vectors/generate.py --check
	$(PY) Tests/docs/help_sections.py .build/debug --check
	$(PY) Tests/docs/references.py
	bash Tests/docs/systemd_verify.sh .build/debug
	bash Tests/docs/client_example.sh .build/debug $(PY)
	$(MAKE) handshake-interop
	$(MAKE) sealed-interop
	$(MAKE) api-check
	$(MAKE) generated-clients
	$(MAKE) hardening-server

## examples: the example programs (Examples/ClientExample, a PermIDClient app) run against a live permidd.
examples: deps
	swift build --product permidd
	swift build --product permid-client-example
	bash Tests/examples.sh .build/debug

## docs: rewrite the command reference blocks in docs/cli.md and docs/operations.md from --help
## (make test checks them).
docs: deps pyenv
	swift build --product permidd
	swift build --product permid
	$(PY) Tests/docs/help_sections.py .build/debug --write

## postgres-up / postgres-down: the throwaway PostgreSQL the tests use (prints its URL; installs
## Debian's postgresql when no server binaries are found).
postgres-up:
	@bash Tests/postgres.sh start
postgres-down:
	@bash Tests/postgres.sh stop

## handshake-interop: the PermID TLS handshake between permid listen/connect and an independent
## pyOpenSSL implementation (Tests/handshake/interop.py): every key type both ways, the refusals, the
## proof vector.
handshake-interop: deps pyenv
	swift build --product permid
	$(PY) Tests/handshake/interop.py .build/debug

## sealed-interop: sealed records (FRIENDS-v1 part B) between permid/permidd and an independent
## implementation (Tests/Vectors/sealed.py: pyhpke, RFC 8032 arithmetic): Python seals for the CLI's
## keys and opens what `permid announce --friends-only` sealed, every key type both ways; the
## directory's invalid-sealed checks, the shared seq, listing, lookup, export and import.
sealed-interop: deps pyenv
	swift build --product permidd
	swift build --product permid
	$(PY) Tests/sealed/interop.py .build/debug

## api-check: validate openapi.yaml and run schemathesis against a live permidd.
api-check: deps pyenv
	swift build --product permidd
	swift build --product permid
	PYTHON=$(PY) bash Tests/api-check.sh .build/debug/permidd

## generated-clients: clients generated from openapi.yaml (swift-openapi-generator in
## Examples/GeneratedClient, openapi-python-client) used against a live permidd; warnings fail.
generated-clients: deps pyenv
	swift build --product permidd
	swift build --product permid
	PYTHON=$(PY) bash Tests/generated-clients.sh .build/debug/permidd

## hardening: kill -9 under load (20 rounds) and 1,000 slow clients against the real permidd.
hardening: deps pyenv
	swift build --product permidd
	swift build --product permid-bench
	$(PY) Tests/hardening/crash_rounds.py .build/debug 20
	$(PY) Tests/hardening/slow_clients.py .build/debug 1000 10

## hardening-ci: the same with fewer rounds, for CI.
hardening-ci: deps pyenv
	swift build --product permidd
	swift build --product permid-bench
	$(PY) Tests/hardening/crash_rounds.py .build/debug 5
	$(PY) Tests/hardening/slow_clients.py .build/debug 1000 4

## hardening-server: the server's hardening against the real permidd (about 2.5 minutes): 10,000
## invented methods, shutdown with 50 announcements stalled on a lock, 4,096 slow uploads,
## forwarding headers behind a real nginx (nginx-light installed when missing), 10,000 watchers,
## durable announcements answered only after their WAL is synced (read from strace, installed when
## missing), and nodes on a PostgreSQL server of their own (Tests/postgres.sh on a free port): the
## server stopped under load, kill -9 of one of two nodes, two nodes behind nginx.
hardening-server: deps pyenv
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y nginx-light; }
	@command -v strace >/dev/null || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y strace; }
	swift build --product permidd
	swift build --product permid
	swift build --product permid-bench
	$(PY) Tests/hardening/hostile_methods.py .build/debug 10000
	$(PY) Tests/hardening/shutdown_stall.py .build/debug 50
	$(PY) Tests/hardening/slow_uploads.py .build/debug 4096 10
	$(PY) Tests/hardening/nginx_proxy_header.py .build/debug
	$(PY) Tests/hardening/watchers.py .build/debug 10000 500
	$(PY) Tests/hardening/sync_before_answer.py .build/debug 20
	$(PY) Tests/hardening/postgres_nodes.py .build/debug

## sanitize: the core, store and server suites under AddressSanitizer, leaks checked (library-internal
## leaks suppressed in Tests/sanitizers/lsan.supp). The CLI suites run child processes against time
## bounds that ASan's slowdown breaks, so they run only in `make test`.
sanitize: deps
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/sanitizers/lsan.supp:print_suppressions=0 \
	  swift test --sanitize=address --scratch-path .build-asan --filter 'PermIDKitTests|PermIDStoreTests|PermIDServerTests'

## sanitize-thread: the same suites under ThreadSanitizer (not in CI: see docs/security.md, "Sanitizers").
sanitize-thread: deps
	swift test --sanitize=thread --scratch-path .build-tsan --filter 'PermIDKitTests|PermIDStoreTests|PermIDServerTests'

## fuzz: each libFuzzer target (fuzz/targets) for FUZZ_SECONDS (default 60); see fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz: deps
	bash fuzz/run.sh $(FUZZ_SECONDS)

## vectors: regenerate the test vectors (then review and commit them).
vectors: pyenv
	$(PY) Tests/Vectors/generate.py --out Tests/Vectors

clean:
	rm -rf .build data

## bench: the full benchmark (release build; about 30 minutes on 2 cores, on a quiet machine), report in
## bench/results/latest.md; refuses to write it from a dirty tree. Installs wrk and nginx when missing.
BENCH_TOOLS := missing=""; command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; fi
bench: deps pyenv
	@$(BENCH_TOOLS)
	swift build -c release --product permidd
	swift build -c release --product permid-bench
	swift build -c release --product permid-bench-verify
	$(PY) bench/run.py

## bench-smoke: the same harness and the same honesty rules with tiny sizes and 1 s runs, so it keeps
## working (run by CI); writes its report to a temp dir.
bench-smoke: deps pyenv
	@$(BENCH_TOOLS)
	swift build -c release --product permidd
	swift build -c release --product permid-bench
	swift build -c release --product permid-bench-verify
	$(PY) bench/run.py --sizes 1000,5000 --seconds 1 --warmup 1 --rounds 2 --speed-seconds 1 --verify-seconds 0.2 \
	  --store-seconds 0.5 --store-rounds 2 --commit-count 1000 --announce-rate 8000 --key-types ed25519 --byte-checks 50 --output $$(mktemp -d)
