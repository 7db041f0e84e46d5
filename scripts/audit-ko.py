#!/usr/bin/env python3
"""Audit of a FreeBSD amd64 kernel module object (.ko) built on Linux.

Nothing here can kldload the module, so this checks, on the object itself,
what FreeBSD's kernel linker and the amd64 kernel ABI require:

  header      ELF64, relocatable (amd64 kmods are not shared objects), x86-64,
              OSABI FreeBSD.
  module      it carries module metadata (set_modmetadata_set, written by
              DECLARE_MODULE and MODULE_VERSION), which kldload looks for.
  fpu         no SSE/AVX/MMX/x87 instructions or registers: the kernel does not
              save FPU state for its own code (llvm-objdump disassembly).
  redzone     no stack accesses below %rsp: interrupts on the kernel stack
              clobber that area (amd64 kernel code is built -mno-red-zone).
  tls         no thread-local sections or symbols: the kernel has no TLS.
  common      no COMMON symbols (kmod.mk builds with -fno-common).
  relocs      only relocation types sys/amd64/amd64/elf_machdep.c handles;
              anything else makes kldload fail with "unexpected relocation type".
  undefined   every undefined symbol is declared, as a non-inline function or
              an extern variable, by the FreeBSD headers of that build: the
              declarations come from clang's AST of the module's own sources,
              compiled with the build's flags. The only exception: weak
              __start_<set>/__stop_<set> references to a linker set section the
              module itself contains, which link_elf_obj.c's
              link_elf_fix_link_set() resolves against that section.
  exports     defined global/weak symbols only from the keep list
              (kmod/export_syms, FreeBSD's EXPORT_SYMS).
  stack       no function's stack frame exceeds --max-frame bytes (kernel
              stacks are about 16 KiB); estimated from the constant %rsp
              adjustments, including stack-probe sequences.

Usage:
  audit-ko.py decls --cflags FILE --header-dir DIR [--header-dir DIR...] \
                    -o OUT SOURCE...
      write the names the FreeBSD headers declare (as seen by SOURCEs).
  audit-ko.py check --decls FILE --keep FILE [--max-frame N] KO...
      audit each KO; exit 1 if any check fails.
"""

import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

CLANG = os.environ.get("CC_KERNEL", "clang-14")
OBJDUMP = os.environ.get("OBJDUMP_KERNEL", "llvm-objdump-14")

# sys/amd64/amd64/elf_machdep.c, elf_reloc_internal(): the types it handles.
# R_X86_64_COPY is named there too, but only to refuse it.
ALLOWED_RELOCS = {
    0: "R_X86_64_NONE",
    1: "R_X86_64_64",
    2: "R_X86_64_PC32",
    4: "R_X86_64_PLT32",
    11: "R_X86_64_32S",
    6: "R_X86_64_GLOB_DAT",
    7: "R_X86_64_JUMP_SLOT",
    8: "R_X86_64_RELATIVE",
    37: "R_X86_64_IRELATIVE",
}
RELOC_NAMES = {
    3: "R_X86_64_GOT32", 5: "R_X86_64_COPY", 9: "R_X86_64_GOTPCREL",
    10: "R_X86_64_32", 12: "R_X86_64_16", 13: "R_X86_64_PC16",
    14: "R_X86_64_8", 15: "R_X86_64_PC8", 16: "R_X86_64_DTPMOD64",
    17: "R_X86_64_DTPOFF64", 18: "R_X86_64_TPOFF64", 19: "R_X86_64_TLSGD",
    20: "R_X86_64_TLSLD", 21: "R_X86_64_DTPOFF32", 22: "R_X86_64_GOTTPOFF",
    23: "R_X86_64_TPOFF32", 24: "R_X86_64_PC64", 25: "R_X86_64_GOTOFF64",
    26: "R_X86_64_GOTPC32", 41: "R_X86_64_GOTPCRELX",
    42: "R_X86_64_REX_GOTPCRELX",
}
RELOC_NAMES.update(ALLOWED_RELOCS)

