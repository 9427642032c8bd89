"""The typed outputs the compatibility suite asks every client for: bounds that only survive the
SDK's schema transform in descriptions, a pattern, nested lists."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class Landmark(BaseModel):
    name: str
    year: Annotated[int, Field(ge=1000, le=2026)]


class City(BaseModel):
    """A city with a few facts."""

    name: Annotated[str, Field(min_length=1, max_length=40)]
    country_code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    population: Annotated[int, Field(ge=0)]
    livability: Annotated[float, Field(ge=0, le=1)]
    landmarks: list[Landmark]


def check(city: object) -> City:
    """The value is a validated `City` (re-validated from its dump, so no client shortcut passes)."""
    assert isinstance(city, City), type(city)
    return City.model_validate(city.model_dump())
