"""DatasetTransform.postprocess and tinyms.vision.postprocess: ranked softmax predictions."""

import re

import numpy as np
import pytest

import tinyms  # noqa: F401  (sets CPU defaults before MindSpore loads)
from tinyms.errors import InvalidArgumentError
from tinyms.vision import Prediction, cifar10_transform, mnist_transform, postprocess


def softmax(values):
    values = np.asarray(values, dtype=np.float64)
    exponentials = np.exp(values - values.max())
    return exponentials / exponentials.sum()


def test_top1_names_the_best_class():
    logits = np.zeros(10, dtype=np.float32)
    logits[7] = 10.0
    results = mnist_transform.postprocess(logits)

    assert len(results) == 1
    best = results[0]
    assert best.label == "7"
    assert best.index == 7
    assert best.score == pytest.approx(softmax(logits)[7], rel=1e-9)


def test_top1_string_form():
    logits = np.zeros(10)
    logits[7] = 10.0
    text = str(mnist_transform.postprocess(logits)[0])

    assert re.fullmatch(r"TOP1: 7, score: \d\.\d{4}", text), text
    assert text == f"TOP1: 7, score: {softmax(logits)[7]:.4f}"


def test_result_is_label_index_score_tuple():
    result = cifar10_transform.postprocess(np.arange(10.0))[0]
    label, index, score = result

    assert isinstance(result, Prediction)
    assert (label, index) == ("truck", 9)
    assert isinstance(index, int)
    assert isinstance(score, float)
    assert result._asdict() == {"label": "truck", "index": 9, "score": score}


def test_top5_sorted_best_first():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=10)
    results = cifar10_transform.postprocess(logits, strategy="TOP5_CLASS")
    expected = np.argsort(-logits)[:5]
    probabilities = softmax(logits)

    assert [result.index for result in results] == expected.tolist()
    assert [result.rank for result in results] == [1, 2, 3, 4, 5]
    assert [result.label for result in results] == [
        cifar10_transform.class_names[i] for i in expected
    ]
    for result in results:
        assert result.score == pytest.approx(probabilities[result.index], rel=1e-9)
    scores = [result.score for result in results]
    assert scores == sorted(scores, reverse=True)
    assert str(results[2]).startswith("TOP3: ")


def test_top5_with_fewer_classes():
    results = postprocess([1.0, 2.0, 3.0], ["a", "b", "c"], strategy="TOP5_CLASS")

    assert [result.label for result in results] == ["c", "b", "a"]
    assert sum(result.score for result in results) == pytest.approx(1.0)


def test_scores_are_softmax_probabilities():
    logits = np.array([2.0, -1.0, 0.5, 0.0, 3.0, 1.0, -2.0, 0.1, 0.2, 0.3])
    results = mnist_transform.postprocess(logits, strategy="TOP5_CLASS")
    full = postprocess(logits, None, "TOP5_CLASS")

    assert results[0].score == pytest.approx(np.exp(3.0) / np.exp(logits).sum())
    assert [r.score for r in results] == [r.score for r in full]


def test_large_logits_stay_finite():
    results = postprocess(np.array([1000.0, 999.0, -1000.0]), None, "TOP5_CLASS")

    assert results[0].score == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert all(np.isfinite(result.score) for result in results)


def test_batch_of_one_and_vector_agree():
    logits = np.random.default_rng(0).normal(size=10).astype(np.float32)

    vector = mnist_transform.postprocess(logits, "TOP5_CLASS")
    batch = mnist_transform.postprocess(logits[None, :], "TOP5_CLASS")

    assert vector == batch


def test_accepts_mindspore_tensor():
    import mindspore

    logits = np.random.default_rng(1).normal(size=(1, 10)).astype(np.float32)
    from_tensor = mnist_transform.postprocess(mindspore.Tensor(logits), "TOP5_CLASS")

    assert from_tensor == mnist_transform.postprocess(logits, "TOP5_CLASS")


def test_unknown_strategy_lists_valid_ones():
    with pytest.raises(InvalidArgumentError) as info:
        mnist_transform.postprocess(np.zeros(10), strategy="TOP3_CLASS")
    message = str(info.value)

    assert "'TOP3_CLASS'" in message
    assert "TOP1_CLASS" in message
    assert "TOP5_CLASS" in message


def test_batch_of_two_rejected():
    with pytest.raises(InvalidArgumentError, match=r"\(2, 10\)"):
        mnist_transform.postprocess(np.zeros((2, 10)))


@pytest.mark.parametrize("logits", [np.zeros(0), np.zeros((1, 1, 10)), [[1.0, np.nan]]])
def test_bad_logits_rejected(logits):
    with pytest.raises(InvalidArgumentError):
        postprocess(logits)


def test_class_count_mismatch_rejected():
    with pytest.raises(InvalidArgumentError, match="3 classes.*10 names"):
        mnist_transform.postprocess(np.zeros(3))


def test_labels_default_to_indices():
    results = postprocess(np.array([0.0, 5.0]), None)

    assert results[0].label == "1"
    assert str(results[0]) == f"TOP1: 1, score: {softmax([0.0, 5.0])[1]:.4f}"


def test_ties_keep_lower_index_first():
    results = postprocess(np.ones(6), None, "TOP5_CLASS")

    assert [result.index for result in results] == [0, 1, 2, 3, 4]
    assert all(result.score == pytest.approx(1 / 6) for result in results)
