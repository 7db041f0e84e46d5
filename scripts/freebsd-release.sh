#!/bin/sh
# The FreeBSD release each cross build is checked against.  Sourced by every
# script that compiles against the headers, so the build, the layout oracle
# and the module's load check agree on one number per branch.
#
# The headers come from PyPI's ziglang wheels: 0.15.1 carries FreeBSD 14.3's,
# 0.17.1 FreeBSD 15.1's (zig's std/Target.zig names these as the newest
# FreeBSD it supports).  15.1 is also what the QEMU guest stage boots.
#
#   freebsd_osrel 14|15        __FreeBSD_version of that release
#   freebsd_osrel_max 14|15    last __FreeBSD_version before the next minor release

freebsd_osrel() {
    case $1 in
    14) echo 1403000 ;;
    15) echo 1501000 ;;
    *) echo "freebsd-release: unknown branch $1" >&2; return 1 ;;
    esac
}

freebsd_osrel_max() {
    v=$(freebsd_osrel "$1") || return 1
    echo $((v / 1000 * 1000 + 999))
}
