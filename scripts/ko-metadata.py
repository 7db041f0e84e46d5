#!/usr/bin/env python3
"""Reads a FreeBSD kernel module's linker metadata (the modmetadata_set that
MODULE_DEPEND, MODULE_VERSION and DECLARE_MODULE fill) and checks the
dependency ranges the kernel linker will test at kldload.

    ko-metadata.py show KO
    ko-metadata.py check KO --branch 15 --osrel 1501000

`check` fails (exit 1) unless the module declares itself as "pfsync" version 1,
depends on "pf" version 1 exactly, and depends on "kernel" with a range that is
not empty, holds OSREL as its preferred version and spans exactly the major
branch (MOD_LOAD then narrows it to the checked release, kmod/pfsync_module.c).
A range whose maximum is below its minimum is what made every earlier build
unloadable: no kernel satisfies it.

In a relocatable .ko every pointer in the metadata is a relocation, so the
records are found by following R_X86_64_64 entries to their target sections.
"""
import argparse
import importlib.util
import os
import struct
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("audit_ko", os.path.join(_here, "audit-ko.py"))
audit_ko = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit_ko)

MDT_DEPEND, MDT_MODULE, MDT_VERSION = 1, 2, 3
R_X86_64_64 = 1
SHT_RELA = 4


class Module:
    def __init__(self, path):
        self.elf = elf = audit_ko.Elf(path)
        if elf.type != audit_ko.ET_REL:
            raise ValueError(f"{path}: not a relocatable object")
        self.syms = {i: (shndx, value) for i, _n, _b, _t, shndx, value in elf.symbols()}
        # (target section index, offset) -> (section index, offset) it points to
        self.pointers = {}
        for s in elf.sections:
            if s["type"] != SHT_RELA:
                continue
            for i in range(s["size"] // 24):
                off, info, addend = struct.unpack_from("<QQq", elf.data, s["offset"] + i * 24)
                if info & 0xFFFFFFFF != R_X86_64_64:
                    continue
                shndx, value = self.syms.get(info >> 32, (0, 0))
                self.pointers[(s["info"], off)] = (shndx, value + addend)

    def section(self, name):
        for s in self.elf.sections:
            if s["name"] == name:
                return s
        return None

    def deref(self, sec_index, off):
        """Where the pointer stored at sec_index+off points, or None."""
        return self.pointers.get((sec_index, off))

    def read(self, where, fmt):
        shndx, off = where
        sec = self.elf.sections[shndx]
        return struct.unpack_from(fmt, self.elf.data, sec["offset"] + off)

    def cstring(self, where):
        shndx, off = where
        sec = self.elf.sections[shndx]
        start = sec["offset"] + off
        return self.elf.data[start:self.elf.data.index(b"\0", start)].decode()

    def records(self):
        """Yields (type, name, data) for every metadata record."""
        mset = self.section("set_modmetadata_set")
        if mset is None:
            return
        for slot in range(0, mset["size"], 8):
            rec = self.deref(mset["index"], slot)
            if rec is None:
                continue
            _ver, mdt = self.read(rec, "<ii")
            data = self.deref(rec[0], rec[1] + 8)
            cval = self.deref(rec[0], rec[1] + 16)
            name = self.cstring(cval) if cval else ""
            if mdt == MDT_DEPEND and data:
                yield mdt, name, self.read(data, "<iii")
            elif mdt == MDT_VERSION and data:
                yield mdt, name, self.read(data, "<i")[0]
            else:
                yield mdt, name, None


def check(records, branch, osrel):
    problems = []
    deps = {name: data for mdt, name, data in records if mdt == MDT_DEPEND}
    versions = {name: data for mdt, name, data in records if mdt == MDT_VERSION}
    modules = [name for mdt, name, _ in records if mdt == MDT_MODULE]
    if modules != ["pfsync"]:
        problems.append(f"declares modules {modules}, want ['pfsync']")
    if versions.get("pfsync") != 1:
        problems.append(f"pfsync version {versions.get('pfsync')}, want 1")
    if deps.get("pf") != (1, 1, 1):
        problems.append(f"pf dependency {deps.get('pf')}, want (1, 1, 1)")
    kernel = deps.get("kernel")
    if kernel is None:
        problems.append("no kernel dependency")
    else:
        lo, pref, hi = kernel
        if hi < lo:
            problems.append(f"kernel range {lo}-{hi} is empty: no kernel can load it")
        if not lo <= pref <= hi:
            problems.append(f"preferred kernel {pref} outside {lo}-{hi}")
        if pref != osrel:
            problems.append(f"preferred kernel {pref}, want the checked release {osrel}")
        if (lo, hi) != (branch * 100000, branch * 100000 + 99999):
            problems.append(f"kernel range {lo}-{hi}, want the {branch}.x branch "
                            f"{branch * 100000}-{branch * 100000 + 99999}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("show")
    p.add_argument("ko")
    p = sub.add_parser("check")
    p.add_argument("ko")
    p.add_argument("--branch", type=int, required=True)
    p.add_argument("--osrel", type=int, required=True)
    args = ap.parse_args()
    records = list(Module(args.ko).records())
    names = {MDT_DEPEND: "depend", MDT_MODULE: "module", MDT_VERSION: "version"}
    for mdt, name, data in records:
        print(f"  {names.get(mdt, mdt)} {name} {data if data is not None else ''}".rstrip())
    if args.cmd == "check":
        problems = check(records, args.branch, args.osrel)
        for p in problems:
            print(f"{args.ko}: {p}")
        if problems:
            return 1
        print(f"{args.ko}: metadata ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
