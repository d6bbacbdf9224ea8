"""Outlines merged from commune polygons: union, simplification, rounding."""

import struct

import pytest

from territories import geometry


def square(x, y, size=1):
    return [[(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]]


def wkb_polygon(rings, *, big_endian=False):
    order = ">" if big_endian else "<"
    data = bytes([0 if big_endian else 1]) + struct.pack(order + "II", 3, len(rings))
    for ring in rings:
        data += struct.pack(order + "I", len(ring))
        for x, y in ring:
            data += struct.pack(order + "dd", x, y)
    return data


def distinct_points(ring):
    return set(ring[:-1])


def test_parse_wkb_reads_polygons_and_multipolygons_in_hex():
    first, second = square(0, 0), square(5, 5, size=2)
    multi = (
        b"\x01"
        + struct.pack("<II", 6, 2)
        + wkb_polygon(first)
        + wkb_polygon(second, big_endian=True)
    )

    assert geometry.parse_wkb(wkb_polygon(first).hex().upper()) == [first]
    assert geometry.parse_wkb(multi.hex()) == [first, second]


def test_union_of_two_adjacent_squares_is_one_rectangle():
    merged = geometry.union([square(0, 0), square(1, 0)])

    assert len(merged) == 1
    [ring] = merged[0]
    assert ring[0] == ring[-1]
    assert distinct_points(ring) == {(0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1)}
    assert geometry.signed_area(ring) == pytest.approx(2)


def test_union_ignores_the_orientation_of_the_input_rings():
    clockwise = [square(1, 0)[0][::-1]]

    merged = geometry.union([square(0, 0), clockwise])

    assert len(merged) == 1 and len(merged[0]) == 1
    assert geometry.area(merged) == pytest.approx(2)


def test_union_of_a_ring_of_squares_keeps_the_hole():
    squares = [square(x, y) for x in range(3) for y in range(3) if (x, y) != (1, 1)]

    [polygon] = geometry.union(squares)

    exterior, hole = polygon
    assert geometry.signed_area(exterior) == pytest.approx(9)
    assert distinct_points(hole) == {(1, 1), (2, 1), (2, 2), (1, 2)}
    assert geometry.area([polygon]) == pytest.approx(8)


def test_squares_touching_at_a_corner_stay_two_polygons():
    merged = geometry.union([square(0, 0), square(1, 1)])

    assert sorted(len(distinct_points(polygon[0])) for polygon in merged) == [4, 4]
    assert geometry.area(merged) == pytest.approx(2)


def test_simplification_drops_useless_points_and_keeps_rings_closed():
    merged = {"rectangle": geometry.union([square(0, 0), square(1, 0)])}

    [[ring]] = geometry.simplify_coverage(merged, 0.01)["rectangle"]

    assert ring[0] == ring[-1]
    assert distinct_points(ring) == {(0, 0), (2, 0), (2, 1), (0, 1)}


def test_simplification_keeps_a_shared_border_shared():
    # A wiggly border between a western and an eastern territory.
    border = [(1, 0), (1.001, 0.25), (0.999, 0.5), (1.3, 0.75), (1, 1)]
    west = [[(0, 0), *border, (0, 1), (0, 0)]]
    east = [[*border, (2, 1), (2, 0), (1, 0)]]
    outlines = {"west": geometry.union([west]), "east": geometry.union([east])}

    simplified = geometry.simplify_coverage(outlines, 0.01)

    kept = {}
    for key in ("west", "east"):
        [[ring]] = simplified[key]
        assert ring[0] == ring[-1]
        kept[key] = set(border) & distinct_points(ring)
    assert kept["west"] == kept["east"]
    assert (1.001, 0.25) not in kept["west"]
    assert {(1, 0), (1.3, 0.75), (1, 1)} <= kept["west"]


def test_simplification_drops_a_ring_smaller_than_the_tolerance():
    outlines = {"speck": geometry.union([square(0, 0, size=0.001)])}

    assert geometry.simplify_coverage(outlines, 0.01) == {"speck": []}


def test_geojson_rounds_coordinates_and_drops_repeated_points():
    ring = [(0.123456, 1.0), (1.0, 1.0), (1.000001, 1.0), (1.0, 2.0), (0.123456, 1.0)]

    assert geometry.to_geojson([[ring]], precision=2) == {
        "type": "Polygon",
        "coordinates": [[[0.12, 1.0], [1.0, 1.0], [1.0, 2.0], [0.12, 1.0]]],
    }


def test_geojson_is_a_multipolygon_for_several_parts_and_none_when_empty():
    parts = [square(0, 0), square(5, 5)]

    assert geometry.to_geojson(parts, precision=4)["type"] == "MultiPolygon"
    assert geometry.to_geojson([square(0, 0, size=0.0001)], precision=2) is None
