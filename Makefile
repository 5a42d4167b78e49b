# InfiniGen-Swift: one entry point per job. Every target that needs the model or data
# runs `setup` first (idempotent; quick when the cache is complete).
SWIFT        ?= swift
CONFIG       ?= release
BIN          := .build/$(CONFIG)/infinigen
PROFILE      ?= default
# One set of flags for the executable and the tests, so `make test` builds once.
# (-enable-testing lets release-mode tests use @testable imports.)
SWIFT_FLAGS  := -c $(CONFIG) -Xswiftc -enable-testing

.PHONY: all setup build test test-kernels bench reproduce figure verify golden clean help

all: build

help:
	@echo "make setup       install OpenBLAS/gnuplot if missing, fetch and verify the pinned model and data"
	@echo "make build       release build of the infinigen executable"
	@echo "make test        the whole test suite (release mode, real model included) under the program's BLAS kernel"
	@echo "make test-kernels  the kernel-dependent tests under each of KERNELS ($(KERNELS))"
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

# The tests run under the OpenBLAS kernel the program selects (`infinigen blas-core`:
# CPU flags, or INFINIGEN_BLAS_CORE), whatever OPENBLAS_CORETYPE the caller exported;
# a test fails if the loaded kernel is another. test-kernels is separate: with it,
# make test took 15 min on the 2-core machine (6 min without).
test: build
	@core=$$($(BIN) blas-core) || exit 1; \
	if [ -n "$$core" ]; then export OPENBLAS_CORETYPE=$$core; fi; \
	echo "tests under OpenBLAS kernel $${core:-(OpenBLAS's own choice)}"; \
	$(SWIFT) test $(SWIFT_FLAGS)

# The tests whose numbers depend on the kernel (BLAS itself, the engine against the
# reference, run modes compared), once per kernel; INFINIGEN_BLAS_CORE makes the
# program and the tests' kernel check agree on it.
KERNELS      ?= Prescott Haswell SkylakeX
KERNEL_TESTS := --filter 'NumericsTests\.' --filter 'ModelTests\.' --filter 'PoliciesTests\.(EngineIntegrationTests|RunModesTests)' \
                --filter 'PoliciesTests\.InfiniGenRealModelTests/testDecodeModeMatchesTeacherForcedSelections' \
                --filter 'EvaluationTests\.OffloadRunTests'
test-kernels: build
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	@for k in $(KERNELS); do \
	  core=$$(INFINIGEN_BLAS_CORE=$$k $(BIN) blas-core) || exit 1; \
	  echo "== kernel-dependent tests under $$core"; \
	  INFINIGEN_BLAS_CORE=$$k OPENBLAS_CORETYPE=$$core $(SWIFT) test $(SWIFT_FLAGS) --skip-build $(KERNEL_TESTS) || exit 1; \
	done

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
