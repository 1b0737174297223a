"""Each corpus's default vocabulary size comes from one place: its registry entry (imdb: 60,000), else 30,000."""

from workbench.data import registry, vocab
from workbench.data.vocab import DEFAULT_VOCAB_SIZE, build_vocab, vocab_size_for


def test_vocab_size_per_corpus():
    assert vocab_size_for("imdb") == registry.DATASETS["imdb"].extra["vocab_size"] == 60_000
    for name in ("wikitext2", "microworld", "microworld:20000", "text:reviews.txt"):
        assert vocab_size_for(name) == DEFAULT_VOCAB_SIZE == 30_000


def test_build_vocab_uses_the_corpus_size(monkeypatch):
    documents = [[f"w{i}" for i in range(40)] * 2]
    monkeypatch.setattr(vocab, "resolve_corpus", lambda name: type("C", (), {"documents": documents})())
    monkeypatch.setattr(vocab, "vocab_size_for", lambda name: {"big": 45, "small": 10}[name])
    assert len(build_vocab("big")) == 45 and len(build_vocab("small")) == 10
    assert len(build_vocab("small", max_size=20)) == 20
