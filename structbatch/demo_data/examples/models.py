"""Pydantic v2 models for the example extraction jobs.

Each model mirrors a JSON Schema file in ``schemas/`` (same field names, types and required
fields), so a job can name either ``schemas/recipe.json`` or ``examples.models:Recipe`` and get
the same extraction. ``tests/test_examples_content.py`` keeps the two in step.

Two documentation styles are used on purpose, because structbatch reads both when it compiles a
model into a tool: ``Recipe`` and ``Ingredient`` document their fields in a Google-style
``Attributes:`` section of the docstring, the other models use ``Field(description=...)``.

Optional fields follow one rule: a field that may be missing from the text is either
*required but nullable* (the model must say ``null``) or *optional and nullable* (it may be left
out). Which is which matches the ``required`` list of the schema file.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Author",
    "Citation",
    "Currency",
    "EmploymentType",
    "Ingredient",
    "Invoice",
    "JobPosting",
    "LineItem",
    "Location",
    "PublicationType",
    "Recipe",
    "RemotePolicy",
    "Salary",
    "SalaryPeriod",
    "Seniority",
    "Vendor",
]


class _Strict(BaseModel):
    """Base for every example model: unknown keys are rejected (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------------
# Recipe (schemas/recipe.json): documented with an ``Attributes:`` section.


class Ingredient(_Strict):
    """One ingredient line with its amount normalised to a number and a unit.

    Attributes:
        name: Ingredient name without the amount (e.g. "plain flour").
        quantity: Amount as a decimal number: "1½" becomes 1.5, "a pinch" becomes 1 with unit
            "pinch".
        unit: Unit of measure as written (g, cup, tbsp, clove, pinch...); None for countable
            items like "3 eggs".
    """

    name: str
    quantity: float
    unit: str | None


class Recipe(_Strict):
    """A cooking recipe pulled out of free text such as a blog post or a handwritten family note.

    Attributes:
        title: Name of the dish, as the author calls it (e.g. "Gran's rhubarb crumble").
        ingredients: Every ingredient mentioned, in the order the text first names it.
        cook_time_minutes: Total active plus passive cooking time in whole minutes; estimate
            from the step timings when no total is stated.
        servings: Number of portions the recipe makes; the lower bound for a range like
            "4 to 6"; None when the text gives no hint.
        cuisine: Culinary tradition if stated or obvious (e.g. "Italian", "Sichuan"); may be
            omitted.
        steps: Method as short imperative steps, in order.
    """

    title: str
    ingredients: list[Ingredient] = Field(min_length=1)
    cook_time_minutes: int
    servings: int | None
    cuisine: str | None = None
    steps: list[str]


# --------------------------------------------------------------------------------------------
# Invoice (schemas/invoice.json)

Currency = Literal["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "INR"]


class Vendor(_Strict):
    """Seller details as printed in the invoice header."""

    name: str = Field(description="Trading name of the vendor.")
    address: str | None = Field(
        description="Postal address on one line, parts separated by commas; null when absent."
    )


class LineItem(_Strict):
    """One billed line of the invoice."""

    description: str = Field(description="What was sold or done, as printed.")
    quantity: float = Field(
        description="Quantity billed (hours, units, kg...); 1 when the line has no quantity."
    )
    unit_price: float = Field(description="Price per unit before tax.")
    total: float = Field(description="Line total before tax, normally quantity times unit_price.")


class Invoice(_Strict):
    """A supplier invoice read from OCR'd or plain text, with its line items and totals."""

    invoice_number: str = Field(
        description='Invoice identifier exactly as printed, including prefixes (e.g. "INV-2024-0173").'
    )
    issue_date: dt.date = Field(
        description="Date the invoice was issued, as an ISO 8601 calendar date (YYYY-MM-DD)."
    )
    due_date: dt.date | None = Field(
        default=None,
        description="Payment due date as YYYY-MM-DD when printed; null when the invoice only states "
        'terms such as "Net 30".',
    )
    vendor: Vendor = Field(description="The business that issued the invoice (the seller, not the customer).")
    currency: Currency = Field(
        description="ISO 4217 code of the invoice currency, inferred from symbols (€, £, $) and the "
        "vendor's country when not spelled out."
    )
    line_items: list[LineItem] = Field(
        min_length=1,
        description="Billed lines in printed order; discounts appear as lines with a negative total.",
    )
    subtotal: float = Field(description="Sum of line totals before tax.")
    tax: float = Field(description="Total tax / VAT / GST amount; 0 when none is charged.")
    total: float = Field(description="Amount due including tax.")


# --------------------------------------------------------------------------------------------
# Citation (schemas/citation.json)

PublicationType = Literal["journal", "conference", "preprint", "book"]

Doi = Annotated[str, StringConstraints(pattern=r"^10\.[0-9]+/.+$")]


class Author(_Strict):
    """One author's name split into parts."""

    given: str | None = Field(
        description='Given name(s) or initials as printed (e.g. "J. R."); null for organisations.'
    )
    family: str = Field(
        description='Family name including particles (e.g. "van der Berg"), or the organisation name.'
    )


class Citation(_Strict):
    """A bibliographic record for one research publication.

    Built from a reference-list entry or from the title block of a paper.
    """

    title: str = Field(
        description="Full title of the work in its original capitalisation, without surrounding quotes."
    )
    authors: list[Author] = Field(
        min_length=1,
        description="Authors in byline order; collaboration names go in family with given null.",
    )
    year: int = Field(description="Year of publication (four digits).")
    venue: str | None = Field(
        description='Journal, proceedings or repository name (e.g. "Nature", "NeurIPS", "arXiv"); '
        "publisher for books; null if unknown."
    )
    doi: Doi | None = Field(
        default=None,
        description="Digital Object Identifier without the https://doi.org/ prefix, e.g. "
        '"10.1145/3290605.3300233"; omit or null if none is given.',
    )
    pages: str | None = Field(
        description='Page range as "first-last" or an article number; null if not given.'
    )
    type: PublicationType = Field(description="Kind of publication.")


# --------------------------------------------------------------------------------------------
# Job posting (schemas/job_posting.json)

EmploymentType = Literal["full_time", "part_time", "contract", "temporary", "internship"]
Seniority = Literal["intern", "junior", "mid", "senior", "lead", "executive"]
RemotePolicy = Literal["onsite", "hybrid", "remote"]
SalaryPeriod = Literal["hour", "day", "week", "month", "year"]


class Location(_Strict):
    """Place of work and the on-site policy."""

    city: str | None = Field(description="City or town; null for fully remote roles with no base.")
    region: str | None = Field(description="State, province or region if given.")
    country: str | None = Field(description="Country name in English; null if it cannot be told.")
    remote: RemotePolicy = Field(description="Work arrangement.")


class Salary(_Strict):
    """A pay range; a single figure is given as both min and max."""

    min: float | None = Field(description='Lower end of the range; null for "up to" figures.')
    max: float | None = Field(description='Upper end of the range; null for "from" figures.')
    currency: str = Field(description='ISO 4217 currency code, e.g. "USD", "EUR", "INR".')
    period: SalaryPeriod = Field(description="What one amount pays for.")


class JobPosting(_Strict):
    """A job advertisement normalised into role, employer, location, pay and required skills."""

    title: str = Field(description="Job title as advertised, without location or salary noise.")
    company: str = Field(
        description="Hiring company (the employer, not the recruiting agency when both are named)."
    )
    employment_type: EmploymentType = Field(description="Contract form of the role.")
    seniority: Seniority = Field(
        description="Level of the role, inferred from the title and years of experience asked for."
    )
    location: Location = Field(description="Where the work happens.")
    salary: Salary | None = Field(
        default=None, description="Advertised pay; omit or null when the posting gives no figures."
    )
    skills: list[str] = Field(
        description="Skills, tools and qualifications the posting asks for, short and de-duplicated."
    )
