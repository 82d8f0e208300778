# Two commands for a newcomer: `make run` and `make test`. Everything else is for developers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PORT ?= 5000

.PHONY: run test install bench assets clean

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

# Migrates, loads the demo data once (the command is idempotent), and serves the web application
# with the scheduler embedded and the development mailbox. Plain http, so no Secure cookies.
# Links in emails and in the demo's sign-in details follow PORT.
run: export AUDIT_WORKFLOW_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(BIN)/audit-workflow db upgrade
	AUDIT_WORKFLOW_DEMO_MODE=true $(BIN)/audit-workflow demo
	AUDIT_WORKFLOW_DEMO_MODE=true AUDIT_WORKFLOW_COOKIE_SECURE=false \
		$(BIN)/audit-workflow serve --host 127.0.0.1 --port $(PORT)

# The whole suite. Set AUDIT_WORKFLOW_TEST_DATABASE_URL to run it against PostgreSQL.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Rebuilds the committed GOV.UK Frontend CSS/JS (needs npm; running the service does not).
assets:
	cd assets && npm install --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