ELFOSABI_FREEBSD = 9
ET_REL = 1
EM_X86_64 = 62
SHT_SYMTAB, SHT_RELA, SHT_REL, SHT_NOBITS = 2, 4, 9, 8
SHF_EXECINSTR, SHF_TLS = 0x4, 0x400
SHN_UNDEF, SHN_COMMON = 0, 0xFFF2
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_TLS = 6

# x87/MMX/SSE/AVX state: registers by name, plus the instructions that touch
# that state without naming a register.
FPU_REGISTER = re.compile(r"%(x|y|z)mm\d|%mm\d|%st\b|%st\(")
FPU_MNEMONIC = re.compile(
    r"^(f[a-z0-9]+|emms|femms|ldmxcsr|stmxcsr|vldmxcsr|vstmxcsr|"
    r"vzeroupper|vzeroall|xsave\w*|xrstor\w*)$"
)
# A memory operand at a negative displacement from %rsp: "-8(%rsp)", "-0x10(%rsp,...)".
RED_ZONE = re.compile(r"(^|[\s,])-(0x[0-9a-f]+|\d+)\(%rsp[,)]")
# How a function makes its frame: "subq $N, %rsp", once, or a few times
# with a probe store after each page (-Z stack probes, inline); for large
# frames LLVM computes the bottom in %r11 and probes down to it in a loop.
STACK_LOWER = re.compile(r"^subq\s+\$(0x[0-9a-f]+|\d+),\s*%(rsp|r11)$")


