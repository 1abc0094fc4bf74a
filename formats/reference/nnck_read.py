#!/usr/bin/env python3
"""Reference reader for .nnck v1 checkpoints, written from formats/nnck-v1.md alone.

Standard library only (struct, json, zlib). It checks what the spec says a reader must check and
prints either a tensor listing or one tensor's values as CSV, exactly as `nninspect --tensor` does.

Usage:
    nnck_read.py FILE                 list format version, model summary and tensors
    nnck_read.py FILE --tensor NAME   values one row per line, CSV (%.9g for f32, %.17g for f64)
    nnck_read.py FILE --manifest      the manifest JSON, pretty-printed
    nnck_read.py FILE --all-tensors   every tensor as "== NAME" followed by its CSV
Exit status 0 on success, 1 with a message on stderr when the file breaks a rule.
"""
import json
import struct
import sys
import zlib

MAGIC = b"\x89NNCK\r\n\x1a"
SUPPORTED_MAJOR = 1
DTYPES = {"f32": ("<f", 4), "f64": ("<d", 8)}
CODECS = ("raw", "deflate", "shuffle+deflate")


class FormatError(Exception):
    pass


def align64(n):
    return (n + 63) // 64 * 64


def reject_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise FormatError(f"manifest: duplicate key {key!r}")
        obj[key] = value
    return obj


def reject_constant(name):
    raise FormatError(f"manifest: non-finite number {name}")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**53


