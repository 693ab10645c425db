#!/usr/bin/env python3
"""Generates benchmark inputs from the shared corpus (no dependencies).

    gen.py CORPUS OUT

writes, under OUT:
  tree-10k/   10,000 documents in 1,000 files (10 per file)
  tree-20k/   20,000 documents in 2,000 files
  file-25mb.yaml, file-50mb.yaml   one multi-document file each

Every copy of a corpus document gets a unique `metadata.name` (suffix
`-bN`), so relation rules see distinct objects, as in a real monorepo.
Each large input is its small one twice, the second time with the suffix
`-cN` (same length as `-bN`): exactly twice the documents and the bytes,
with the same mix of kinds, so the scaling figures measure doubling alone.
The output is deterministic: same corpus, same bytes.
"""
import os
import re
import sys

DOC_MARKER = re.compile(r"^---(\s|$)")
NAME = re.compile(r"^(\s+)name:\s*(.*?)\s*$")


def corpus_documents(corpus):
    """Non-empty YAML documents of the corpus, in path order (JSON files are skipped)."""
    docs = []
    for root, dirs, files in os.walk(corpus):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                text = fh.read().replace("\r\n", "\n")
            cur = []
            for line in text.split("\n"):
                if DOC_MARKER.match(line):
                    docs.append(cur)
                    cur = []
                else:
                    cur.append(line)
            docs.append(cur)
    return [d for d in docs if any(l.startswith(("apiVersion:", "kind:")) for l in d)]


def name_line(doc):
    """Index of the `name:` line directly under a top-level `metadata:`."""
    for i, line in enumerate(doc):
        if line.rstrip() == "metadata:":
            for j in range(i + 1, len(doc)):
                l = doc[j]
                if not l.strip() or l.lstrip().startswith("#"):
                    continue
                if not l.startswith((" ", "-")):
                    return None
                m = NAME.match(l)
                if m and len(m.group(1)) == len(l) - len(l.lstrip()):
                    # Only the first-level child indentation counts.
                    first = next(
                        x for x in doc[i + 1 :] if x.strip() and not x.lstrip().startswith("#")
                    )
                    if len(first) - len(first.lstrip()) == len(m.group(1)):
                        return j
            return None
    return None


def renamed(doc, idx, suffix):
    if idx is None:
        return doc
    m = NAME.match(doc[idx])
    indent, value = m.group(1), m.group(2)
    if value[:1] in "\"'" and len(value) >= 2 and value[-1] == value[0]:
        value = value[0] + value[1:-1] + suffix + value[0]
    elif value == "" or value.startswith(("{", "[", "&", "*", "|", ">")):
        return doc
    else:
        value = value + suffix
    out = list(doc)
    out[idx] = f"{indent}name: {value}"
    return out


def copies(docs, letter):
    """Endless stream of renamed document texts (suffix `-{letter}N`)."""
    idx = [name_line(d) for d in docs]
    n = 0
    while True:
        for d, i in zip(docs, idx):
            yield "\n".join(renamed(d, i, f"-{letter}{n}")).strip("\n") + "\n"
        n += 1


def doubled(docs, count):
    """The first `count` copies, then the same documents again renamed `-cN`."""
    b, c = copies(docs, "b"), copies(docs, "c")
    return [next(b) for _ in range(count)] + [next(c) for _ in range(count)]


def write_tree(texts, out, per_file=10):
    os.makedirs(out, exist_ok=True)
    for f in range(0, len(texts), per_file):
        n = f // per_file
        d = os.path.join(out, f"d{n // 100:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{n:05d}.yaml"), "w", encoding="utf-8") as fh:
            fh.write("---\n".join(texts[f : f + per_file]))


def write_file(texts, path):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("".join("---\n" + t for t in texts))


def fill(docs, size):
    """How many copies (with their `---` lines) it takes to reach `size` bytes."""
    written, n = 0, 0
    for t in copies(docs, "b"):
        if written >= size:
            return n
        written += len(("---\n" + t).encode("utf-8"))
        n += 1


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    docs = corpus_documents(corpus)
    if not docs:
        sys.exit(f"no Kubernetes documents under {corpus!r}: set KREADY_CORPUS")
    os.makedirs(out, exist_ok=True)
    tree = doubled(docs, 10_000)
    write_tree(tree[:10_000], os.path.join(out, "tree-10k"))
    write_tree(tree, os.path.join(out, "tree-20k"))
    file = doubled(docs, fill(docs, 25_000_000))
    write_file(file[: len(file) // 2], os.path.join(out, "file-25mb.yaml"))
    write_file(file, os.path.join(out, "file-50mb.yaml"))
    print(f"generated from {len(docs)} corpus documents into {out}")


if __name__ == "__main__":
    main()
