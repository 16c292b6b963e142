#!/usr/bin/env python3
"""Writes tokenizer_cases.json: edge-case texts and the token ids Hugging Face gives them with the
all-MiniLM-L6-v2 vocab.txt (uncased). `slow` = transformers' pure-Python BertTokenizer
(BertTokenizerLegacy in transformers 5), the semantics WordPieceTokenizer follows; `fast` = the
tokenizers-backed BertTokenizer (differences are recorded, not tested).
Usage: /tmp/inftop-peers-venv/bin/python make_tokenizer_cases.py MODEL_DIR > tokenizer_cases.json
"""
import json
import sys

from transformers import BertTokenizer
from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

CASES = [
    "", "   ", "\t\n\r", "Hello, World!", "café naïve résumé Ångström", "Crème brûlée à la carte",
    "ΣΑΣ ΟΔΟΣ Σ", "İstanbul", "straße STRASSE", "你好世界", "日本語のテキストです", "한국어 텍스트",
    "abc中文def", "a" * 100, "a" * 101, "supercalifragilisticexpialidocious unaffable",
    "hello\u0000world", "zero\u200bwidth", "soft\u00adhyphen", "tab\there", "line\u2028sep\u2029para",
    "emoji 😀 🚀 done", "$100 ^caret `tick` ~tilde |pipe", "«guillemets» „quotes“ — dash … ellipsis",
    "e\u0301 composed vs \u00e9", "[CLS] hello [SEP] world [MASK]", "[cls] lowercase special",
    "hello[SEP]world", "x\ufffdy", "3.14159 1,000,000", "don't U.S.A.", "مرحبا بالعالم",
    "नमस्ते दुनिया", "สวัสดีครับ", "ﬁ ligature ＡＢＣ fullwidth", "\ue000private", "a\u0378b",
    "\u3000ideographic\u00a0nbsp", "mixed-CASE_Words with_underscores", "#hashtag @mention http://x.org/a?b=c",
    "x" * 30 + "." + "y" * 30, "ǅ ǆ Ǆ", "Ⅻ ⓐ", "Ωmega ὈΔΥΣΣΕΎΣ",
]
LONG = " ".join(["The quick brown fox jumps over the lazy dog."] * 60)


def main():
    d = sys.argv[1]
    slow = BertTokenizerLegacy(d + "/vocab.txt", do_lower_case=True)
    fast = BertTokenizer.from_pretrained(d)
    out = {"vocab": "all-MiniLM-L6-v2 vocab.txt", "generator": "make_tokenizer_cases.py", "cases": []}
    for t in CASES:
        s = slow.encode(t, add_special_tokens=True)
        f = fast.encode(t, add_special_tokens=True)
        out["cases"].append({"text": t, "ids": s, "fast_ids_differ": s != f})
    out["long"] = {"text": LONG, "max_length": 256,
                   "ids": slow.encode(LONG, add_special_tokens=True, truncation=True, max_length=256),
                   "untruncated_count": len(slow.encode(LONG, add_special_tokens=True))}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