def read_checkpoint(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 32:
        raise FormatError(f"{path}: truncated header ({len(data)} bytes)")
    if data[:8] != MAGIC:
        raise FormatError(f"{path}: bad magic {data[:8].hex()}")
    major, minor, flags, manifest_length, manifest_crc, header_crc = struct.unpack("<HHIQII", data[8:32])
    if zlib.crc32(data[:28]) != header_crc:
        raise FormatError(f"{path}: header CRC mismatch")
    if major != SUPPORTED_MAJOR:
        raise FormatError(f"{path}: unsupported major version {major}, this reader supports {SUPPORTED_MAJOR}")
    if flags != 0:
        raise FormatError(f"{path}: reserved flags {flags:#x}")
    manifest_end = 32 + manifest_length
    if manifest_end > len(data):
        raise FormatError(f"{path}: manifest length {manifest_length} past end of file")
    raw_manifest = data[32:manifest_end]
    if zlib.crc32(raw_manifest) != manifest_crc:
        raise FormatError(f"{path}: manifest CRC mismatch")
    manifest = json.loads(raw_manifest.decode("utf-8"), object_pairs_hook=reject_duplicates,
                          parse_constant=reject_constant)
    if manifest.get("format") != "nnck":
        raise FormatError(f"{path}: format is {manifest.get('format')!r}, expected 'nnck'")
    version = manifest["format_version"]
    if (version["major"], version["minor"]) != (major, minor):
        raise FormatError(f"{path}: manifest format_version differs from the header")

    tensors = {}
    position = manifest_end
    for entry in manifest["tensors"]:
        name = entry["name"]
        if name in tensors:
            raise FormatError(f"{path}: duplicate tensor {name!r}")
        if entry["dtype"] == "f16":
            raise FormatError(f"{path}: tensor {name!r}: dtype f16 is reserved, not supported")
        fmt, size = DTYPES[entry["dtype"]]
        count = 1
        for d in entry["shape"]:
            if not is_int(d):
                raise FormatError(f"{path}: tensor {name!r}: bad shape {entry['shape']}")
            count *= d
        raw_length, stored_length, offset = entry["raw_length"], entry["stored_length"], entry["offset"]
        if raw_length != count * size:
            raise FormatError(f"{path}: tensor {name!r}: raw_length {raw_length} != {count} x {size}")
        if offset != align64(position):
            raise FormatError(f"{path}: tensor {name!r}: offset {offset}, expected {align64(position)}")
        if any(data[position:offset]):
            raise FormatError(f"{path}: non-zero padding before tensor {name!r}")
        end = offset + stored_length
        if end > len(data):
            raise FormatError(f"{path}: tensor {name!r} block past end of file")
        block = data[offset:end]
        codec = entry["codec"]
        if codec == "raw":
            if stored_length != raw_length or "chunks" in entry:
                raise FormatError(f"{path}: tensor {name!r}: bad raw entry")
            raw = block
        elif codec in CODECS:
            chunk_size = entry["chunk_size"]
            if chunk_size < 1 or chunk_size % size:
                raise FormatError(f"{path}: tensor {name!r}: bad chunk_size {chunk_size}")
            n_chunks = -(-raw_length // chunk_size)
            if len(entry["chunks"]) != n_chunks:
                raise FormatError(f"{path}: tensor {name!r}: {len(entry['chunks'])} chunks, expected {n_chunks}")
            if sum(c["stored_length"] for c in entry["chunks"]) != stored_length:
                raise FormatError(f"{path}: tensor {name!r}: chunk lengths do not add up")
            pieces, at = [], 0
            for i, chunk in enumerate(entry["chunks"]):
                stored = block[at:at + chunk["stored_length"]]
                at += chunk["stored_length"]
                if zlib.crc32(stored) != chunk["crc32"]:
                    raise FormatError(f"{path}: tensor {name!r} chunk {i}: CRC mismatch")
                want = min(chunk_size, raw_length - i * chunk_size)
                if want > 1032 * len(stored) + 1032:
                    raise FormatError(f"{path}: tensor {name!r} chunk {i}: implausible compression ratio")
                inflater = zlib.decompressobj(-15)
                piece = inflater.decompress(stored, want)
                if len(piece) != want or not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
                    raise FormatError(f"{path}: tensor {name!r} chunk {i}: does not inflate to exactly {want} bytes")
                if codec == "shuffle+deflate":
                    n = want // size
                    unshuffled = bytearray(want)
                    for j in range(size):  # plane j holds byte j of every element
                        unshuffled[j::size] = piece[j * n:(j + 1) * n]
                    piece = bytes(unshuffled)
                pieces.append(piece)
            raw = b"".join(pieces)
        else:
            raise FormatError(f"{path}: tensor {name!r}: unknown codec {codec!r}")
        if zlib.crc32(raw) != entry["crc32"]:
            raise FormatError(f"{path}: tensor {name!r}: CRC mismatch")
        values = struct.unpack(f"<{count}{fmt[1]}", raw)
        tensors[name] = (entry, values)
        position = end
    if len(data) != position:
        raise FormatError(f"{path}: {len(data) - position} bytes after the last block")
    return (major, minor), manifest, tensors


def tensor_csv(entry, values):
    fmt = "%.9g" if entry["dtype"] == "f32" else "%.17g"
    shape = entry["shape"]
    if len(shape) == 0:
        rows, cols = 1, 1
    elif len(shape) == 1:
        rows, cols = 1, shape[0]
    else:
        rows, cols = shape[0], 1
        for d in shape[1:]:
            cols *= d
    lines = []
    for r in range(rows):
        lines.append(",".join(fmt % values[r * cols + c] for c in range(cols)) + "\n")
    return "".join(lines)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    try:
        version, manifest, tensors = read_checkpoint(path)
    except (FormatError, KeyError, TypeError, ValueError, zlib.error, struct.error) as error:
        print(f"nnck_read: {path}: {error}", file=sys.stderr)
        return 1
    if len(argv) >= 4 and argv[2] == "--tensor":
        if argv[3] not in tensors:
            print(f"nnck_read: {path}: no tensor {argv[3]!r}", file=sys.stderr)
            return 1
        sys.stdout.write(tensor_csv(*tensors[argv[3]]))
    elif len(argv) >= 3 and argv[2] == "--all-tensors":
        for name, (entry, values) in tensors.items():
            sys.stdout.write(f"== {name}\n" + tensor_csv(entry, values))
    elif len(argv) >= 3 and argv[2] == "--manifest":
        print(json.dumps(manifest, indent=2))
    else:
        model = manifest["model"]
        print(f"format {version[0]}.{version[1]}, written by {manifest['writer']['name']} {manifest['writer']['version']}")
        print(f"inputs: {', '.join(model['input']['features'])} ({model['input']['normalization']['kind']})")
        print("layers: " + ", ".join(layer["kind"] for layer in model["layers"]))
        print(f"output: {json.dumps(model['output'])}")
        for name, (entry, _) in tensors.items():
            print(f"{name}\t{entry['dtype']}\t{entry['shape']}\t{entry['codec']}\t{entry['stored_length']}\t{entry['raw_length']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
