"""Google-style docstring sections (`Args:` / `Attributes:`) -> field descriptions."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

import structbatch as sb
from structbatch._docstrings import split_docstring


def test_args_section_entries_with_types_and_continuations() -> None:
    doc = """A thing.

    Args:
        a: first
        b (int): second
            continued here
        c (list[int], optional): third

    Returns:
        nothing
    """
    prose, fields = split_docstring(doc)
    assert fields == {"a": "first", "b": "second continued here", "c": "third"}
    assert prose == "A thing.\n\nReturns:\n    nothing"


def test_attributes_section_and_prose_after_it_is_dedented() -> None:
    prose, fields = split_docstring("Summary.\n\n    Attributes:\n        x: the x\n\n    More prose.\n")
    assert fields == {"x": "the x"}
    assert prose == "Summary.\n\nMore prose."


@pytest.mark.parametrize("heading", ["Args", "Arguments", "Attributes", "Parameters", "Fields", "Properties"])
def test_every_section_heading_is_recognised(heading: str) -> None:
    assert split_docstring(f"P.\n\n{heading}:\n    x: the x\n")[1] == {"x": "the x"}


def test_line_back_at_heading_indent_ends_the_section() -> None:
    # "Notes: ..." at the heading's indentation is prose, not a field called Notes.
    prose, fields = split_docstring("Thing.\nArgs:\n  a: first\n  b: second\nNotes: trailing text")
    assert fields == {"a": "first", "b": "second"}
    assert prose == "Thing.\nNotes: trailing text"


def test_colons_in_entry_text_and_other_sections_kept() -> None:
    doc = "Thing.\n\nAttributes:\n    url: see https://x.org: a link\n\nExample:\n    foo: bar\n"
    prose, fields = split_docstring(doc)
    assert fields == {"url": "see https://x.org: a link"}
    assert "Example:\n    foo: bar" in prose


def test_description_on_next_line() -> None:
    assert split_docstring("Args:\n    a:\n        on the next line\n    b: x")[1] == {
        "a": "on the next line",
        "b": "x",
    }


def test_plain_prose_with_colons_is_not_a_section() -> None:
    doc = "No sections: just prose.\nNote: a colon line."
    assert split_docstring(doc) == (doc, {})


class Ingredient(BaseModel):
    """An ingredient.

    Args:
        name: the ingredient's name
        grams (float): how much, in grams
    """

    name: str
    grams: float = Field(description="explicit wins")


class Recipe(BaseModel):
    """A recipe from a cookbook.

    Attributes:
        title: the recipe's title
        items: what goes in
    """

    title: str
    items: list[Ingredient]


def test_model_docstring_fields_land_on_properties_and_field_description_wins() -> None:
    spec = sb.compile(Recipe)
    assert spec.description == "A recipe from a cookbook."
    assert spec.tool["description"] == "A recipe from a cookbook."
    props = spec.schema["properties"]
    assert props["title"]["description"] == "the recipe's title"
    assert props["items"]["description"] == "what goes in"
    ing = spec.schema["$defs"]["Ingredient"]
    assert ing["description"] == "An ingredient."
    assert ing["properties"]["name"]["description"] == "the ingredient's name"
    assert ing["properties"]["grams"]["description"] == "explicit wins"


def test_json_schema_descriptions_with_sections_are_split_too() -> None:
    spec = sb.compile(
        {
            "type": "object",
            "description": "A point.\n\nArgs:\n    x: horizontal\n",
            "properties": {"x": {"type": "number"}, "y": {"type": "number", "description": "keep"}},
        }
    )
    assert spec.description == "A point."
    assert spec.schema["properties"]["x"]["description"] == "horizontal"
    assert spec.schema["properties"]["y"]["description"] == "keep"


def test_section_only_docstring_leaves_no_description() -> None:
    class OnlyArgs(BaseModel):
        """
        Args:
            a: the a
        """

        a: int

    spec = sb.compile(OnlyArgs)
    assert "description" not in spec.tool
    assert spec.schema["properties"]["a"]["description"] == "the a"
