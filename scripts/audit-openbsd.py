#!/usr/bin/env python3
"""Audit of build/openbsd/pfsync.o, the object linked into an OpenBSD amd64
kernel in place of if_pfsync.o (OpenBSD has no loadable modules).

Reuses scripts/audit-ko.py's ELF reader, disassembly walk and header
declaration extraction; what differs from a FreeBSD .ko:

  header      ELF64, relocatable, x86-64, OSABI System V (what OpenBSD's
              toolchain writes; the kernel link is a static ld.lld link).
  entry       every name in kmod/openbsd/export_syms (the _KERNEL API of
              net/if_pfsync.h and pfsyncattach) is defined and global.
  fpu, redzone, tls, common, stack
              as for FreeBSD.  The C files are held to OpenBSD's own
              -Wframe-larger-than=2047 by the compiler; the whole object,
              Rust included, to --max-frame (4096 by default, as for FreeBSD:
              amd64 kernel stacks are several pages).
  relocs      only the static relocations a -mcmodel=kernel -fno-pie kernel
              link resolves (64, PC32, PLT32, 32S; none of GOT, TLS, 32).
  undefined   declared by OpenBSD's headers (clang's AST of the shim's own
              sources), or by the libkern stand-in (listed, so nothing hides
              there), or one of the two symbols clang's stack protector emits
              for an OpenBSD target, which the kernel defines.
  exports     defined globals only from export_syms, and the weak hidden
              signatures of COMDAT groups (retpoline thunks), of which the
              kernel link keeps one copy.
  comdat      no COMDAT group with a local signature: the gABI knows a group
              by its signature's name, so a local one leaves it to the
              linker whether this copy is kept or merged away (lld 14 keeps
              it; the object should not depend on that).
  retpoline   no indirect call or jump (OpenBSD kernels are retpolined).
  ibt         every function whose address is taken or that is global starts
              with endbr64: OpenBSD enables IBT, and an indirect branch to
              anything else faults.

Usage:
  audit-openbsd.py decls --cflags FILE --header-dir DIR [--standin-dir DIR] \
                         -o OUT SOURCE...
  audit-openbsd.py check --decls FILE [--standin-decls FILE] --keep FILE \
                         [--max-frame N] [-v] OBJECT...
"""

import argparse
import importlib.util
import os
import re
import struct
import sys

_spec = importlib.util.spec_from_file_location(
    "audit_ko", os.path.join(os.path.dirname(os.path.abspath(__file__)), "audit-ko.py"))
ko = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ko)

ELFOSABI_SYSV = 0
STT_FUNC = 2
SHN_LORESERVE = 0xFF00
STT_SECTION = 3
SHT_GROUP = 17
STV_HIDDEN = 2
ENDBR64 = b"\xf3\x0f\x1e\xfa"

# Static relocations of a non-PIC, kernel-code-model object.
ALLOWED_RELOCS = {0: "R_X86_64_NONE", 1: "R_X86_64_64", 2: "R_X86_64_PC32",
                  4: "R_X86_64_PLT32", 11: "R_X86_64_32S"}
# Relocations that take an address (not a call or branch target).
ADDRESS_RELOCS = {1, 10, 11}
# clang -target *-openbsd: -fstack-protector-strong by default, with the
# canary in __guard_local and failures to __stack_smash_handler; OpenBSD's
# kernel defines both (it is built with the protector unless NO_PROPOLICE).
COMPILER_RUNTIME = {"__guard_local", "__stack_smash_handler"}
INDIRECT = re.compile(r"^\*")


