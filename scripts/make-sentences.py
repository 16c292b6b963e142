#!/usr/bin/env python3
"""Writes Sources/InftopWorkloads/Resources/sentences.txt: the English sentences the dashboard
serves to a text encoder, one per line, split from the fortune cookie files of Debian's
`fortunes` package (fortune-mod, BSD licence; see Resources/SENTENCES-SOURCE.md).

Usage: apt-get install fortunes && python3 scripts/make-sentences.py
Deterministic: the same package version gives the same file (sorted input, no randomness).
"""
import os, re, sys

SRC = "/usr/share/games/fortunes"
FILES = ["fortunes", "literature", "wisdom", "science", "people", "work", "computers", "education",
         "food", "love", "pets", "platitudes", "politics", "riddles", "sports", "zippy", "miscellaneous",
         "law", "linux", "magic", "medicine", "news", "goedel", "humorists", "kids",
         "songs-poems", "startrek", "translate-me", "cookie", "definitions", "art"]
OUT = os.path.join(os.path.dirname(__file__), "..", "Sources", "InftopWorkloads", "Resources", "sentences.txt")
WANT = 2400

def sentences(text):
    text = re.sub(r"\s+", " ", text).strip()
    for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text):
        yield s.strip()

def keep(s):
    words = s.split()
    if not (5 <= len(words) <= 40): return False
    if not s[0].isupper() or s[-1] not in ".!?": return False
    if not all(32 <= ord(c) < 127 for c in s): return False
    if re.search(r"--|\t|_{2,}|[<>{}\[\]|\\#@*=~^]|https?:|\b[A-Z]{5,}\b|Q:|A:", s): return False
    return True

seen, out = set(), []
for name in FILES:
    path = os.path.join(SRC, name)
    if not os.path.exists(path):
        continue
    with open(path, encoding="latin-1") as f:
        entries = f.read().split("\n%\n")
    for e in entries:
        body = "\n".join(l for l in e.splitlines() if not l.strip().startswith("--"))
        for s in sentences(body):
            if keep(s) and s.lower() not in seen:
                seen.add(s.lower())
                out.append(s)
if len(out) < 2000:
    sys.exit(f"make-sentences: only {len(out)} sentences from {SRC}; is the fortunes package installed?")
out = out[:WANT]
tmp = OUT + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(out) + "\n")
os.replace(tmp, OUT)
print(f"{len(out)} sentences -> {OUT}")
