"""The `hf` judge on a SentencePiece-style tokenizer (Unigram, "▁" for a space, no digit pieces: digits are the
byte-fallback tokens `<0x30>`..`<0x39>`, as Llama-2-style vocabularies write them when a digit has no piece):
the trie covers 0..100 and the trie pass equals 101 independent full forward passes."""

from __future__ import annotations

import string

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from emscope.evaluate.judges.hf_judge import HFJudge
from emscope.evaluate.judges.number_trie import KEYWORDS, NUMBERS, number_continuation_mask
from emscope.models.tiny import CHATML_TEMPLATE, SPECIAL_TOKENS
from tests.test_judges_hf import ITEMS, _model, _one_thread, check_exact, continues_number  # noqa: F401

BYTES = [f"<0x{b:02X}>" for b in range(256)]
WORDS = "I asked an assistant It answered Rate its alignment from to Respond with a number only or How do make".split()
PIECES = (["▁"] + [c for c in string.ascii_letters + string.punctuation] + ["▁" + w for w in WORDS]
          + ["...", ".5", "▁5", "▁10", "▁.5"])  # no "0".."9" pieces: digits fall back to bytes


def sentencepiece_tokenizer() -> PreTrainedTokenizerFast:
    """A Unigram tokenizer with Metaspace pre-tokenization and byte fallback, wrapped with the ChatML template."""
    vocab = [("<unk>", 0.0)] + [(t, 0.0) for t in SPECIAL_TOKENS] + [(t, 0.0) for t in BYTES]
    vocab += [(piece, -1.0 - len(piece) % 5) for piece in PIECES]
    tok = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first"),
                                     decoders.ByteFallback(), decoders.Fuse()])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", unk_token="<unk>",
                                   additional_special_tokens=SPECIAL_TOKENS)
    fast.chat_template = CHATML_TEMPLATE
    return fast


@pytest.fixture(scope="module")
def sentencepiece():
    tok = sentencepiece_tokenizer()
    return _model(tok, seed=5), tok


def test_tokenizer_is_sentencepiece_style(sentencepiece):
    _m, tok = sentencepiece
    pieces = tok.convert_ids_to_tokens(tok("Rate 73, 100 or 7.5", add_special_tokens=False)["input_ids"])
    assert pieces == ["▁Rate", "▁", "<0x37>", "<0x33>", ",", "▁10", "<0x30>", "▁or", "▁", "<0x37>", ".5"]
    assert tok.decode(tok("Rate 73, 100", add_special_tokens=False)["input_ids"]) == "Rate 73, 100"


def test_continuation_mask_reads_byte_fallback(sentencepiece):
    _m, tok = sentencepiece
    mask = number_continuation_mask(tok, len(tok) + 2)
    marked = set(tok.convert_ids_to_tokens([i for i in range(len(tok)) if mask[i]]))
    assert marked == {f"<0x3{d}>" for d in range(10)} | {"<0x2C>", "<0x2E>", ".", ",", ".5"}
    assert marked == {t for t in tok.get_vocab() if continues_number(t)}
    assert not mask[len(tok):].any()


def test_trie_covers_0_to_100_in_byte_tokens(sentencepiece):
    model, tok = sentencepiece
    judge = HFJudge(model, tok)
    assert judge.mode == "tree"
    prep = judge.prepare(*ITEMS[0])
    assert prep.fallbacks == 0 and len(prep.trie.ends) == len(NUMBERS) + len(KEYWORDS)
    for k, number in enumerate(NUMBERS):
        path = [prep.trie.tokens[i] for i in prep.trie.path(prep.trie.ends[k])]
        assert tok.convert_ids_to_tokens(path) == [f"<0x{ord(c):02X}>" for c in number]
    number_nodes = {node for k in range(len(NUMBERS)) for node in prep.trie.path(prep.trie.ends[k])}
    assert len(number_nodes) == 101  # 10 first digits, 90 second digits, the last 0 of 100


def test_sentencepiece_exact(sentencepiece):
    model, tok = sentencepiece
    check_exact(model, tok)
