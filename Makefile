# InfiniGen-Swift: one entry point per job. Every target that needs the model or data
# runs `setup` first (idempotent; quick when the cache is complete).
SWIFT        ?= swift
CONFIG       ?= release
BIN          := .build/$(CONFIG)/infinigen
PROFILE      ?= default
# One set of flags for the executable and the tests, so `make test` builds once.
# (-enable-testing lets release-mode tests use @testable imports.)
SWIFT_FLAGS  := -c $(CONFIG) -Xswiftc -enable-testing

.PHONY: all setup build test bench reproduce figure verify golden clean help

all: build

help:
	@echo "make setup       install OpenBLAS/gnuplot if missing, fetch and verify the pinned model and data"
	@echo "make build       release build of the infinigen executable"
	@echo "make test        the whole test suite (release mode, real model included)"
	@echo "make bench       engine throughput vs this machine's limits, speculation overhead"
	@echo "make reproduce   every experiment at PROFILE=$(PROFILE) -> artifacts/, figures/"
	@echo "make figure FIG=fig14   one experiment"
	@echo "make verify      recompute the quick profile and compare with the golden numbers"
	@echo "make golden      rewrite Tests/Golden/ from fresh quick-profile results"
	@echo "make clean       remove build products and the result cache"

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(SWIFT_FLAGS) --product infinigen

test: build
	$(SWIFT) test $(SWIFT_FLAGS)

bench: build
	$(BIN) bench

reproduce: build
	$(BIN) reproduce --profile $(PROFILE)

figure: build
	@test -n "$(FIG)" || { echo "usage: make figure FIG=<id>   (ids: $(BIN) list)"; exit 2; }
	$(BIN) reproduce --profile $(PROFILE) --only $(FIG)

verify: build
	$(BIN) verify --profile quick

# Regenerate the golden files from fresh quick-profile results. Commit them together
# with the change that moved the numbers, and say why in the commit message.
golden: build
	$(BIN) verify --profile quick --update

clean:
	rm -rf .build artifacts/cache artifacts/shards