class Elf:
    """The parts of an ELF64 little-endian relocatable object the audit needs."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if len(d) < 64 or d[:4] != b"\x7fELF":
            raise ValueError("not an ELF file")
        self.ei_class, self.ei_data, self.osabi = d[4], d[5], d[7]
        if self.ei_class != 2 or self.ei_data != 1:
            # Everything else below assumes ELF64 little-endian.
            self.type = self.machine = None
            self.sections = []
            return
        (self.type, self.machine, _ver, _entry, _phoff, shoff, _flags, _ehsize,
         _phentsize, _phnum, shentsize, shnum, shstrndx) = struct.unpack_from(
             "<HHIQQQIHHHHHH", d, 16)
        self.sections = []
        for i in range(shnum):
            (name, stype, flags, _addr, off, size, link, info, _align,
             entsize) = struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            self.sections.append(dict(index=i, name_off=name, type=stype,
                                      flags=flags, offset=off, size=size,
                                      link=link, info=info, entsize=entsize))
        if self.sections:
            strtab = self.sections[shstrndx]
            for s in self.sections:
                s["name"] = self._str(strtab, s["name_off"])

    def _str(self, strsec, off):
        start = strsec["offset"] + off
        end = self.data.index(b"\0", start)
        return self.data[start:end].decode("utf-8", "replace")

    def symbols(self):
        """Yields (index, name, bind, type, shndx, value) of the symbol table."""
        for s in self.sections:
            if s["type"] != SHT_SYMTAB:
                continue
            strsec = self.sections[s["link"]]
            for i in range(s["size"] // 24):
                name, info, _other, shndx, value, _size = struct.unpack_from(
                    "<IBBHQQ", self.data, s["offset"] + i * 24)
                yield i, self._str(strsec, name), info >> 4, info & 0xF, shndx, value

    def relocations(self):
        """Yields (relocation section name, type number, symbol index)."""
        for s in self.sections:
            if s["type"] == SHT_RELA:
                entsize = 24
            elif s["type"] == SHT_REL:
                entsize = 16
            else:
                continue
            for i in range(s["size"] // entsize):
                _off, info = struct.unpack_from("<QQ", self.data, s["offset"] + i * entsize)
                yield s["name"], info & 0xFFFFFFFF, info >> 32


def disassemble(path):
    """Yields (function, mnemonic, operands) for every instruction."""
    out = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", "--no-leading-addr", path],
                         check=True, capture_output=True, text=True).stdout
    func = "?"
    for line in out.splitlines():
        m = re.match(r"^<(.+)>:$", line)
        if m:
            func = m.group(1)
            continue
        if not line.startswith((" ", "\t")):
            continue
        # Drop objdump's trailing annotations ("# imm = 0x2000", "# 0x10 <sym>").
        text = line.split("#", 1)[0].strip()
        if not text or text.startswith("..."):
            continue
        parts = text.split(None, 1)
        mnemonic = parts[0]
        # Prefixes (lock, rep, data16, ...) come first: take the real mnemonic.
        while mnemonic in ("lock", "rep", "repe", "repne", "repz", "repnz", "data16",
                           "notrack", "rex64") and len(parts) > 1:
            parts = parts[1].split(None, 1)
            mnemonic = parts[0]
        operands = parts[1] if len(parts) > 1 else ""
        yield func, mnemonic, operands


def check(path, declared, keep, max_frame):
    """Returns a list of (check name, problem) for the object at path."""
    problems = []
    elf = Elf(path)

    if elf.ei_class != 2:
        problems.append(("header", f"ELF class {elf.ei_class}, want ELFCLASS64"))
    if elf.ei_data != 1:
        problems.append(("header", "not little-endian"))
    if elf.type != ET_REL:
        problems.append(("header", f"e_type {elf.type}, want ET_REL (1)"))
    if elf.machine != EM_X86_64:
        problems.append(("header", f"e_machine {elf.machine}, want EM_X86_64 (62)"))
    if elf.osabi != ELFOSABI_FREEBSD:
        problems.append(("header", f"OSABI {elf.osabi}, want ELFOSABI_FREEBSD (9)"))
    if problems:
        return problems

    metadata = [s for s in elf.sections if s["name"] == "set_modmetadata_set"]
    if not metadata or metadata[0]["size"] == 0:
        problems.append(("module", "no set_modmetadata_set section: not a kernel module "
                                   "(DECLARE_MODULE/MODULE_VERSION missing)"))

    for s in elf.sections:
        if s["name"] in (".tdata", ".tbss") or s["name"].startswith((".tdata.", ".tbss.")) \
                or s["flags"] & SHF_TLS:
            problems.append(("tls", f"thread-local section {s['name']}"))

    syms = list(elf.symbols())
    sections_by_name = {s["name"] for s in elf.sections}
    for _i, name, bind, stype, shndx, _value in syms:
        if stype == STT_TLS:
            problems.append(("tls", f"thread-local symbol {name}"))
        if shndx == SHN_COMMON:
            problems.append(("common", f"COMMON symbol {name}"))

    sym_names = {i: name for i, name, *_ in syms}
    for relsec, rtype, symidx in elf.relocations():
        if rtype not in ALLOWED_RELOCS:
            rname = RELOC_NAMES.get(rtype, f"type {rtype}")
            problems.append(("relocs", f"{rname} against {sym_names.get(symidx, symidx)!r} in {relsec}"))

    for _i, name, bind, _stype, shndx, _value in syms:
        if bind == STB_LOCAL or not name:
            continue
        if shndx == SHN_UNDEF:
            m = re.match(r"^__(start|stop)_(set_\w+)$", name)
            if m and bind == STB_WEAK and m.group(2) in sections_by_name:
                continue
            if name not in declared:
                problems.append(("undefined", f"{name} is not declared by the FreeBSD headers"))
        elif name not in keep:
            problems.append(("exports", f"{name} is exported but not on the keep list"))

    # Per function, the sum of every constant lowering of %rsp (or of the
    # probe-loop bound in %r11): the frame size, or a little more when the
    # probe loop's own page step is counted too.
    frames = {}
    for func, mnemonic, operands in disassemble(path):
        if FPU_MNEMONIC.match(mnemonic) or FPU_REGISTER.search(operands):
            problems.append(("fpu", f"{func}: {mnemonic} {operands}".rstrip()))
        if RED_ZONE.search(operands):
            problems.append(("redzone", f"{func}: {mnemonic} {operands}"))
        m = STACK_LOWER.match(f"{mnemonic} {operands}")
        if m:
            frames[func] = frames.get(func, 0) + int(m.group(1), 0)
    largest = sorted(((size, func) for func, size in frames.items()), reverse=True)
    for size, func in largest:
        if size > max_frame:
            problems.append(("stack", f"{func} has a stack frame of about {size} bytes (limit {max_frame})"))
    check.largest_frame = largest[0] if largest else (0, "-")
    return problems


def header_decls(ast, header_dirs):
    """Names declared by files under header_dirs as non-inline, non-static
    functions or as extern variables, from clang's JSON AST of one TU.

    The JSON dumper writes a location's "file" only when it differs from the
    previous location it wrote, so the file of a declaration is known only by
    following every location in output order; Python keeps JSON key order.
    """
    names = set()
    current = [None]

    def follow(node):
        if isinstance(node, dict):
            if "offset" in node and "file" in node:
                current[0] = node["file"]
            for value in node.values():
                follow(value)
        elif isinstance(node, list):
            for value in node:
                follow(value)

    roots = tuple(os.path.realpath(d) + os.sep for d in header_dirs)
    for decl in ast.get("inner", []):
        declared_in = None
        for key, value in decl.items():
            follow(value)
            if key == "loc":
                declared_in = current[0]
        kind = decl.get("kind")
        name = decl.get("name")
        if not name or declared_in is None:
            continue
        if not os.path.realpath(declared_in).startswith(roots):
            continue
        storage = decl.get("storageClass")
        if kind == "FunctionDecl" and not decl.get("inline") and storage != "static":
            names.add(name)
        elif kind == "VarDecl" and storage == "extern":
            names.add(name)
    return names


def cmd_decls(args):
    with open(args.cflags) as f:
        cflags = [line.strip() for line in f if line.strip()]
    names = set()
    for src in args.sources:
        with tempfile.TemporaryFile() as out:
            subprocess.run([CLANG, *cflags, "-fsyntax-only", "-Xclang", "-ast-dump=json", src],
                           check=True, stdout=out)
            out.seek(0)
            names |= header_decls(json.load(out), args.header_dir)
    if not names:
        print("audit-ko: no declarations found: wrong --header-dir?", file=sys.stderr)
        return 1
    with open(args.output, "w") as f:
        f.write("".join(n + "\n" for n in sorted(names)))
    print(f"{len(names)} kernel functions and variables declared by the headers of {' '.join(args.sources)}")
    return 0


def read_list(path):
    with open(path) as f:
        return {line.strip() for line in f
                if line.strip() and not line.lstrip().startswith("#")}


def cmd_check(args):
    declared = read_list(args.decls)
    keep = read_list(args.keep)
    failed = 0
    for ko in args.objects:
        problems = check(ko, declared, keep, args.max_frame)
        elf = Elf(ko)
        undefined = sorted(name for _i, name, bind, _t, shndx, _v in elf.symbols()
                           if shndx == SHN_UNDEF and bind != STB_LOCAL and name)
        frame, func = getattr(check, "largest_frame", (0, "-"))
        print(f"{ko}: {os.path.getsize(ko)} bytes, {len(undefined)} undefined symbols, "
              f"largest stack frame {frame} bytes ({func})")
        if args.verbose:
            for name in undefined:
                print(f"  undefined: {name}")
        for name, problem in problems:
            print(f"  FAIL [{name}] {problem}")
        if problems:
            failed += 1
        else:
            print("  ok: header module fpu redzone tls common relocs undefined exports stack")
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decls")
    d.add_argument("--cflags", required=True, help="compile flags, one per line")
    d.add_argument("--header-dir", action="append", required=True)
    d.add_argument("-o", "--output", required=True)
    d.add_argument("sources", nargs="+")
    c = sub.add_parser("check")
    c.add_argument("--decls", required=True)
    c.add_argument("--keep", required=True)
    c.add_argument("--max-frame", type=int, default=4096)
    c.add_argument("-v", "--verbose", action="store_true")
    c.add_argument("objects", nargs="+")
    args = p.parse_args()
    return cmd_decls(args) if args.cmd == "decls" else cmd_check(args)


if __name__ == "__main__":
    sys.exit(main())
