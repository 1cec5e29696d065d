# The portal's everyday commands. Everything runs inside .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Without PORTAL_SECRET_KEY the portal refuses to start, except for these development
# commands: they may use the key generated once into instance/secret_key (one machine's).
INSTANCE_SECRET_KEY ?= true
FLASK  := PORTAL_INSTANCE_SECRET_KEY=$(INSTANCE_SECRET_KEY) $(BIN)/flask --app wsgi
PORT   ?= 5000
# `make run` serves on 127.0.0.1: links made outside a request (protocols, e-mails) use this.
RUN_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run serve worker test venv dev catalogs db demo lint benchmarks clean

## run: install, compile the catalogues, migrate and load the demo, then serve on 127.0.0.1:$(PORT)
##      with the job worker beside it (its queue a SQLite file in instance/), stopped with it
run: catalogs
	$(FLASK) db upgrade
	PORTAL_PUBLIC_BASE_URL=$(RUN_BASE_URL) $(FLASK) demo
	@echo "Serving the portal on $(RUN_BASE_URL)/, its job worker beside it"
	PORTAL_PUBLIC_BASE_URL=$(RUN_BASE_URL) $(FLASK) jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	PORTAL_SESSION_COOKIE_SECURE=false PORTAL_PUBLIC_BASE_URL=$(RUN_BASE_URL) \
	PORTAL_DRAW_ANNOUNCEMENT_WAIT_MINUTES=0 \
		$(FLASK) run --host 127.0.0.1 --port $(PORT)

## serve: the production shape on 127.0.0.1:$(SERVE_PORT): gunicorn (gunicorn.conf.py) and the
## job worker, on PostgreSQL and Redis where they answer (else SQLite, said); Ctrl-C stops both.
## Like production, the processes get PORTAL_SECRET_KEY (scripts/serve.py: the instance's key)
SERVE_PORT ?= 8000
serve: catalogs
	$(BIN)/python scripts/serve.py --port $(SERVE_PORT) --flask "$(BIN)/flask --app wsgi" \
		--web "$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app" \
		--worker "$(BIN)/flask --app wsgi jobs worker"

## worker: the job worker alone (imports, mail, deadline notices, photos; JOBS_URL)
worker: catalogs
	$(FLASK) jobs worker

## test: install (with the test tools), compile the catalogues and run the whole suite
test: dev catalogs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff (style and format) and import-linter (the layers of the house, pyproject.toml)
lint: dev
	$(BIN)/ruff check portal tests benchmarks scripts wsgi.py gunicorn.conf.py
	$(BIN)/ruff format --check portal tests benchmarks scripts wsgi.py gunicorn.conf.py
	$(BIN)/lint-imports

## venv: create .venv and install requirements.txt (again only when it changes)
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## dev: the test and lint tools of requirements-dev.txt on top
dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## catalogs: compile translations/*/LC_MESSAGES/messages.po
catalogs: venv
	$(FLASK) translate compile

## db: apply the migrations to the configured database
db: venv
	$(FLASK) db upgrade

## demo: load the 2022 campaign into the configured database
demo: db
	$(FLASK) demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
