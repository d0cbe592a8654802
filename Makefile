# shopscore — every task a developer or CI runs. Tools come from tools/go.mod
# through the Go module proxy: `go tool -modfile=tools/go.mod NAME`.
# Every go command runs on this patched toolchain, fetched through the module
# proxy when missing (go.mod keeps `go 1.26.0`, the oldest Go the code needs).
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN
GO      ?= go
TOOL    := $(GO) tool -modfile=tools/go.mod
# make run ADDR=… DATA=…, or SHOPSCORE_ADDR / SHOPSCORE_DATA in the environment.
DATA    ?= $(or $(SHOPSCORE_DATA),data)
ADDR    ?= $(or $(SHOPSCORE_ADDR),127.0.0.1:8080)
BENCH   ?= .
PKGS    := ./...
NPM     ?= npm
# The golang.org/x/vulndb version `make vulncheck` builds its database from.
VULNDB  ?= latest

# WITH_POSTGRES begins the recipes of test and bench (one shell line): the
# PostgreSQL tests and benchmarks run against SHOPSCORE_TEST_DATABASE_URL;
# without it, against a throwaway cluster from the installed PostgreSQL
# (.ci/start-postgres; port SHOPSCORE_PG_PORT, default 5432), stopped at the
# end, or they are skipped, said so first; with CI=true make test never skips
# them (CI runs make test, not make bench). It sets the EXIT trap, which also
# stops the S3 service make test starts (s3_dir).
WITH_POSTGRES = s3_dir=; pg_own=; \
	trap '[ -z "$$s3_dir" ] || { kill "$$SHOPSCORE_TEST_S3_PID" 2>/dev/null; rm -rf "$$s3_dir"; }; [ -z "$$pg_own" ] || bash .ci/stop-postgres' EXIT; \
	if [ -n "$$SHOPSCORE_TEST_DATABASE_URL" ]; then \
		echo "PostgreSQL tests against $${SHOPSCORE_TEST_DATABASE_URL\#\#*@}"; \
	elif [ "$$CI" = true ] && [ '$@' = test ]; then \
		echo "make $@: CI=true and SHOPSCORE_TEST_DATABASE_URL is not set: CI never skips the PostgreSQL tests (.ci/run starts a cluster)" >&2; exit 1; \
	elif ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then \
		pg_env=$$(bash .ci/start-postgres) || exit 1; eval "$$pg_env"; pg_own=1; \
		echo "PostgreSQL tests against a throwaway cluster in $$SHOPSCORE_TEST_PG_DIR"; \
	else \
		echo "*** PostgreSQL tests SKIPPED: SHOPSCORE_TEST_DATABASE_URL is not set and PostgreSQL is not installed" \
			"(apt-get install postgresql, or set the URL; eval \"\$$(bash .ci/start-postgres)\" starts a cluster) ***"; \
	fi;

.PHONY: all run reset build test vet vulncheck fmt generate checkgenerate console checkconsole screenshots lint bench clean

all: build

## run: build and start the server on its embedded defaults with demo data
run: build
	./bin/shopscore serve --demo --webhook-allow-loopback --data '$(DATA)' --addr '$(ADDR)'

## reset: delete the data folder, so that the next `make run` seeds the demo afresh
reset:
	@case '$(DATA)' in ''|/|.|..) echo "reset: refusing to delete DATA='$(DATA)'" >&2; exit 1;; esac
	rm -rf -- '$(DATA)'

## build: compile the binaries into ./bin
build:
	$(GO) build -o bin/ ./server/cmd/shopscore

