"""Just enough planar geometry to draw territory outlines, in pure Python.

The build command (`build_territories`) reads commune polygons as WKB, merges
them into department and bassin outlines, simplifies those and writes them as
GeoJSON. Commune polygons from IGN ADMIN EXPRESS tile the territory: two
neighbours share the very same vertices along their common border, so a union
is a matter of dropping the edges that appear twice. No GEOS needed.

Vocabulary: a point is `(x, y)` = `(longitude, latitude)`; a ring is a closed
list of points (first == last); a polygon is a list of rings, exterior first,
then holes; a "multipolygon" is a list of polygons.
"""

import math
import struct
from collections import defaultdict
from itertools import pairwise

WKB_POLYGON, WKB_MULTIPOLYGON = 3, 6
EWKB_SRID_FLAG = 0x20000000


def parse_wkb(data):
    """Polygons of a WKB (or EWKB) Polygon/MultiPolygon, given as bytes or hex."""
    if isinstance(data, str):
        data = bytes.fromhex(data)
    polygons, _offset = _read_geometry(data, 0)
    return polygons


def _read_geometry(data, offset):
    order = "<" if data[offset] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", data, offset + 1)
    offset += 5
    if kind & EWKB_SRID_FLAG:
        offset += 4
    kind &= 0xFF
    if kind == WKB_POLYGON:
        polygon, offset = _read_polygon(data, offset, order)
        return [polygon], offset
    if kind == WKB_MULTIPOLYGON:
        (count,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        polygons = []
        for _ in range(count):
            parts, offset = _read_geometry(data, offset)
            polygons.extend(parts)
        return polygons, offset
    raise ValueError(f"Unsupported WKB geometry type {kind}")


def _read_polygon(data, offset, order):
    (ring_count,) = struct.unpack_from(order + "I", data, offset)
    offset += 4
    rings = []
    for _ in range(ring_count):
        (point_count,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        values = struct.unpack_from(f"{order}{2 * point_count}d", data, offset)
        offset += 16 * point_count
        rings.append(list(zip(values[0::2], values[1::2], strict=True)))
    return rings, offset


def signed_area(ring):
    """Shoelace area: positive when the ring turns counter-clockwise."""
    total = 0.0
    for (x1, y1), (x2, y2) in pairwise(ring):
        total += x1 * y2 - x2 * y1
    return total / 2


def area(polygons):
    """Area of a multipolygon (exteriors minus holes), in squared degrees."""
    return sum(
        abs(signed_area(polygon[0])) - sum(abs(signed_area(h)) for h in polygon[1:])
        for polygon in polygons
    )


def _oriented(ring, *, counter_clockwise):
    if (signed_area(ring) > 0) != counter_clockwise:
        return ring[::-1]
    return ring


def union(polygons):
    """Merge polygons that tile a territory into its outline.

    Exteriors are turned counter-clockwise and holes clockwise, so that the
    border between two neighbours appears once in each direction and cancels
    out; the edges left over are chained back into rings.
    """
    edges = defaultdict(int)
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            ring = _oriented(ring, counter_clockwise=index == 0)
            for a, b in pairwise(ring):
                if a == b:
                    continue
                if edges.get((b, a)):
                    edges[(b, a)] -= 1
                else:
                    edges[(a, b)] += 1
    outgoing = defaultdict(list)
    for (a, b), count in edges.items():
        outgoing[a].extend([b] * count)
    return _assemble(_chain(outgoing))


def _chain(outgoing):
    """Follow the directed edges into closed rings.

    At a vertex where several rings touch, take the first edge clockwise from
    the way back, which keeps the region on the left and the rings simple.
    """
    rings = []
    for start in sorted(outgoing):
        while outgoing[start]:
            ring = [start]
            previous, current = None, start
            while True:
                choices = outgoing[current]
                if previous is None or len(choices) == 1:
                    following = min(choices)
                else:
                    back = math.atan2(previous[1] - current[1], previous[0] - current[0])

                    def clockwise_turn(point, back=back, current=current):
                        angle = math.atan2(point[1] - current[1], point[0] - current[0])
                        return (back - angle) % math.tau or math.tau

                    following = min(choices, key=clockwise_turn)
                choices.remove(following)
                ring.append(following)
                previous, current = current, following
                if current == start:
                    break
            rings.append(ring)
    return rings


def _assemble(rings):
    """Sort rings into polygons: counter-clockwise exteriors, each with its holes."""
    exteriors = [ring for ring in rings if signed_area(ring) > 0]
    holes = [ring for ring in rings if signed_area(ring) < 0]
    polygons = [[ring] for ring in sorted(exteriors, key=signed_area, reverse=True)]
    for hole in holes:
        # The middle of an edge is never on another ring, unlike a pinch vertex.
        (x1, y1), (x2, y2) = hole[0], hole[1]
        probe = ((x1 + x2) / 2, (y1 + y2) / 2)
        around = [p for p in polygons if _contains(p[0], probe)]
        if around:
            min(around, key=lambda p: signed_area(p[0])).append(hole)
    return polygons


def _contains(ring, point):
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _perpendicular_distance(point, start, end):
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy)
    if length == 0:
        return math.hypot(x - x1, y - y1)
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / length


def simplify_line(points, tolerance):
    """Douglas–Peucker: keep both ends and every point that strays more than
    `tolerance` from the simplified line."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        farthest, distance = None, tolerance
        for index in range(first + 1, last):
            d = _perpendicular_distance(points[index], points[first], points[last])
            if d > distance:
                farthest, distance = index, d
        if farthest is not None:
            keep[farthest] = True
            stack.extend([(first, farthest), (farthest, last)])
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def _simplify_arc(arc, tolerance):
    """Simplify an arc the same way whichever direction it is walked in, so
    that two neighbours sharing a border keep sharing it."""
    reverse = arc[-1] < arc[0] or (arc[-1] == arc[0] and len(arc) > 2 and arc[-2] < arc[1])
    canonical = arc[::-1] if reverse else arc
    if canonical[0] == canonical[-1]:
        # A closed loop: anchor it at its far point as well.
        start = canonical[0]
        far = max(range(len(canonical)), key=lambda i: math.dist(start, canonical[i]))
        result = simplify_line(canonical[: far + 1], tolerance)[:-1]
        result += simplify_line(canonical[far:], tolerance)
    else:
        result = simplify_line(canonical, tolerance)
    return result[::-1] if reverse else result


def simplify_coverage(outlines, tolerance):
    """Simplify several outlines at once, keeping shared borders shared.

    `outlines` maps a key to a multipolygon. Rings are cut at junctions (points
    where three borders or more meet), each piece is simplified on its own, so
    the border between two bassins is simplified once, identically for both.
    Rings that shrink below a triangle are dropped.
    """
    neighbours = defaultdict(set)
    for polygons in outlines.values():
        for polygon in polygons:
            for ring in polygon:
                for a, b in pairwise(ring):
                    neighbours[a].add(b)
                    neighbours[b].add(a)
    junctions = {point for point, linked in neighbours.items() if len(linked) != 2}

    simplified = {}
    for key, polygons in outlines.items():
        result = []
        for polygon in polygons:
            rings = []
            for ring in polygon:
                ring = _simplify_ring(ring, junctions, tolerance)
                if len(set(ring)) >= 3:
                    rings.append(ring)
                elif not rings:
                    break  # the exterior vanished: so do its holes
            if rings:
                result.append(rings)
        simplified[key] = result
    return simplified


def _simplify_ring(ring, junctions, tolerance):
    points = ring[:-1]
    cuts = [index for index, point in enumerate(points) if point in junctions]
    if not cuts:
        start = points.index(min(points))
        loop = points[start:] + points[:start] + [points[start]]
        return _simplify_arc(loop, tolerance)
    first = cuts[0]
    rotated = points[first:] + points[:first] + [points[first]]
    cuts = [index - first for index in cuts] + [len(points)]
    result = [rotated[0]]
    for start, end in pairwise(cuts):
        result.extend(_simplify_arc(rotated[start : end + 1], tolerance)[1:])
    return result


def to_geojson(polygons, *, precision):
    """GeoJSON geometry of a multipolygon, coordinates rounded to `precision`
    decimals. Returns None when nothing is left."""
    coordinates = []
    for polygon in polygons:
        rings = []
        for ring in polygon:
            rounded = []
            for x, y in ring:
                point = [round(x, precision), round(y, precision)]
                if not rounded or rounded[-1] != point:
                    rounded.append(point)
            if len({tuple(p) for p in rounded}) >= 3:
                rings.append(rounded)
            elif not rings:
                break
        if rings:
            coordinates.append(rings)
    if not coordinates:
        return None
    if len(coordinates) == 1:
        return {"type": "Polygon", "coordinates": coordinates[0]}
    return {"type": "MultiPolygon", "coordinates": coordinates}
