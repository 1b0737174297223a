"""Every malformed input gets a one-line error naming the file and line, never a crash or a wrong result."""

import pytest

from workbench.data import readers, tasks
from workbench.errors import WorkbenchError


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(WorkbenchError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_tsv_classification_roundtrip(tmp_path):
    path = write(tmp_path, "a.tsv", "sentence\tlabel\n" + "A Good film\t1\nbad -lrb- very -rrb-\t0\n" * 20)
    task = tasks.resolve_task(f"tsv:{path}", text_col="sentence", label_col="label")
    assert task.kind == "classification" and task.labels == ["0", "1"]
    assert sum(len(v) for v in task.splits.values()) == 40
    assert set(task.splits) == {"train", "dev", "test"}
    assert ("a", "good", "film") in {
        ex.tokens for ex in task.splits["train"] + task.splits["dev"] + task.splits["test"]
    }
    assert ("bad", "(", "very", ")") in {ex.tokens for v in task.splits.values() for ex in v}


def test_missing_column_names_file_and_columns(tmp_path):
    path = write(tmp_path, "a.tsv", "sentence\tlabel\nfine\t1\n")
    message = error_of(tasks.resolve_task, f"tsv:{path}", text_col="text", label_col="label")
    assert "a.tsv:1" in message and "'text'" in message and "--text-col" in message


def test_unknown_label_names_line(tmp_path):
    (tmp_path / "d").mkdir()
    write(tmp_path, "d/train.csv", "text,label\nok,pos\nbad,neg\n")
    write(tmp_path, "d/test.csv", "text,label\nok,pos\nmeh,neutral\n")
    message = error_of(tasks.resolve_task, f"csv:{tmp_path / 'd'}")
    assert "test.csv:3" in message and "'neutral'" in message


def test_non_numeric_label_with_declared_labels(tmp_path):
    path = write(tmp_path, "a.jsonl", '{"text": "ok", "label": 1}\n{"text": "hm", "label": "one"}\n')
    message = error_of(tasks.resolve_task, f"jsonl:{path}", labels=("0", "1"))
    assert "a.jsonl:2" in message and "'one'" in message


def test_jsonl_line_missing_a_field_names_the_line(tmp_path):
    path = write(tmp_path, "a.jsonl", '{"text": "ok", "label": 1}\n{"text": "hm", "label": 0}\n{"text": "no label"}\n')
    message = error_of(tasks.resolve_task, f"jsonl:{path}")
    assert "a.jsonl:3" in message and "'label'" in message and "fix this line" in message and "--label-col" in message


def test_ragged_tsv_row(tmp_path):
    path = write(tmp_path, "a.tsv", "sentence\tlabel\nfine\t1\nno tab here\n")
    assert "a.tsv:3" in error_of(tasks.resolve_task, f"tsv:{path}", text_col="sentence")


def test_invalid_utf8_names_line(tmp_path):
    path = write(tmp_path, "latin.txt", b"good line\ncaf\xe9 au lait\n")
    message = error_of(readers.read_corpus_lines, path)
    assert "latin.txt:2" in message and "UTF-8" in message and "iconv" in message


def test_empty_file_and_directory(tmp_path):
    empty = write(tmp_path, "empty.txt", "")
    assert "empty" in error_of(readers.read_corpus_lines, empty)
    assert "is a directory" in error_of(readers.read_corpus_lines, tmp_path)
    assert "no such file" in error_of(readers.read_corpus_lines, tmp_path / "missing.txt")


def test_ragged_conll_rows(tmp_path):
    path = write(tmp_path, "chunks.txt", "The DT B-NP\ncat NN I-NP\nsat VBD\n\n")
    assert "chunks.txt:3" in error_of(readers.read_conll, path, tag_col=2)


def test_conllu_skips_ranges_and_empty_nodes(tmp_path):
    rows = [
        "# text = don't go",
        "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_",
        "1\tdo\tdo\tAUX\t_\t_\t0\troot\t_\t_",
        "2\tn't\tnot\tPART\t_\t_\t1\tadvmod\t_\t_",
        "2.1\tx\tx\tX\t_\t_\t_\t_\t_\t_",
        "3\tGo\tgo\tVERB\t_\t_\t1\tx\t_\t_",
        "",
    ]
    path = write(tmp_path, "a.conllu", "\n".join(rows) + "\n")
    [(tokens, tags, line)] = readers.read_conll(path, tag_col=3, word_col=1, conllu=True)
    assert tokens == ["do", "n't", "go"] and tags == ["AUX", "PART", "VERB"] and line == 3


def test_conllu_wrong_width(tmp_path):
    path = write(tmp_path, "a.conllu", "1\tdo\tdo\tAUX\n\n")
    assert "a.conllu:1" in error_of(readers.read_conll, path, tag_col=3, word_col=1, conllu=True)


def test_squad_spans(tmp_path):
    import json

    doc = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "Mary lives in Paris, near the river.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Where does Mary live?",
                                "answers": [{"text": "Paris", "answer_start": 14}],
                            }
                        ],
                    }
                ]
            }
        ]
    }
    path = write(tmp_path, "qa.json", json.dumps(doc))
    [(words, question, (start, end))] = readers.read_squad(path)
    assert words[start : end + 1] == ["paris"] and question[-1] == "?"
    doc["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 3
    write(tmp_path, "bad.json", json.dumps(doc))
    assert "answer_start" in error_of(readers.read_squad, tmp_path / "bad.json")
    write(tmp_path, "broken.json", '{"data": [\n')
    assert "broken.json:" in error_of(readers.read_squad, tmp_path / "broken.json")


def test_unknown_task_and_corpus_names():
    assert "micro-sentiment" in error_of(tasks.resolve_task, "no-such-task")
    assert "microworld" in error_of(tasks.resolve_corpus, "no-such-corpus")
    assert "microworld:TOKENS" in error_of(tasks.resolve_corpus, "microworld:lots")


def test_normalize_policy():
    assert readers.normalize(["The", "@-@", "-LRB-", "Don't"]) == ["the", "-", "(", "don't"]


def test_too_few_rows_to_split_says_why(tmp_path):
    """One row cannot be split 80/10/10: the error says so and how to fix it, not a train split of 0 examples."""
    path = write(tmp_path, "one.tsv", "text\tlabel\ngood film\tpos\n")
    message = error_of(tasks.resolve_task, f"tsv:{path}")
    assert "one.tsv: too few rows to split 80/10/10" in message and "(1 example, at least 3 needed)" in message
    assert "give a folder with train.tsv, dev.tsv, test.tsv" in message
    (tmp_path / "d").mkdir()
    write(tmp_path, "d/train.csv", "text,label\ngood,pos\n")
    write(tmp_path, "d/test.csv", "text,label\nfine,pos\n")
    assert f"add dev.csv to {tmp_path / 'd'}" in error_of(tasks.resolve_task, f"csv:{tmp_path / 'd'}")
    three = write(tmp_path, "three.tsv", "text\tlabel\ngood\tpos\nbad\tneg\nfine\tpos\n")
    assert [len(tasks.resolve_task(f"tsv:{three}").splits[s]) for s in ("train", "dev", "test")] == [1, 1, 1]
