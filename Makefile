# QGP: the Makefile is the user interface (see README.md). Every target installs what it needs first.
SHELL   := /bin/bash
PY      := .venv/bin/python
CONFIG  ?= fmnist
BUNDLE  ?= models/fmnist
N       ?= 1000
JOBS    ?= $(shell nproc)
EPOCHS  ?=
LAYER   ?=
# SIM=icarus|verilator: make sim's simulator (Verilator: seconds a layer; Icarus: up to an hour)
SIM     ?= verilator
DATA    ?=
RESUME  ?=# RESUME=1: make train continues runs/CONFIG from its last completed epoch
INIT    ?=# INIT=x.pt: make train starts from that run's weights (fine-tune)
GATE    ?=# GATE=1: make regress runs the synthesized netlist instead of the RTL
XILINX  ?=# XILINX=1: make impl adds whole-network synth_xilinx totals
FREQ    ?=# FREQ=<MHz>: make impl's timing target
SEEDS   ?=# SEEDS=n: make impl places and routes with n seeds and keeps the fastest
SPEC    ?= narrow-bls# make compare: a spec in train/configs/compare (narrow-bls: CPU, the table of record; full: the shipped network, GPU)
WORKERS ?= 2# make compare: training processes in parallel (one torch thread each)
WAVES   ?=# WAVES=1: simulations dump an FST waveform and print its path
export WAVES
# FOLDING=conv2:8,conv3:16 (PE per layer) or FOLDING=plan.json: the one folding plan (rtl.gen.plan),
# read by gen, lint, sim, regress, bench and impl; default rate-matched
FOLDING ?=
DEVICE  ?= ecp5-85k
BOARD   ?= ulx3s-85f
ifneq ($(strip $(FOLDING)),)
export FOLDING
endif
APT_PKGS := iverilog verilator yosys liblz4-dev dataset-fashion-mnist
FMNIST  := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup demo test check record train export eval lint sim regress impl compare bench clean formal coverage board flash
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

setup: .venv/.stamp ## install Debian packages (only if missing) and the Python venv (idempotent)
	@missing=""; for t in iverilog verilator yosys; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	[ -f $(FMNIST) ] || missing="$$missing dataset-fashion-mnist"; \
	[ -f /usr/include/lz4.h ] || missing="$$missing liblz4-dev"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PKGS) >/dev/null; fi

.venv/.stamp: requirements.txt
	@[ -x $(PY) ] || python3 -m venv .venv
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

demo: setup ## golden eval of the shipped bundle on all 10,000 test images, then the RTL on a sample
	$(PY) -m golden eval --bundle $(BUNDLE) --out build/eval.json
	$(PY) -m tb.regress --bundle $(BUNDLE) --n 200 --out build/demo_regress.json

test: setup ## the fast tier: pytest (all but the make check tier), coverage, formal proofs, then the Verilator regression on N images
	$(PY) -m tb.common.coverage clean
	$(PY) -m pytest -q -n $(JOBS) --dist loadgroup --durations=15 -m "not check" tests tb; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc
	$(PY) -m tb.common.coverage report
	$(MAKE) --no-print-directory formal
	$(MAKE) --no-print-directory regress N=$(N)
	$(PY) -m qgp.results --check

check: setup ## the second tier (CI runs it after make test): place and route, gate level, install, trainings with RTL, soaks (conftest.CHECK_TIER)
	$(PY) -m pytest -q -n $(JOBS) --dist loadgroup --durations=15 -m check tests tb; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

train: setup ## train CONFIG (default fmnist) into runs/CONFIG; EPOCHS=.. overrides; RESUME=1 continues; INIT=x.pt fine-tunes; DATA=npz:F|folder:D
	$(PY) -m train train --config $(CONFIG) --out runs/$(CONFIG) $(if $(DATA),--data $(DATA)) $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(RESUME),--resume) $(if $(INIT),--init $(INIT))

export: setup ## export runs/CONFIG/final.pt as the bundle models/CONFIG
	$(PY) -m train export --run runs/$(CONFIG) --out models/$(CONFIG)

eval: setup ## golden model on the test set -> build/eval.json + build/eval-confusion.png (N=.. limits the images; DATA=..)
	$(PY) -m golden eval --bundle $(BUNDLE) $(if $(DATA),--data $(DATA)) $(if $(filter command line,$(origin N)),--limit $(N)) --out build/eval.json

lint: setup ## verilator --lint-only -Wall and yosys (latches, loops) on every module and the generated top
	$(PY) -m rtl.lint --bundle $(BUNDLE)
	$(PY) -m impl.lint --bundle $(BUNDLE)
	$(PY) -m qgp.board.build --bundle $(BUNDLE) --lint

sim: setup ## cocotb on SIM (default verilator; SIM=icarus), layer LAYER of the bundle vs golden (all layers without LAYER)
	$(PY) -m tb.layer --bundle $(BUNDLE) --sim $(SIM) $(if $(LAYER),--layer $(LAYER))

regress: setup ## Verilator, whole network vs golden on N images -> build/regress.json (GATE=1: the synthesized netlist)
	$(PY) -m tb.regress --bundle $(BUNDLE) $(if $(DATA),--data $(DATA)) --n $(N) --jobs $(JOBS) --out build/regress.json $(if $(filter 1,$(GATE)),--gate)

impl: setup ## synthesis, place and route, timing, bitstream on DEVICE (default ecp5-85k) -> build/impl/<name>/impl.json
	$(PY) -m impl --bundle $(BUNDLE) --device $(DEVICE) $(if $(FREQ),--freq $(FREQ)) $(if $(SEEDS),--seeds $(SEEDS)) $(if $(XILINX),--xilinx)

compare: setup ## QGP vs float / int8 / binary / ablations, 3 seeds each, convergence check -> models/compare (resumable; SPEC=full on a GPU)
	$(PY) -m train compare --spec $(SPEC) --workers $(WORKERS) --jobs $(JOBS)

COV_TBS := tb/axis_fifo tb/axis_skid tb/window3x3 tb/conv_qgp tb/conv_dense tb/maxpool2 tb/gsum_fc
coverage: setup ## functional coverage of the cocotb testbenches: build/coverage.json (+ one per testbench), table; fails if a bin is lost or neither hit nor waived
	$(PY) -m tb.common.coverage clean
	$(PY) -m pytest -q -n $(JOBS) $(COV_TBS); rc=$$?; [ $$rc -eq 0 ] || { echo "coverage: testbenches failed (pytest exit $$rc)"; exit 1; }
	$(PY) -m tb.common.coverage report

formal: setup ## SymbiYosys proofs of the stream blocks (formal/*.sby): table of property / engine / depth / result
	$(PY) formal/run.py

bench: setup ## area / throughput / simulation speed -> build/bench.json + markdown table
	$(PY) -m tb.bench --bundle $(BUNDLE) --out build/bench.json

record: setup ## copy the shipped bundle's build/regress.json and build/impl/*/impl.json into docs/results, regenerate docs/RESULTS.md and the README table
	$(PY) -m qgp.results --record

board: setup ## bitstream of BUNDLE on BOARD (default ulx3s-85f): PLL, UART, protocol, network -> build/board/<BOARD>/qgp.bit + board.json
	$(PY) -m qgp.board.build --board $(BOARD) --bundle $(BUNDLE)

flash: ## load build/board/<BOARD>/qgp.bit into the board on USB (openFPGALoader -b ulx3s; Debian package openfpgaloader)
	$(PY) -m qgp.board.build --board $(BOARD) --flash

clean: ## remove build outputs (keeps .venv, runs/ and models/)
	rm -rf build
