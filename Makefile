# Kurumaza. `make run` installs and serves; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run PORT=8000` serves on that port (MEETING_PORT works too); printed links and QR codes
# follow it unless MEETING_BASE_URL says otherwise (e.g. the address phones in the hall use).
PORT ?= $(or $(MEETING_PORT),5000)
BASE_URL = $(or $(MEETING_BASE_URL),http://127.0.0.1:$(PORT))

.PHONY: install install-dev run test bench soak demo translations browser lint clean cluster cluster-stop cluster-status

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# The npm packages (package.json, exact versions), installed once for the copies below.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

# The Socket.IO browser client, from the npm registry, copied at build time (no CDN at run time).
static/vendor/socket.io.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io.min.js

# axe-core for the accessibility tests (tests/test_browser_a11y.py injects it into each page):
# outside static/, so it is never served to anyone.
tests/vendor/axe.min.js: node_modules/.package-lock.json
	mkdir -p tests/vendor
	cp node_modules/axe-core/axe.min.js tests/vendor/axe.min.js

# Japanese and English (messages.po) and plain Japanese (ja/LC_MESSAGES/plain.po).
translations: $(VENV)/.runtime
	$(BIN)/pybabel -q compile -d meeting/translations -D "messages plain"

install: $(VENV)/.runtime static/vendor/socket.io.min.js translations

install-dev: install $(VENV)/.dev tests/vendor/axe.min.js browser

# Debian's Chromium and CJK fonts for the browser tests (never a browser download); Pango for
# WeasyPrint (the report's PDF) and poppler-utils (pdftoppm, pdftotext) for the report's tests.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ] || ! command -v pdftoppm >/dev/null \
	    || ! ldconfig -p | grep -q libpangoft2-1.0; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils >/dev/null; \
	fi
	@# The fault tests start (and stop) a redis-server and a PostgreSQL cluster of their own; the
	@# cluster test routes phones through nginx.
	@if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
	    || [ ! -x /usr/sbin/nginx ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql nginx >/dev/null; \
	fi

run: install
	$(BIN)/python -m meeting db upgrade
	MEETING_PORT=$(PORT) MEETING_BASE_URL=$(BASE_URL) $(BIN)/python -m meeting.serve

# The production topology on loopback (docs/deploy.md): PostgreSQL, Redis, one gevent worker per
# core, nginx in front with cookie-sticky sessions on http://127.0.0.1:8080 (CLUSTER_PORT=...).
# Installs what is missing from Debian's packages; data, logs and the generated nginx.conf live in
# instance/cluster/.
cluster: install
	$(BIN)/python deploy/cluster.py start

cluster-stop:
	$(BIN)/python deploy/cluster.py stop

cluster-status:
	$(BIN)/python deploy/cluster.py status

# In parallel (pytest-xdist), one worker per core unless `make test TEST_WORKERS=N`; the fault
# tests, and tests sharing a module's fixture, stay on one worker (tests/conftest.py).
TEST_WORKERS ?= auto

test: install-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25

# The reference packages live in their own venv (see requirements-bench.txt).
.venv-reference/.installed: requirements-reference.txt
	$(PYTHON) -m venv .venv-reference
	.venv-reference/bin/pip install -q -r requirements-reference.txt
	touch $@

bench: install .venv-reference/.installed
	$(BIN)/pip install -q -r requirements-bench.txt
	SORTITION_REFERENCE_PYTHON=.venv-reference/bin/python $(BIN)/python bench/sortition.py
	$(BIN)/python bench/opinion.py
	$(BIN)/python bench/similarity.py
	$(BIN)/python bench/seating.py
	$(BIN)/python bench/vote_cpu.py
	@# 2,000 Socket.IO phones against Kurumaza and a bare python-socketio server (breakout, plenary, ramp).
	$(BIN)/python bench/load.py

# Slow (10 minutes, 300 phones, the server killed every 2 minutes); not part of `make test`.
soak: install-dev
	$(BIN)/python bench/soak.py

demo: install
	$(BIN)/python -m meeting db upgrade
	MEETING_PORT=$(PORT) MEETING_BASE_URL=$(BASE_URL) $(BIN)/python -m meeting demo

translations-update: $(VENV)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs ".* ._ node_modules instance tests bench deploy docs migrations static" \
	  -o meeting/translations/messages.pot .
	$(BIN)/pybabel update -i meeting/translations/messages.pot -d meeting/translations

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules static/vendor tests/vendor
