"""Connected components by star contraction + certified union-find equal plain union-find."""

import random

import pytest

from dedupe import components as C


def _graphs():
    rnd = random.Random(11)
    for trial in range(60):
        n = rnd.randint(2, 200)
        names = [f"{rnd.random():.12f}" for _ in range(n)]
        if trial % 3 == 0:  # a path in random order: the worst case for label propagation
            yield [(names[i], names[i + 1]) for i in range(n - 1)]
        elif trial % 3 == 1:
            yield [(rnd.choice(names), rnd.choice(names)) for _ in range(n)]
        else:  # many small components
            yield [(names[i], names[rnd.randrange(max(0, i - 3), i + 1)]) for i in range(n)]


@pytest.mark.parametrize("rounds", [0, 1, 2, 4])
def test_labels_equal_union_find_for_any_number_of_rounds(rounds):
    for edges in _graphs():
        ref = C.union_find_components(edges)
        got, residue = C.contract_and_label(edges, rounds)
        assert got == ref


def test_rounds_move_work_away_from_the_final_union_find():
    path = [(f"{i:04d}", f"{i + 1:04d}") for i in range(0, 500)]
    residues = [C.contract_and_label(path, r)[1] for r in (0, 2, 4, 8)]
    # labels sorted along a path: contraction is slow (hence scrambled keys in the pipeline)
    assert residues == sorted(residues, reverse=True) and residues[2] > 400
    scrambled = [tuple(sorted((C.scramble(a), C.scramble(b)))) for a, b in path]
    residues = [C.contract_and_label(scrambled, r)[1] for r in (0, 2, 4, 8)]
    assert residues[0] > residues[1] > residues[2] > residues[3] == 0
    assert residues[2] < 50
    labels, _ = C.contract_and_label(scrambled, 4)
    assert {C.unscramble(k) for k in labels} == {f"{i:04d}" for i in range(501)} and len(set(labels.values())) == 1


def test_star_steps():
    assert list(C.large_star("b", ["a", "c", "d"])) == [("a", "c"), ("a", "d")]
    assert list(C.large_star("a", ["b", "c"])) == [("a", "b"), ("a", "c")]
    assert list(C.small_star("d", ["b", "c", "e"])) == [("b", "c"), ("b", "d")]
    assert list(C.small_star("a", ["b"])) == []
    assert C.label("c", ["d", "b"]) == "b" and C.label("a", ["b"]) == "a"


def test_union_find_root_is_the_minimum_whatever_the_order():
    edges = [("m", "z"), ("z", "c"), ("q", "r"), ("c", "k")]
    for _ in range(10):
        random.shuffle(edges)
        assert C.union_find_components(edges) == {"c": "c", "k": "c", "m": "c", "z": "c", "q": "q", "r": "q"}
