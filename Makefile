# The portal's everyday commands. Everything runs inside .venv, made from requirements.txt.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
PORT   ?= 5000

.PHONY: run test venv catalogs db demo lint benchmarks clean

## run: install, compile the catalogues, migrate and load the demo, then serve on 127.0.0.1:$(PORT)
run: catalogs
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Serving the portal on http://127.0.0.1:$(PORT)/"
	PORTAL_SESSION_COOKIE_SECURE=false $(FLASK) run --host 127.0.0.1 --port $(PORT)

## test: install, compile the catalogues and run the whole suite
test: catalogs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## venv: create .venv and install requirements.txt (again only when it changes)
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## catalogues: compile translations/*/LC_MESSAGES/messages.po
catalogs: venv
	$(FLASK) translate compile

## db: apply the migrations to the configured database
db: venv
	$(FLASK) db upgrade

## demo: load the 2022 campaign into the configured database
demo: db
	$(FLASK) demo

## lint: ruff (installed on demand, not needed to run or test)
lint: venv
	$(BIN)/python -m pip install --quiet --disable-pip-version-check ruff
	$(BIN)/ruff check portal tests benchmarks
	$(BIN)/ruff format --check portal tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
