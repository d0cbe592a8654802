# shopscore — every task a developer or CI runs. Tools come from tools/go.mod
# through the Go module proxy: `go tool -modfile=tools/go.mod NAME`.
GO      ?= go
TOOL    := $(GO) tool -modfile=tools/go.mod
DATA    ?= data
ADDR    ?= 127.0.0.1:8080
BENCH   ?= .
PKGS    := ./...
NPM     ?= npm

.PHONY: all run build test vet fmt generate checkgenerate console checkconsole lint bench clean

all: build

## run: build and start the server on its embedded defaults with demo data
run: build
	./bin/shopscore serve --demo --data $(DATA) --addr $(ADDR)

## build: compile the binaries into ./bin
build:
	$(GO) build -o bin/ ./server/cmd/shopscore

## test: vet and run every test
test: vet
	$(GO) test -count=1 -timeout 30m $(PKGS)

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

## lint: buf lint, and buf breaking against main when git history is there
lint:
	$(TOOL) buf lint
	@if git rev-parse --verify -q main >/dev/null; then \
		$(TOOL) buf breaking --against '.git#branch=main'; \
	else echo "no main branch: skipping buf breaking"; fi

## bench: run the benchmarks (figures and ratios go to BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count 5 $(PKGS)

clean:
	rm -rf bin
