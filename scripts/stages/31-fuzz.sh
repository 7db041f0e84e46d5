#!/bin/sh
# Bounded libFuzzer passes (scripts/fuzz.sh): the frame reader (FreeBSD
# 14.x/15.x and OpenBSD rules on every input), the engine's receive path
# (dialects, authentication, anti-entropy, with invariant checks) and the
# configuration entry points. A fixed seed and run count per target keep it
# reproducible and the stage near 3 minutes; a crash or failed check fails
# the stage and leaves the input in target/fuzz-artifacts/.
set -eu

sh scripts/fuzz.sh runs "${PFSYNC_FUZZ_RUNS:-1000000}" frame_reader
sh scripts/fuzz.sh runs "${PFSYNC_FUZZ_ENGINE_RUNS:-300000}" engine
sh scripts/fuzz.sh runs "${PFSYNC_FUZZ_CONFIG_RUNS:-300000}" config
