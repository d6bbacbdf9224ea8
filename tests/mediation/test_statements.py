"""The one rule by which the search page and the API keep a compiled statement."""

from mediation import statements

SQL = "SELECT id FROM lieu WHERE lat > %s AND nom = %s"


def test_a_parameter_that_differs_is_named_the_others_are_the_shape():
    kept = statements.template((SQL, [1.5, "x"]), {"lat": 1.5}, (SQL, [2.5, "x"]), {"lat": 2.5})
    assert kept == (SQL, [("lat", None), (None, "x")])
    assert statements.fill(kept[1], {"lat": 47.0}) == [47.0, "x"]


def test_what_cannot_be_told_apart_is_not_kept():
    # Two names carry the same values: which one a parameter is cannot be said.
    twins = statements.template(
        (SQL, [1.5, "x"]), {"a": 1.5, "b": 1.5}, (SQL, [2.5, "x"]), {"a": 2.5, "b": 2.5}
    )
    assert twins is None
    # A parameter that differs but is none of the values.
    assert statements.template((SQL, [1.5, "x"]), {}, (SQL, [2.5, "x"]), {}) is None
    # Another text: the values changed the statement's shape.
    assert statements.template((SQL, [1.5]), {"lat": 1.5}, (SQL + " ", [2.5]), {"lat": 2.5}) is None


def test_kept_statements_drop_the_least_recently_used():
    kept = statements.Kept(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # now the most recent
    kept.put("c", 3)
    assert kept.get("b") is statements.MISSING
    assert (kept.get("a"), kept.get("c")) == (1, 3)
