from datetime import date

import pytest

from phoenix_dagster.cli.commands import main
from phoenix_dagster.evaluation.llm_extraction import load_examples, rules_predictions, score

pytestmark = pytest.mark.unit


def test_scoring_counts_right_wrong_and_missing_answers():
    examples = [
        {"id": "a", "facts": {"BedroomsTotal": 3, "LivingArea": 1000}},
        {"id": "b", "facts": {"BedroomsTotal": 2}},
    ]
    predictions = {"a": {"BedroomsTotal": 3, "LivingArea": 1005, "YearBuilt": 1970}, "b": {"BedroomsTotal": 4}}
    table = {row["field"]: row for row in score(examples, predictions).iter_rows(named=True)}
    assert table["BedroomsTotal"] | {} == {
        "field": "BedroomsTotal",
        "stated": 2,
        "answered": 2,
        "correct": 1,
        "precision": 0.5,
        "recall": 0.5,
    }
    assert table["LivingArea"]["correct"] == 1  # within 1%
    assert table["YearBuilt"]["precision"] == 0.0 and table["YearBuilt"]["recall"] is None  # stated nowhere


def test_the_labelled_set_covers_the_tricky_phrasings_and_the_rules_read_them():
    examples = {e["id"]: e for e in load_examples()}
    texts = " ".join(e["text"] for e in examples.values())
    for phrase in ("bed + den", "2.5 bath", "No HOA", "pool-sized lot", "Built in 1978, remodeled 2019"):
        assert phrase in texts
    predictions = rules_predictions(list(examples.values()), date(2026, 11, 28))
    den = next(k for k, e in examples.items() if "bed + den" in e["text"])
    assert predictions[den]["BedroomsTotal"] == 3


def test_the_command_prints_per_field_scores(capsys):
    assert main(["eval-extractor"]) == 0
    out = capsys.readouterr().out
    assert "rules extractor on 26 labelled descriptions" in out and "overall: precision" in out
