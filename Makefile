# Everyday commands. `make test` is what CI runs (.ci/run); `make demo` is the quick look.
.PHONY: deps build test test-release test-tsan test-asan demo demo-inproc bench bench-peers format clean

TSAN_TARGETS := core_test engine_test store_test cache_test server_ops_test io_balancer_test

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

test: build
	@ctest --preset release
	@$(MAKE) --no-print-directory test-tsan

test-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan --target $(TSAN_TARGETS)
	@ctest --preset tsan

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@ctest --preset asan

# cmdq serve on RocksDB, a remote worker, the CLI and a W2 load against it (scripts/demo).
demo: build
	@scripts/demo

# The library alone, in process: tiers T1 (sync) and T2 (async) side by side.
demo-inproc: build
	@build/release/cmdq demo

bench: build
	@build/release/cmdq bench --workload W0.sync
	@build/release/cmdq bench --workload W0.async

# W1 against beanstalkd, Redis Streams, RabbitMQ, PostgreSQL and NATS JetStream, with
# cmdq serve in the same run; writes docs/benchmarks.md and its plots (~12 minutes).
bench-peers: deps
	@scripts/install-peer-deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target cmdq cmdq_peer_bench
	@bench/peers/run

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build
