#!/usr/bin/env python3
"""Write a capture of randomly damaged copies of the pfsync frames in another.

usage: mutate-pcap.py IN.pcap OUT.pcap COUNT SEED [VERSION]

IN must be a little-endian microsecond pcap of raw IPv4 packets (what
`pfsyncdump --synth ... --write-link raw` writes). Each output packet keeps
the IPv4 header of an input packet and damages its pfsync frame: random bytes
overwritten, and most of the time the header version and length restored so
the damage reaches the sections. With VERSION (5 or 6) only input frames of
that header version are used. Deterministic for a given SEED.
"""

import random
import struct
import sys

src, dst, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
version = int(sys.argv[5]) if len(sys.argv) > 5 else None

data = open(src, "rb").read()
header, at, packets = data[:24], 24, []
while at + 16 <= len(data):
    length = struct.unpack("<I", data[at + 8:at + 12])[0]
    packet = data[at + 16:at + 16 + length]
    at += 16 + length
    # IPv4, protocol 240, a whole pfsync header present.
    if len(packet) >= 40 and packet[0] >> 4 == 4 and packet[9] == 240:
        if version is None or packet[20] == version:
            packets.append(packet)
if not packets:
    sys.exit("no pfsync frames to mutate in " + src)

rng = random.Random(seed)
out = bytearray(header)
for i in range(count):
    original = packets[i % len(packets)]
    frame = bytearray(original[20:])
    for _ in range(rng.randint(1, 6)):
        frame[rng.randrange(len(frame))] = rng.randrange(256)
    if rng.random() < 0.8:
        frame[0] = original[20]
    if rng.random() < 0.6:
        frame[2:4] = original[22:24]
    packet = original[:20] + bytes(frame)
    out += struct.pack("<IIII", 1_000 + i, 0, len(packet), len(packet)) + packet
open(dst, "wb").write(out)
