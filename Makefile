# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint browser clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found (Python >= 3.11 needed)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start the bot on embedded defaults (no Redis/PostgreSQL/Rasa/LINE needed) and chat with it here.
run: $(STAMP)
	$(BIN)/kawasaki-bot serve --chat

lint: $(STAMP)
	$(BIN)/ruff check .

## Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null; \
	  else echo "chromium missing: browser tests will be skipped (CI installs it as root)"; fi; fi

## Set everything up and run the whole suite (set REDIS_URL / DATABASE_URL for the service tests).
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/kawasaki-bot dialogs validate
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) var .pytest_cache
