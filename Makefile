# Entry points. Kept to syntax that both GNU make (Linux) and FreeBSD's make
# understand; the work happens in scripts/.
#   make        Linux: cross-build build/freebsd14/pfsync.ko and
#               build/freebsd15/pfsync.ko (installs the toolchain if missing)
#               FreeBSD: build kmod/pfsync.ko with bsd.kmod.mk
#   make openbsd  Linux: build/openbsd/pfsync.o, the object that replaces
#               if_pfsync.o in an OpenBSD amd64 kernel (scripts/openbsd-build.sh)
#   make test   install what the stages need if missing (as make does), then
#               run every stage in scripts/stages/ ("N passed, N failed")
#   make clean  remove build outputs (keeps .toolchain/)
#   make demo   two namespaced firewalls syncing (root; scripts/demo.sh)
#   make bench  bulk join of 1,000,000 states over veth (root; scripts/bench-netns-bulk.sh)
#   make fuzz   run every fuzz target for FUZZ_SECONDS each (default 60; scripts/fuzz.sh)

all:
	@sh scripts/build.sh

openbsd:
	@sh scripts/openbsd-build.sh

test:
	@sh scripts/test.sh

clean:
	rm -rf build target

demo:
	@sh scripts/demo.sh

bench:
	@sh scripts/bench-netns-bulk.sh

fuzz:
	@sh scripts/fuzz.sh seconds "$${FUZZ_SECONDS:-60}"

.PHONY: all openbsd test clean demo bench fuzz
