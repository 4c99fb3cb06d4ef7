# modelgraph — see README.md. `make test` is the one test command (CI runs it).
GO            ?= go
CACHE         := $(CURDIR)/.cache
STATICCHECK   := $(CACHE)/bin/staticcheck
STATICCHECK_V := v0.8.2

.PHONY: build test lint bench bench-large generate fuzz soak setup clean

build:
	$(GO) build -trimpath -o bin/modelgraph ./cmd/modelgraph

# Installs what the tests need (idempotent), starts a real Neo4j, runs lint
# and every test with it, stops Neo4j.
test:
	bash deploy/dev/test.sh

setup:
	bash deploy/dev/setup.sh

$(STATICCHECK):
	GOBIN=$(CACHE)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_V)

lint: $(STATICCHECK)
	$(GO) vet ./...
	$(STATICCHECK) ./...

bench:
	bash deploy/dev/bench.sh

# Neo4j at 1M nodes as well (long: the load alone takes tens of minutes).
bench-large:
	bash deploy/dev/bench.sh large

generate:
	$(GO) generate ./...

fuzz:
	FUZZTIME=$${FUZZTIME:-60s} bash deploy/dev/fuzz.sh

soak:
	bash deploy/dev/soak.sh

clean:
	rm -rf bin