## test: vet and run every test; without SHOPSCORE_TEST_S3_ENDPOINT it starts
## versitygw (tools/go.mod, .ci/start-s3; port SHOPSCORE_S3_PORT, default 9000)
## for the S3 tests and stops it afterwards. The PostgreSQL tests run against
## SHOPSCORE_TEST_DATABASE_URL; without it, a throwaway cluster from the
## installed PostgreSQL (.ci/start-postgres; port SHOPSCORE_PG_PORT, default
## 5432), or they are skipped, said so first; CI=true never skips them. With
## PostgreSQL, the packages whose tests open their databases through
## server/storage/testdb (directly or by servertest) run a second time with
## SHOPSCORE_TEST_BACKEND=postgres: every use case and server test on both;
## one package at a time, since a write transaction another package's test
## holds open anywhere in the cluster holds back what pulls see (DESIGN §9)
test: vet
	@$(WITH_POSTGRES) \
	if [ -n "$$SHOPSCORE_TEST_S3_ENDPOINT" ]; then \
		echo "S3 tests against $$SHOPSCORE_TEST_S3_ENDPOINT"; \
	else \
		s3_env=$$(bash .ci/start-s3) || exit 1; eval "$$s3_env"; s3_dir=$$SHOPSCORE_TEST_S3_DIR; \
	fi; \
	$(GO) test -count=1 -timeout 30m $(PKGS) && \
	if [ -n "$$SHOPSCORE_TEST_DATABASE_URL" ]; then \
		pg_pkgs=$$($(GO) list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' $(PKGS) | \
			awk '/server\/servertest|server\/storage\/testdb/ {print $$1}'); \
		echo "make test: again on PostgreSQL (SHOPSCORE_TEST_BACKEND=postgres), the packages whose tests open databases through server/storage/testdb:" $$pg_pkgs; \
		SHOPSCORE_TEST_BACKEND=postgres $(GO) test -p 1 -count=1 -timeout 30m $$pg_pkgs; \
	fi

## vulncheck: govulncheck (tools/go.mod) against a vulnerability database built
## from the golang.org/x/vulndb module (through the module proxy, not vuln.go.dev);
## fails when our code reaches a known vulnerability
vulncheck:
	@db=$$($(GO) -C tools run ./cmd/vulndb -version '$(VULNDB)') && \
	echo "vulncheck: $$($(GO) version), database $$db" && \
	$(TOOL) govulncheck -db "file://$$db" $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '^api/')

## generate: regenerate api/ from proto/
generate:
	$(TOOL) buf generate

## checkgenerate: fail when the committed api/ differs from what proto/ generates
checkgenerate:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(TOOL) buf generate -o "$$tmp" && \
	if ! diff -r api "$$tmp/api"; then echo "api/ is stale: run 'make generate' and commit" >&2; exit 1; fi && \
	echo "api/ is up to date"

## console: rebuild the web console (console/src/gen from proto/, console/dist
## from the sources) with the packages package-lock.json pins
console:
	cd console && $(NPM) ci --no-audit --no-fund
	$(TOOL) buf generate --template buf.gen.console.yaml
	cd console && $(NPM) run build

## screenshots: run the browser tests and keep their screenshots in
## docs/screenshots (a plain test run keeps them in a temporary folder)
screenshots:
	SHOPSCORE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run TestConsole ./console/e2e/

## checkconsole: fail when the committed console/src/gen or console/dist
## differs from what the sources make; run the console's unit tests
checkconsole:
	@test -d console/node_modules || (cd console && $(NPM) ci --no-audit --no-fund)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(TOOL) buf generate --template buf.gen.console.yaml -o "$$tmp" && \
	if ! diff -r console/src/gen "$$tmp/console/src/gen"; then echo "console/src/gen is stale: run 'make console' and commit" >&2; exit 1; fi && \
	(cd console && node_modules/.bin/tsc --noEmit && node_modules/.bin/vite build --logLevel warn --outDir "$$tmp/dist" --emptyOutDir) && \
	if ! diff -r console/dist "$$tmp/dist"; then echo "console/dist is stale: run 'make console' and commit" >&2; exit 1; fi && \
	echo "console/src/gen and console/dist are up to date"
	cd console && $(NPM) test

## lint: buf lint; buf breaking against the last tag before this commit, or
## else the previous commit (said and skipped when the clone has no history,
## as a shallow one); go mod tidy -diff on the module and tools/; staticcheck
## (tools/go.mod) on every package; gofmt and go vet on every file and package
lint:
	$(TOOL) buf lint
	@if base=$$(git describe --tags --abbrev=0 HEAD~1 2>/dev/null || git rev-parse -q --verify HEAD~1 2>/dev/null); then \
		echo "buf breaking against $$base"; \
		$(TOOL) buf breaking --against ".git#ref=$$(git rev-parse "$$base^{commit}")"; \
	else echo "buf breaking: skipped: this clone has no commit before HEAD (shallow?)"; fi
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff
	$(TOOL) staticcheck $(PKGS)
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt: not formatted:"; echo "$$bad"; exit 1; fi
	$(GO) vet $(PKGS)

## bench: run the benchmarks (figures and ratios go to BENCHMARKS.md); the
## PostgreSQL ones (W1_Postgres, W5_Cluster) find PostgreSQL as make test does
bench:
	@$(WITH_POSTGRES) \
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count 5 $(PKGS)

clean:
	rm -rf bin
