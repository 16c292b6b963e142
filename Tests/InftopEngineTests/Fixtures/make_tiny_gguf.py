#!/usr/bin/env python3
"""Writes tiny_llama.gguf: a 2-layer llama-architecture decoder (hidden 64, 4 heads / 2 KV heads,
ffn 96, vocab 64, context 64) with seeded random weights in every tensor type inftop runs (Q4_0,
Q4_1, Q8_0, F16, F32) and a small byte-level BPE vocabulary, for the GGUF reader and decoder
tests. The bytes are written here by hand (GGUF v3, little-endian, alignment 32), no gguf package.

Usage: python3 make_tiny_gguf.py [out.gguf]
"""
import random, struct, sys

rng = random.Random(1234)
ALIGN = 32
F32, F16, Q4_0, Q4_1, Q8_0 = 0, 1, 2, 3, 8


def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return s(key) + struct.pack("<I", vtype) + payload


def u32(key, v): return kv(key, 4, struct.pack("<I", v))
def f32(key, v): return kv(key, 6, struct.pack("<f", v))
def st(key, v): return kv(key, 8, s(v))
def bl(key, v): return kv(key, 7, struct.pack("<B", 1 if v else 0))
def arr_s(key, vs): return kv(key, 9, struct.pack("<IQ", 8, len(vs)) + b"".join(s(v) for v in vs))
def arr_i(key, vs): return kv(key, 9, struct.pack("<IQ", 5, len(vs)) + b"".join(struct.pack("<i", v) for v in vs))


def half(x): return struct.pack("<e", x)


def tensor_bytes(ttype, rows, cols, scale):
    out = bytearray()
    for _ in range(rows):
        if ttype == F32:
            out += b"".join(struct.pack("<f", rng.uniform(-scale, scale)) for _ in range(cols))
        elif ttype == F16:
            out += b"".join(half(rng.uniform(-scale, scale)) for _ in range(cols))
        else:
            for _ in range(cols // 32):
                if ttype == Q4_0:
                    out += half(scale / 8 * rng.uniform(0.5, 1.0)) + bytes(rng.randrange(256) for _ in range(16))
                elif ttype == Q4_1:
                    out += half(scale / 8 * rng.uniform(0.5, 1.0)) + half(-scale * rng.uniform(0.5, 1.0)) + bytes(rng.randrange(256) for _ in range(16))
                else:
                    out += half(scale / 127 * rng.uniform(0.5, 1.0)) + bytes(rng.randrange(256) for _ in range(32))
    return bytes(out)


def main(path):
    H, F, L, NH, NKV, V, CTX = 64, 96, 2, 4, 2, 64, 64
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["\u0120", "\u010a", "!", ".", ","]
    merges = ["h e", "l l", "l o", "\u0120 t", "\u0120t h", "he ll", "hell o", "\u0120 w", "o r", "\u0120w or"]
    merged = [m.replace(" ", "") for m in merges]
    tokens = specials + letters + merged
    tokens += [f"<extra_{i}>" for i in range(V - len(tokens))]
    types = [3] * len(specials) + [1] * (len(letters) + len(merged)) + [4] * (V - len(specials) - len(letters) - len(merged))
    template = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                "{{ '<|im_start|>system\nYou are tiny.<|im_end|>\n' }}{% endif %}"
                "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
                "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
    meta = [
        st("general.architecture", "llama"), st("general.name", "tiny-llama-test"),
        u32("llama.block_count", L), u32("llama.context_length", CTX), u32("llama.embedding_length", H),
        u32("llama.feed_forward_length", F), u32("llama.attention.head_count", NH), u32("llama.attention.head_count_kv", NKV),
        f32("llama.rope.freq_base", 10000.0), f32("llama.attention.layer_norm_rms_epsilon", 1e-5),
        u32("llama.vocab_size", V), u32("llama.rope.dimension_count", H // NH),
        st("tokenizer.ggml.model", "gpt2"), st("tokenizer.ggml.pre", "smollm"),
        arr_s("tokenizer.ggml.tokens", tokens), arr_i("tokenizer.ggml.token_type", types), arr_s("tokenizer.ggml.merges", merges),
        u32("tokenizer.ggml.bos_token_id", 1), u32("tokenizer.ggml.eos_token_id", 2), bl("tokenizer.ggml.add_bos_token", False),
        st("tokenizer.chat_template", template), u32("general.alignment", ALIGN),
    ]
    kvd = H // NH * NKV
    tensors = [("token_embd.weight", Q8_0, V, H, 1.0)]
    for i in range(L):
        p = f"blk.{i}."
        q_type, d_type = (Q4_1, F32) if i == 0 else (Q8_0, F16)
        tensors += [
            (p + "attn_norm.weight", F32, 1, H, 1.0), (p + "attn_q.weight", q_type, H, H, 0.3),
            (p + "attn_k.weight", Q4_0, kvd, H, 0.3), (p + "attn_v.weight", Q8_0, kvd, H, 0.3),
            (p + "attn_output.weight", F16, H, H, 0.2), (p + "ffn_norm.weight", F32, 1, H, 1.0),
            (p + "ffn_gate.weight", Q4_1, F, H, 0.3), (p + "ffn_up.weight", Q4_0, F, H, 0.3),
            (p + "ffn_down.weight", d_type, H, F, 0.2),
        ]
    tensors += [("output_norm.weight", F32, 1, H, 1.0)]
    datas, infos, off = [], b"", 0
    for name, t, rows, cols, scale in tensors:
        data = tensor_bytes(t, rows, cols, scale)
        if name.endswith("norm.weight"):
            data = b"".join(struct.pack("<f", rng.uniform(0.8, 1.2)) for _ in range(cols))
        dims = [cols] if rows == 1 else [cols, rows]
        infos += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", t, off)
        pad = (-len(data)) % ALIGN
        datas.append(data + b"\0" * pad)
        off += len(data) + pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + b"".join(meta) + infos
    head += b"\0" * ((-len(head)) % ALIGN)
    with open(path, "wb") as f:
        f.write(head + b"".join(datas))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tiny_llama.gguf")
