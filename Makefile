# Entry points. Kept to syntax that both GNU make (Linux) and FreeBSD's make
# understand; the work happens in scripts/.
#   make        Linux: cross-build build/freebsd14/pfsync.ko and
#               build/freebsd15/pfsync.ko (installs the toolchain if missing)
#               FreeBSD: build kmod/pfsync.ko with bsd.kmod.mk
#   make test   install what the stages need if missing (as make does), then
#               run every stage in scripts/stages/ ("N passed, N failed")
#   make clean  remove build outputs (keeps .toolchain/)
#   make demo   two namespaced firewalls syncing (root; scripts/demo.sh)
#   make bench  bulk join of 1,000,000 states over veth (root; scripts/bench-netns-bulk.sh)

all:
	@sh scripts/build.sh

test:
	@sh scripts/test.sh

clean:
	rm -rf build target

demo:
	@sh scripts/demo.sh

bench:
	@sh scripts/bench-netns-bulk.sh

.PHONY: all test clean demo bench
