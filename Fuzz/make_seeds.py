#!/usr/bin/env python3
"""Writes the committed seed corpus Fuzz/corpus/TARGET/ from the test fixtures (small, some cut
short on purpose). The record target's seeds are written by the fuzz binary itself, so they
follow the current record schema:
    .build-fuzz/release/inftop-fuzz write-record-seed Fuzz/corpus/record/ticks
    head -c -40 Fuzz/corpus/record/ticks > Fuzz/corpus/record/cut

Usage: python3 Fuzz/make_seeds.py   (from the repository root)
"""
import gzip, json, os, struct, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "InftopEngineTests", "Fixtures")


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)] -> file bytes."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


f32 = lambda *v: struct.pack("<%df" % len(v), *v)
f16 = lambda *v: struct.pack("<%de" % len(v), *v)
one = safetensors([("fc1.weight", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)), ("fc1.bias", "F32", [2], f32(0.5, -0.5))],
                  {"format": "pt"})
put("safetensors", "f32", one)
put("safetensors", "dtypes", safetensors([("h", "F16", [2, 2], f16(1, 2, 3, 4)), ("b", "BF16", [3], b"\x80\x3f\x00\x40\x40\x40"),
                                          ("i", "I8", [4], b"\x01\x02\xff\x80"), ("s", "F32", [], f32(7)),
                                          ("z", "I64", [0], b"")]))
put("safetensors", "cut", one[:len(one) - 5])

tiny = open(os.path.join(fixtures, "tiny_llama.gguf"), "rb").read()
put("gguf", "tiny_llama", tiny)
put("gguf", "tiny_llama_cut", tiny[:6000])


def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


images = idx(0x803, [2, 3, 3], bytes(range(18)))
labels = idx(0x801, [5], bytes([0, 1, 9, 3, 4]))
put("idx", "images", images)
put("idx", "labels", labels)
put("idx", "images.gz", gzip.compress(images, mtime=0))
put("idx", "labels.gz", gzip.compress(labels, mtime=0))
put("idx", "cut.gz", gzip.compress(images * 20, mtime=0)[:40])

vocab = open(os.path.join(fixtures, "minilm_vocab.txt"), encoding="utf-8").read().split("\n")
small = vocab[:110] + vocab[1000:1100] + [v for v in vocab if v.startswith("##")][:60] + ["hello", "world", "un", "##aff", "##able"]
text = "Hello, World! unaffable naïve café 日本語 [CLS] [SEP] don't\tstop\u00a0now"
put("wordpiece", "minilm", "\n".join(small) + "\n\0" + text)
put("wordpiece", "crlf", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\na\r\n##b\r\n\0ab ba")

specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["\u0120", "\u010a", "!", ".", ","]
merges = ["h e", "l l", "l o", "\u0120 t", "\u0120t h", "he ll", "hell o", "\u0120 w", "o r", "\u0120w or"]
tokens = specials + letters + [m.replace(" ", "") for m in merges]
put("bpe", "tiny", "\n".join(tokens) + "\n#merges\n" + "\n".join(merges) + "\n#text\n<|im_start|>hello world, the world!\n<|im_end|>")
put("bpe", "bytes", "a\nb\n\u0120\n#merges\na b\n#text\n\xff\x00 ab ba")

themes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "themes")
for t in sorted(os.listdir(themes)):
    if t.endswith(".theme"):
        put("theme", t[:-6], open(os.path.join(themes, t), "rb").read())
put("theme", "bad", 'theme[main_bg]="#12345"\ntheme[title]=300\n')

put("config", "written", "# inftop.conf\ntheme = \"nord\"\nno_color = false\ninterval = 250\nmodel = cnn\nbatch = 64\n"
    "threads = 2\nbackend = simd\nepochs = 3\nseed = 7\nserve = \"\"\nmetrics = 127.0.0.1:9464\ntrace_steps = 20\n")
put("config", "bad", "colour = red\ninterval = 5\nbatch\nthreads = \"x\"\n")

for name, value in [("shapes", "512x512x512,128x384x384,1x1x1"), ("backends", "reference,simd,blas,int8"),
                    ("numbers", "0,0.5,0.9,1e3"), ("threads", "1,2, 4"), ("layouts", "nn,nt,tn,tt"),
                    ("scenarios", "single,server"), ("switches", "on,off,1,0,true")]:
    put("benchlist", name, value)
