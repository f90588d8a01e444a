"""Which area codes count as an organisation's "own area" for a flow's row filter.

A district, unitary or borough council's area is its own GSS code. A county council's area is
the county and every district in it, so a row filter on a district-level column (``ltla_cd``)
gives a county the rows of all its districts. A combined authority's area is itself and the
authorities in it. Organisations with no GSS code (departments, care providers) have no area,
and a row filter on the recipient's area then keeps no rows: it fails closed.

The lookups use the bundled ONS geography code list (``accord/demo/data/geography.csv``, real
codes, see its sources note). A code the list lacks is still its own area.
"""

from __future__ import annotations

from accord.demo.geography import AreaEntity, UnknownArea, geography
from accord.organisations.models import Organisation

_CONTAINERS = frozenset({AreaEntity.COUNTY, AreaEntity.COMBINED_AUTHORITY, AreaEntity.REGION})
_LOCAL_AUTHORITIES = frozenset(
    {
        AreaEntity.COUNTY,
        AreaEntity.DISTRICT,
        AreaEntity.UNITARY,
        AreaEntity.METROPOLITAN_DISTRICT,
        AreaEntity.LONDON_BOROUGH,
    }
)


def area_codes(gss_code: str) -> tuple[str, ...]:
    """The area codes that make up ``gss_code``'s own area (itself first), or () for none."""
    code = gss_code.strip().upper()
    if not code:
        return ()
    geo = geography()
    try:
        area = geo.get(code)
    except UnknownArea:
        return (code,)
    codes = [code]
    if area.entity in _CONTAINERS:
        pending = [code]
        while pending:
            for child in geo.children(pending.pop()):
                if child.entity in _LOCAL_AUTHORITIES:
                    codes.append(child.code)
                    pending.append(child.code)
    return tuple(dict.fromkeys(codes))


def areas_of(organisation: Organisation) -> tuple[str, ...]:
    return area_codes(organisation.gss_code)
