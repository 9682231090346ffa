# sekap-trust — the two commands of README.md: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8080
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Debian packages the test suite drives for real (SoftHSM2, openssl, GnuTLS certtool/ocsptool, xmlsec1, jarsigner, NSS vfychain,
# poppler's pdftoppm/pdftotext and the DejaVu fonts of the receipt and agreement PDFs, chromium for the
# pages' browser tests through Playwright: no browser is ever downloaded; ip (iproute2) and socat for
# the two-host fault test in network namespaces, tests/config/test_two_hosts.py).
TEST_DEBS := softhsm2 openssl gnutls-bin xmlsec1 openjdk-17-jdk-headless libnss3-tools poppler-utils fonts-dejavu-core chromium iproute2 socat
# What the protocol benchmark drives besides the app: wrk (kept connections), ab from apache2-utils
# (a connection per request), nginx (the HTTP cache measured in front of GET OCSP); socat and ip
# (iproute2) for bench/scale_bench.py (two hosts in network namespaces).
BENCH_DEBS := wrk apache2-utils nginx socat iproute2
TOOLS := softhsm2-util openssl certtool ocsptool xmlsec1 jarsigner vfychain pdftoppm pdftotext chromium ip socat

.PHONY: run test install lint system-deps bench-deps bench-protocol clean-demo interop-env screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pyasice (ASiC-E interop tests) pins lxml<5, so it lives in .venv-pyasice of its own; the script
# also applies oscrypto's unreleased OpenSSL 3.0.1x version-parsing fix (see its docstring).
INTEROP_STAMP := .venv-pyasice/.installed-stamp

$(INTEROP_STAMP): tests/interop/pyasice_env.py $(STAMP)
	$(BIN)/python tests/interop/pyasice_env.py
	touch $(INTEROP_STAMP)

interop-env: $(INTEROP_STAMP)

install: $(STAMP) $(INTEROP_STAMP)

# Starts the whole backend on the embedded default (SQLite, software key store, demo CA on first start).
DEMO_PIN := var/secrets/keystore-pin
DEMO_CONFIG := var/sekap-trust.toml

# umask 077: the database (personal data), its -wal/-shm, keys and logs under var/ are the service
# account's alone; var/ itself is 0700.
run: $(STAMP)
	@mkdir -p var && chmod 700 var
	@test -f $(DEMO_CONFIG) || { umask 077 && printf '%s\n' \
	  '# The local demo instance made by `make run` (read by the CLI run from the repository).' \
	  '[server]' 'port = $(PORT)' '[ca]' 'public_base_url = "http://127.0.0.1:$(PORT)"' \
	  '[web]' '# plain http on localhost: cookies without the Secure flag' 'secure_cookies = false' \
	  '[enrollment.smtp]' '# e-mails go to a local Maildir: sekap-trust mail list / mail show' 'maildir = "var/mail"' \
	  > $(DEMO_CONFIG); }
	@grep -q '^port = $(PORT)$$' $(DEMO_CONFIG) || { echo "ERROR: this demo instance was made for another port (see $(DEMO_CONFIG)); use that PORT or delete ./var" >&2; exit 1; }
	@test -s $(DEMO_PIN) || { mkdir -p var/secrets && chmod 700 var/secrets && umask 077 && \
	  $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))' > $(DEMO_PIN) && \
	  echo "created the demo key-store passphrase in $(DEMO_PIN)"; }
	@test -s var/secrets/audit-chain-key || { umask 077 && \
	  $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > var/secrets/audit-chain-key && \
	  echo "created the demo audit chain key in var/secrets/audit-chain-key"; }
	umask 077 && $(BIN)/sekap-trust demo prepare
	umask 077 && exec $(BIN)/sekap-trust serve

system-deps:
	@missing=""; \
	for pkg in $(TEST_DEBS); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || { echo "ERROR: could not install:$$missing" >&2; exit 1; }; \
	fi
	@for tool in $(TOOLS); do \
	  command -v $$tool >/dev/null || { echo "ERROR: $$tool is missing after installing $(TEST_DEBS)" >&2; exit 1; }; done

bench-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@$(MAKE) --no-print-directory system-deps TEST_DEBS="$(BENCH_DEBS)" TOOLS="wrk ab nginx socat ip"

# OCSP and TSA under granian, gunicorn and nginx, against openssl and certomancer, both kinds of
# client, in one run of about 5 minutes (BENCHMARKS.md).
bench-protocol: bench-deps
	$(BIN)/python bench/protocol_bench.py --seconds 3 --rounds 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite runs on every core (pytest-xdist; at most PYTEST_MAX_WORKERS), whole files per worker so
# module fixtures are built once; each worker has its own PostgreSQL database (tests/conftest.py).
# `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= auto
PYTEST_MAX_WORKERS ?= 4
test: $(STAMP) $(INTEROP_STAMP) system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses=$(PYTEST_MAX_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Re-takes the pictures of every page for the user guide (docs/przewodnik.md) with the browser tests.
screenshots: $(STAMP) system-deps
	SEKAP_TRUST_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/web

clean-demo:
	rm -rf var