def rela_entries(elf):
    """Yields (section it applies to, offset, type, symbol index, addend)."""
    for s in elf.sections:
        if s["type"] != ko.SHT_RELA:
            continue
        for i in range(s["size"] // 24):
            off, info, addend = struct.unpack_from("<QQq", elf.data, s["offset"] + i * 24)
            yield s["info"], off, info & 0xFFFFFFFF, info >> 32, addend


def symbol_table(elf):
    """Index -> (name, bind, type, shndx, value) of every symbol."""
    return {i: (name, bind, stype, shndx, value)
            for i, name, bind, stype, shndx, value in elf.symbols()}


def group_signatures(elf):
    """Symbol index -> group section name, for every COMDAT group."""
    sigs = {}
    for s in elf.sections:
        if s["type"] == SHT_GROUP:
            sigs[s["info"]] = s["name"]
    return sigs


def visibility(elf, index):
    """st_other & 3 of symbol `index` in the (one) symbol table."""
    for s in elf.sections:
        if s["type"] == ko.SHT_SYMTAB:
            _name, _info, other = struct.unpack_from("<IBB", elf.data, s["offset"] + index * 24)
            return other & 3
    return 0


def check(path, declared, standin, keep, max_frame):
    problems = []
    notes = []
    elf = ko.Elf(path)
    if elf.ei_class != 2 or elf.ei_data != 1:
        return [("header", "not ELF64 little-endian")], notes
    if elf.type != ko.ET_REL:
        problems.append(("header", f"e_type {elf.type}, want ET_REL (1)"))
    if elf.machine != ko.EM_X86_64:
        problems.append(("header", f"e_machine {elf.machine}, want EM_X86_64 (62)"))
    if elf.osabi != ELFOSABI_SYSV:
        problems.append(("header", f"OSABI {elf.osabi}, want ELFOSABI_SYSV (0)"))
    if problems:
        return problems, notes

    syms = symbol_table(elf)
    defined_globals = {name for name, bind, _t, shndx, _v in syms.values()
                       if bind != ko.STB_LOCAL and shndx != ko.SHN_UNDEF and name}
    for name in sorted(keep - defined_globals):
        problems.append(("entry", f"{name} is not defined as a global"))

    for s in elf.sections:
        if s["name"].startswith((".tdata", ".tbss")) or s["flags"] & ko.SHF_TLS:
            problems.append(("tls", f"thread-local section {s['name']}"))
    for name, bind, stype, shndx, _v in syms.values():
        if stype == ko.STT_TLS:
            problems.append(("tls", f"thread-local symbol {name}"))
        if shndx == ko.SHN_COMMON:
            problems.append(("common", f"COMMON symbol {name}"))

    relas = list(rela_entries(elf))
    for _target, _off, rtype, symidx, _add in relas:
        if rtype not in ALLOWED_RELOCS:
            rname = ko.RELOC_NAMES.get(rtype, f"type {rtype}")
            problems.append(("relocs", f"{rname} against {syms.get(symidx, ('?',))[0]!r}"))

    sigs = group_signatures(elf)
    shared_copies = set()
    for index, group in sigs.items():
        name, bind, _t, _sh, _v = syms.get(index, ("?", ko.STB_LOCAL, 0, 0, 0))
        if bind == ko.STB_LOCAL:
            problems.append(("comdat", f"COMDAT group ({group}) signature {name!r} is local"))
        elif bind == ko.STB_WEAK and visibility(elf, index) == STV_HIDDEN:
            shared_copies.add(name)

    from_standin = []
    for name, bind, _t, shndx, _v in syms.values():
        if bind == ko.STB_LOCAL or not name or name in shared_copies:
            continue
        if shndx == ko.SHN_UNDEF:
            if name in declared:
                continue
            if name in standin:
                from_standin.append(name)
            elif name in COMPILER_RUNTIME:
                notes.append(f"compiler runtime (stack protector): {name}")
            else:
                problems.append(("undefined", f"{name} is not declared by the OpenBSD headers"))
        elif name not in keep:
            problems.append(("exports", f"{name} is exported but not in the keep list"))
    for name in sorted(from_standin):
        notes.append(f"declared only by the libkern stand-in: {name}")

    # IBT: functions that are global or whose address some relocation takes.
    funcs = {}
    for name, bind, stype, shndx, value in syms.values():
        if stype == STT_FUNC and 0 < shndx < SHN_LORESERVE:
            funcs.setdefault((shndx, value), name)
            if bind != ko.STB_LOCAL:
                funcs[(shndx, value)] = name
    # Global functions may be called through a pointer from anywhere; a
    # COMDAT thunk's shared copy is only ever called directly.
    need_endbr = {(shndx, value) for name, bind, stype, shndx, value in syms.values()
                  if stype == STT_FUNC and bind != ko.STB_LOCAL and 0 < shndx < SHN_LORESERVE
                  and name not in shared_copies}
    for _target, _off, rtype, symidx, addend in relas:
        if rtype not in ADDRESS_RELOCS or symidx not in syms:
            continue
        _name, _bind, stype, shndx, value = syms[symidx]
        if stype == STT_SECTION:
            where = (shndx, addend)
        elif stype == STT_FUNC:
            where = (shndx, value + addend)
        else:
            continue
        if where in funcs:
            need_endbr.add(where)
    for shndx, value in sorted(need_endbr):
        sec = elf.sections[shndx]
        start = sec["offset"] + value
        if sec["type"] == ko.SHT_NOBITS or elf.data[start:start + 4] != ENDBR64:
            problems.append(("ibt", f"{funcs[(shndx, value)]} is reached indirectly "
                                    "but does not start with endbr64"))

    frames = {}
    for func, mnemonic, operands in ko.disassemble(path):
        if ko.FPU_MNEMONIC.match(mnemonic) or ko.FPU_REGISTER.search(operands):
            problems.append(("fpu", f"{func}: {mnemonic} {operands}".rstrip()))
        if ko.RED_ZONE.search(operands):
            problems.append(("redzone", f"{func}: {mnemonic} {operands}"))
        if mnemonic.startswith(("call", "jmp")) and INDIRECT.match(operands):
            problems.append(("retpoline", f"{func}: indirect {mnemonic} {operands}"))
        m = ko.STACK_LOWER.match(f"{mnemonic} {operands}")
        if m:
            frames[func] = frames.get(func, 0) + int(m.group(1), 0)
    largest = sorted(((size, func) for func, size in frames.items()), reverse=True)
    for size, func in largest:
        if size > max_frame:
            problems.append(("stack", f"{func} has a stack frame of about {size} bytes "
                                      f"(limit {max_frame})"))
    check.largest_frame = largest[0] if largest else (0, "-")
    check.endbr_checked = len(need_endbr)
    return problems, notes


def cmd_decls(args):
    rc = ko.cmd_decls(args)
    if rc != 0 or not args.standin_dir:
        return rc
    # The stand-in's own declarations, kept apart from the real headers'.
    standin_args = argparse.Namespace(cflags=args.cflags, header_dir=args.standin_dir,
                                      output=args.output + ".standin", sources=args.sources)
    return ko.cmd_decls(standin_args)


def cmd_check(args):
    declared = ko.read_list(args.decls)
    standin = ko.read_list(args.standin_decls) if args.standin_decls else set()
    keep = ko.read_list(args.keep)
    failed = 0
    for obj in args.objects:
        problems, notes = check(obj, declared, standin, keep, args.max_frame)
        elf = ko.Elf(obj)
        undefined = sorted(name for _i, name, bind, _t, shndx, _v in elf.symbols()
                           if shndx == ko.SHN_UNDEF and bind != ko.STB_LOCAL and name)
        frame, func = getattr(check, "largest_frame", (0, "-"))
        print(f"{obj}: {os.path.getsize(obj)} bytes, {len(undefined)} undefined symbols, "
              f"{getattr(check, 'endbr_checked', 0)} indirect-call targets checked for endbr64, "
              f"largest stack frame {frame} bytes ({func})")
        if args.verbose:
            for name in undefined:
                print(f"  undefined: {name}")
        for note in notes:
            print(f"  note: {note}")
        for name, problem in problems:
            print(f"  FAIL [{name}] {problem}")
        if problems:
            failed += 1
        else:
            print("  ok: header entry fpu redzone tls common relocs undefined exports "
                  "comdat retpoline ibt stack")
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decls")
    d.add_argument("--cflags", required=True)
    d.add_argument("--header-dir", action="append", required=True)
    d.add_argument("--standin-dir", action="append")
    d.add_argument("-o", "--output", required=True)
    d.add_argument("sources", nargs="+")
    c = sub.add_parser("check")
    c.add_argument("--decls", required=True)
    c.add_argument("--standin-decls")
    c.add_argument("--keep", required=True)
    c.add_argument("--max-frame", type=int, default=4096)
    c.add_argument("-v", "--verbose", action="store_true")
    c.add_argument("objects", nargs="+")
    args = p.parse_args()
    return cmd_decls(args) if args.cmd == "decls" else cmd_check(args)


if __name__ == "__main__":
    sys.exit(main())
