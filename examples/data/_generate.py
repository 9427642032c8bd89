"""Regenerate the example input data: ``python examples/data/_generate.py [OUT_DIR]``.

Everything here was written for structbatch. Rows are built from small hand-written vocabularies
(dishes, vendors, papers, roles) rendered through several hand-written "voices" (a food blog, a
grandmother's note, an OCR'd invoice, an IEEE reference, a startup job ad...), with a fixed seed,
so the output is byte-for-byte reproducible. A handful of deliberately awkward rows is appended to
each file (see ``MESSY`` comments): non-ASCII text, emoji, very long rows, keys with spaces,
slashes and quotes, keys longer than a custom_id may be, keys that collide once sanitised, and
near-empty rows. The generated files are committed: they are inputs, not build output.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SEED = 20261103
HERE = Path(__file__).resolve().parent


# =============================================================================================
# Shared helpers


def join_and(items: Sequence[str], conj: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def lower_first(s: str) -> str:
    return s[:1].lower() + s[1:]


# =============================================================================================
# Recipes


@dataclass(frozen=True)
class Dish:
    title: str
    cuisine: str | None
    servings: int
    minutes: int
    ingredients: tuple[tuple[float, str | None, str], ...]
    steps: tuple[str, ...]


def D(
    title: str,
    cuisine: str | None,
    servings: int,
    minutes: int,
    ingredients: str,
    steps: str,
) -> Dish:
    """Compact constructor: ingredients as "qty|unit|name; ..." (unit "-" = none), steps as "a. b."."""
    parsed: list[tuple[float, str | None, str]] = []
    for part in ingredients.split(";"):
        q, u, n = (x.strip() for x in part.split("|"))
        parsed.append((float(q), None if u == "-" else u, n))
    step_list = tuple(s.strip() for s in steps.split("|") if s.strip())
    return Dish(title, cuisine, servings, minutes, tuple(parsed), step_list)


DISHES: list[Dish] = [
    D(
        "rhubarb crumble",
        "British",
        6,
        45,
        "600|g|rhubarb; 80|g|caster sugar; 1|tsp|ground ginger; 150|g|plain flour; 100|g|cold butter;"
        " 75|g|demerara sugar",
        "chop the rhubarb into thumb-length pieces and toss it with the caster sugar and ginger in a dish"
        "|rub the butter into the flour until it looks like breadcrumbs, then stir in the demerara"
        "|scatter the topping over the fruit and bake at 190°C for about 35 minutes until bubbling",
    ),
    D(
        "buttermilk pancakes",
        "American",
        4,
        25,
        "2|cup|all-purpose flour; 2|tbsp|sugar; 2|tsp|baking powder; 1|tsp|baking soda; 0.5|tsp|salt;"
        " 2|cup|buttermilk; 2|-|eggs; 3|tbsp|melted butter",
        "whisk the dry ingredients together in a big bowl|beat the buttermilk, eggs and butter, then fold"
        " into the dry mix, leaving it lumpy|rest the batter 5 minutes|cook quarter-cupfuls on a hot"
        " griddle until bubbles pop, flip once",
    ),
    D(
        "shakshuka",
        "North African",
        2,
        30,
        "2|tbsp|olive oil; 1|-|onion; 1|-|red pepper; 2|clove|garlic; 1|tsp|ground cumin;"
        " 1|tsp|smoked paprika;"
        " 400|g|chopped tomatoes; 4|-|eggs",
        "soften the onion and pepper in the oil for 10 minutes|add garlic and spices, cook a minute"
        "|tip in the tomatoes and simmer 10 minutes|make four wells, crack in the eggs, cover and cook"
        " until the whites set",
    ),
    D(
        "mapo tofu",
        "Sichuan",
        3,
        25,
        "400|g|silken tofu; 150|g|minced pork; 2|tbsp|doubanjiang; 1|tsp|ground Sichuan pepper;"
        " 3|clove|garlic; 1|tbsp|grated ginger; 250|ml|chicken stock; 1|tbsp|cornstarch; 2|-|spring onions",
        "cube the tofu and blanch it in salted water|fry the pork until crisp, then the doubanjiang, garlic"
        " and ginger until the oil turns red|add stock and tofu, simmer 5 minutes|thicken with the"
        " cornstarch slurry and finish with Sichuan pepper and spring onion",
    ),
    D(
        "dal tadka",
        "Indian",
        4,
        40,
        "1|cup|toor dal; 3|cup|water; 0.5|tsp|turmeric; 1|tsp|salt; 2|tbsp|ghee; 1|tsp|cumin seeds;"
        " 4|clove|garlic; 2|-|dried red chillies; 1|-|tomato",
        "rinse the dal and pressure-cook it with water, turmeric and salt for 3 whistles|mash lightly"
        "|heat ghee, crackle the cumin, fry sliced garlic and chillies|add chopped tomato, cook down, pour"
        " over the dal",
    ),
    D(
        "tarte tatin",
        "French",
        8,
        70,
        "150|g|sugar; 60|g|butter; 6|-|firm apples; 1|sheet|puff pastry",
        "melt the sugar in an ovenproof pan to a deep amber caramel, stir in the butter|pack in the"
        " quartered apples and cook 15 minutes|lay the pastry over, tuck the edges|bake at 200°C for 30"
        " minutes, rest 5, turn out onto a plate",
    ),
    D(
        "spaghetti carbonara",
        "Italian",
        2,
        20,
        "200|g|spaghetti; 100|g|guanciale; 3|-|egg yolks; 1|-|whole egg; 50|g|pecorino romano;"
        " 1|tsp|black pepper",
        "cook the pasta in well-salted water|render the diced guanciale slowly until golden|beat yolks,"
        " egg, cheese and pepper|toss the pasta with the guanciale off the heat, then the egg mix and a"
        " splash of pasta water until glossy",
    ),
    D(
        "banana bread",
        None,
        10,
        75,
        "3|-|very ripe bananas; 75|g|melted butter; 150|g|sugar; 1|-|egg; 1|tsp|vanilla extract;"
        " 1|tsp|baking soda; 1|pinch|salt; 190|g|plain flour",
        "mash the bananas and stir in the butter|mix in sugar, egg and vanilla|sprinkle over soda and salt,"
        " then fold in the flour|bake in a lined loaf tin at 175°C for about an hour",
    ),
    D(
        "chicken adobo",
        "Filipino",
        4,
        60,
        "1|kg|chicken thighs; 0.5|cup|soy sauce; 0.33|cup|cane vinegar; 8|clove|garlic; 3|-|bay leaves;"
        " 1|tsp|whole peppercorns; 1|cup|water",
        "put everything in a pot and leave it for 30 minutes|bring to the boil without stirring, then"
        " simmer covered 30 minutes|take the lid off and reduce the sauce until it coats the chicken",
    ),
    D(
        "guacamole",
        "Mexican",
        4,
        10,
        "3|-|ripe avocados; 1|-|lime; 0.5|-|red onion; 1|-|jalapeño; 0.25|cup|chopped cilantro; 0.5|tsp|salt",
        "mash the avocados roughly|stir in the lime juice, finely chopped onion and jalapeño|fold in the"
        " cilantro, season and serve straight away",
    ),
    D(
        "potato and leek soup",
        "French",
        6,
        50,
        "30|g|butter; 3|-|leeks; 500|g|floury potatoes; 1|l|vegetable stock; 100|ml|cream",
        "sweat the sliced leeks in butter for 10 minutes without colour|add diced potatoes and stock, simmer"
        " 25 minutes|blend until smooth, stir in the cream and season",
    ),
    D(
        "pierogi ruskie",
        "Polish",
        6,
        90,
        "500|g|flour; 250|ml|warm water; 1|-|egg; 600|g|potatoes; 250|g|twaróg; 2|-|onions; 50|g|butter",
        "knead flour, water and egg into a soft dough and rest it|mash the boiled potatoes with the cheese"
        " and half the onion fried in butter|roll thin, cut rounds, fill and pinch shut|boil until they"
        " float, then 2 minutes more; serve with the rest of the onion",
    ),
    D(
        "fruit scones",
        "British",
        8,
        25,
        "350|g|self-raising flour; 85|g|butter; 3|tbsp|caster sugar; 50|g|sultanas; 175|ml|milk;"
        " 1|tsp|vanilla",
        "rub the butter into the flour, stir in sugar and sultanas|warm the milk with the vanilla and mix in"
        " with a knife|pat out 3 cm thick and cut rounds without twisting|bake at 220°C for 10 to 12"
        " minutes",
    ),
    D(
        "miso soup",
        "Japanese",
        4,
        15,
        "800|ml|dashi; 3|tbsp|white miso; 150|g|silken tofu; 1|tbsp|dried wakame; 2|-|spring onions",
        "heat the dashi but do not boil|soak the wakame 5 minutes|dissolve the miso in a ladle of dashi and"
        " stir it back in|add tofu cubes and wakame, warm through, top with spring onion",
    ),
    D(
        "chili con carne",
        "Tex-Mex",
        6,
        150,
        "1|kg|beef mince; 2|-|onions; 3|clove|garlic; 2|tbsp|chili powder; 1|tbsp|ground cumin;"
        " 800|g|chopped tomatoes; 500|ml|beef stock; 2|can|kidney beans",
        "brown the beef in batches|soften onions and garlic in the fat, add the spices|return the meat with"
        " tomatoes and stock and simmer 2 hours|add the beans for the last 20 minutes",
    ),
    D(
        "horiatiki",
        "Greek",
        4,
        15,
        "4|-|tomatoes; 1|-|cucumber; 1|-|red onion; 0.5|cup|kalamata olives; 200|g|feta; 1|tsp|dried oregano;"
        " 4|tbsp|olive oil",
        "cut the tomatoes and cucumber into chunks and slice the onion thin|add the olives|lay the feta on"
        " top in one slab, sprinkle with oregano and pour over the oil",
    ),
    D(
        "kimchi fried rice",
        "Korean",
        2,
        20,
        "1|cup|kimchi; 1|tbsp|gochujang; 3|cup|cooked rice; 1|tsp|sesame oil; 2|-|eggs; 2|-|spring onions",
        "fry the chopped kimchi for 3 minutes|stir in gochujang and a splash of kimchi juice|add the cold"
        " rice and fry until it catches a little|finish with sesame oil and top with fried eggs",
    ),
    D(
        "mushroom risotto",
        "Italian",
        4,
        40,
        "40|g|butter; 1|-|onion; 250|g|chestnut mushrooms; 300|g|arborio rice; 125|ml|white wine;"
        " 1.2|l|hot stock; 60|g|parmesan",
        "soften the onion in half the butter, add the mushrooms|toast the rice 2 minutes, add the wine"
        "|add stock a ladle at a time, stirring, for about 18 minutes|beat in the rest of the butter and"
        " the parmesan, rest 2 minutes",
    ),
    D(
        "oatmeal raisin cookies",
        "American",
        24,
        30,
        "1|cup|softened butter; 1|cup|brown sugar; 2|-|eggs; 1|tsp|vanilla; 1.5|cup|flour; 1|tsp|cinnamon;"
        " 3|cup|rolled oats; 1|cup|raisins",
        "cream butter and sugar, beat in eggs and vanilla|stir in flour and cinnamon, then oats and raisins"
        "|drop spoonfuls onto lined sheets|bake at 350°F for 10 to 12 minutes",
    ),
    D(
        "jollof rice",
        "Nigerian",
        6,
        75,
        "2|-|red bell peppers; 1|-|scotch bonnet; 2|-|onions; 3|tbsp|tomato paste; 1|tsp|thyme;"
        " 1|tsp|curry powder; 2|-|bay leaves; 3|cup|long-grain rice; 3|cup|chicken stock",
        "blend the peppers, scotch bonnet and one onion|fry the other onion, then the tomato paste until"
        " dark|add the blend and spices and cook down 20 minutes|stir in the washed rice and stock, cover"
        " tightly and steam on low for 30 minutes",
    ),
    D(
        "pad kra pao",
        "Thai",
        2,
        15,
        "4|clove|garlic; 3|-|bird's eye chillies; 300|g|chicken mince; 1|tbsp|oyster sauce; 1|tsp|fish sauce;"
        " 1|tsp|soy sauce; 1|tsp|sugar; 1|cup|holy basil leaves",
        "pound garlic and chillies to a rough paste|stir-fry in a very hot wok, add the chicken|season with"
        " the sauces and sugar|throw in the basil, toss until wilted, serve over rice with a fried egg",
    ),
    D(
        "lentil shepherd's pie",
        "British",
        6,
        80,
        "2|tbsp|olive oil; 1|-|onion; 2|-|carrots; 250|g|green lentils; 400|g|chopped tomatoes;"
        " 1|tbsp|tomato purée; 1|kg|potatoes; 50|g|butter",
        "soften onion and carrot in the oil|add lentils, tomatoes, purée and water to cover, simmer 30"
        " minutes|mash the boiled potatoes with the butter|spread the mash over the lentils and bake at"
        " 200°C for 25 minutes",
    ),
    D(
        "gazpacho",
        "Spanish",
        4,
        20,
        "1|kg|ripe tomatoes; 1|-|cucumber; 1|-|green pepper; 1|clove|garlic; 2|tbsp|sherry vinegar;"
        " 100|ml|olive oil; 1|tsp|salt",
        "roughly chop all the vegetables|blend with the vinegar and salt, then drizzle in the oil with the"
        " motor running|sieve and chill for at least 2 hours",
    ),
    D(
        "skillet cornbread",
        "Southern",
        8,
        35,
        "1|cup|cornmeal; 1|cup|flour; 0.25|cup|sugar; 1|tbsp|baking powder; 1|tsp|salt; 1|cup|milk;"
        " 1|-|egg; 0.33|cup|oil",
        "heat a greased cast-iron skillet in a 425°F oven|mix dry, then wet, then combine in a few strokes"
        "|pour into the hot pan and bake 20 to 25 minutes",
    ),
    D(
        "borscht",
        "Ukrainian",
        6,
        90,
        "2|l|beef stock; 3|-|beetroots; 2|-|potatoes; 1|-|carrot; 1|-|onion; 0.25|head|white cabbage;"
        " 2|tbsp|tomato paste; 1|bunch|dill; 6|tbsp|sour cream",
        "grate the beets and carrot and fry them with the onion and tomato paste|add potatoes to the"
        " simmering stock, then the cabbage|stir in the beet mix and cook 20 minutes|serve with dill and"
        " a spoon of sour cream",
    ),
    D(
        "hummus",
        "Levantine",
        6,
        10,
        "400|g|tinned chickpeas; 0.25|cup|tahini; 1|-|lemon; 1|clove|garlic; 0.5|tsp|ground cumin;"
        " 3|tbsp|ice water; 2|tbsp|olive oil",
        "blitz tahini and lemon juice first until whipped|add garlic, cumin and the drained chickpeas"
        "|stream in the ice water until silky|spread in a bowl and pour over the oil",
    ),
    D(
        "Victoria sponge",
        "British",
        8,
        45,
        "200|g|softened butter; 200|g|caster sugar; 4|-|eggs; 200|g|self-raising flour; 2|tbsp|milk;"
        " 4|tbsp|raspberry jam; 150|ml|double cream",
        "beat butter and sugar until pale, then the eggs one by one|fold in the flour and milk|divide"
        " between two tins and bake at 180°C for 20 minutes|cool, then sandwich with jam and whipped cream",
    ),
    D(
        "palak paneer",
        "Indian",
        4,
        35,
        "500|g|spinach; 2|-|green chillies; 2|tbsp|ghee; 1|tsp|cumin seeds; 1|-|onion;"
        " 1|tbsp|ginger-garlic paste;"
        " 250|g|paneer; 2|tbsp|cream",
        "blanch the spinach 2 minutes, plunge into ice water and blend with the chillies|fry cumin, onion and"
        " ginger-garlic paste in ghee|add the purée and simmer 5 minutes|add paneer cubes and cream",
    ),
    D(
        "flapjacks",
        "British",
        16,
        35,
        "125|g|butter; 125|g|light brown sugar; 4|tbsp|golden syrup; 250|g|rolled oats",
        "melt butter, sugar and syrup together|stir in the oats|press into a lined 20 cm tin and bake at"
        " 180°C for 20 to 25 minutes|cut while warm, lift out when cold",
    ),
    D(
        "cacio e pepe",
        "Roman",
        2,
        15,
        "200|g|tonnarelli; 2|tsp|black peppercorns; 80|g|pecorino romano",
        "toast the crushed pepper in a dry pan|cook the pasta in less water than usual|mix the cheese to a"
        " paste with some pasta water|toss pasta, pepper and cheese paste off the heat until creamy",
    ),
    D(
        "empanadas de carne",
        "Argentine",
        12,
        90,
        "2|tbsp|lard; 2|-|onions; 500|g|beef mince; 1|tsp|paprika; 1|tsp|cumin; 2|-|hard-boiled eggs;"
        " 0.5|cup|green olives; 12|-|empanada discs",
        "fry the onions in the lard until soft, add the beef and spices|cool the filling completely, then"
        " add chopped egg and olives|fill the discs, fold and crimp the edge|bake at 200°C for 20 minutes",
    ),
    D(
        "Anzac biscuits",
        "Australian",
        20,
        30,
        "1|cup|rolled oats; 1|cup|plain flour; 0.75|cup|desiccated coconut; 0.75|cup|brown sugar;"
        " 125|g|butter; 2|tbsp|golden syrup; 0.5|tsp|bicarbonate of soda; 2|tbsp|boiling water",
        "mix oats, flour, coconut and sugar|melt butter and syrup, add the soda dissolved in the water and"
        " watch it foam|pour into the dry mix and roll into balls|bake at 160°C for 12 to 15 minutes",
    ),
]

UNIT_FORMS: dict[str, list[tuple[str, str]]] = {
    # unit -> [(singular, plural), ...] spellings
    "g": [("g", "g"), ("grams", "grams"), ("gr", "gr")],
    "kg": [("kg", "kg"), ("kilo", "kilos")],
    "ml": [("ml", "ml"), ("mL", "mL")],
    "l": [("litre", "litres"), ("L", "L"), ("liter", "liters")],
    "cup": [("cup", "cups"), ("c.", "c."), ("cup", "cups")],
    "tbsp": [("tbsp", "tbsp"), ("tablespoon", "tablespoons"), ("T", "T"), ("Tbsp", "Tbsp")],
    "tsp": [("tsp", "tsp"), ("teaspoon", "teaspoons"), ("t", "t")],
    "clove": [("clove", "cloves")],
    "pinch": [("pinch", "pinches")],
    "sheet": [("sheet", "sheets")],
    "can": [("can", "cans"), ("tin", "tins")],
    "head": [("head", "heads")],
    "bunch": [("bunch", "bunches")],
}

UNICODE_FRACTIONS = {0.25: "¼", 0.33: "⅓", 0.5: "½", 0.75: "¾"}
ASCII_FRACTIONS = {0.25: "1/4", 0.33: "1/3", 0.5: "1/2", 0.75: "3/4"}
WORD_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight", 12: "twelve"}
WORD_FRACTIONS = {0.25: "a quarter", 0.33: "a third", 0.5: "half", 0.75: "three quarters"}


def fmt_qty(q: float, style: str) -> str:
    whole, frac = int(q), round(q - int(q), 2)
    if frac == 0:
        if style == "words" and whole in WORD_NUMBERS:
            return WORD_NUMBERS[whole]
        return str(whole)
    if style == "decimal" or frac not in UNICODE_FRACTIONS:
        return f"{q:g}"
    if style == "unicode":
        return (str(whole) if whole else "") + UNICODE_FRACTIONS[frac]
    if style == "words" and not whole:
        return WORD_FRACTIONS[frac] + (" a" if frac == 0.5 else " of a")
    return (f"{whole} " if whole else "") + ASCII_FRACTIONS[frac]


def fmt_ingredient(rng: random.Random, q: float, unit: str | None, name: str, style: str) -> str:
    qs = fmt_qty(q, style)
    if unit is None:
        return f"{qs} {name}"
    forms = UNIT_FORMS[unit]
    # spelled-out amounts read wrong with abbreviations ("two t of"), so use the longest spelling
    sing, plural = max(forms, key=lambda f: len(f[0])) if style == "words" else rng.choice(forms)
    u = sing if q <= 1 else plural
    if style == "words" and q == 1:
        qs = "an" if u[0] in "aeiou" else "a"
    joiner = "" if u in ("g", "kg", "ml", "mL", "gr") and style != "words" and rng.random() < 0.6 else " "
    of = " of" if style in ("words",) or rng.random() < 0.3 else ""
    return f"{qs}{joiner}{u}{of} {name}"


def grandma_ingredient(rng: random.Random, q: float, unit: str | None, name: str) -> str:
    vague = {
        "butter": ["a knob of butter", "a good lump of butter"],
        "salt": ["a pinch of salt", "salt to taste"],
        "black pepper": ["plenty of pepper"],
        "olive oil": ["a glug of olive oil", "a good splash of oil"],
        "water": ["enough water"],
        "milk": ["a splash of milk", "milk to bind"],
    }
    for key, options in vague.items():
        if (name == key or name.endswith(" " + key)) and rng.random() < 0.7:
            return rng.choice(options)
    return fmt_ingredient(rng, q, unit, name, "words")


INTROS_BLOG = [
    "Okay, confession: I have made this {title} four times in the last fortnight.",
    "This {title} is the one my kids actually ask for, which tells you everything.",
    "Rainy Sunday, nothing in the fridge worth mentioning, so naturally: {title}.",
    "I got this {title} from a neighbour years ago and I've fiddled with it ever since.",
    "If you only cook one thing from this blog this month, make it this {title}.",
    "Long story short, the {title} at my cousin's wedding ruined every other version for me.",
    "My partner claims to hate {title}. My partner had thirds.",
]
OUTROS_BLOG = [
    "Serves {servings}, and the whole thing takes about {time}.",
    "That's it! Enough for {servings} people, roughly {time} start to finish.",
    "Feeds {servings} (or 2 very hungry teenagers). Give yourself {time}.",
    "You'll get {servings} portions and it's about {time} all in. Enjoy!",
]
GRANDMA_OPENERS = [
    "{title} — the way Mum made it, copied out for you.",
    "For {name}, since you asked at Christmas. {title}:",
    "{title} (Nana's, don't tell your aunt)",
    "My {title}. I never measure, so these are guesses.",
    "{title}, written on the back of the electric bill, sorry.",
]
GRANDMA_CLOSERS = [
    "Don't let it catch on the bottom.",
    "It's done when it smells done.",
    "Enough for the family and a bit for the freezer.",
    "Your grandad liked it with custard but he liked everything with custard.",
    "Ring me if it goes wrong. Love, G.",
    "Don't open the oven door too early!!",
]
GRANDMA_NAMES = ["Sophie", "little Tom", "Priya", "Maggie", "Jonah", "Dorota", "Aroha", "Luca"]


def fmt_time(minutes: int, rng: random.Random) -> str:
    if minutes < 60:
        return f"{minutes} minutes" if rng.random() < 0.7 else f"{minutes} mins"
    h, m = divmod(minutes, 60)
    if m == 0:
        return f"{h} hour" + ("s" if h > 1 else "")
    if m == 30 and rng.random() < 0.5:
        return f"{h} and a half hours" if h > 1 else "an hour and a half"
    return f"{h} h {m} min" if rng.random() < 0.5 else f"{minutes} minutes"


def steps_prose(rng: random.Random, steps: Sequence[str]) -> str:
    links = ["Then", "Next,", "After that", "Now", "Once that's done,"]
    out = [cap(steps[0]) + "."]
    for i, s in enumerate(steps[1:], start=1):
        if i == len(steps) - 1:
            out.append(rng.choice(["Finally,", "Last of all,", "To finish,"]) + " " + s + ".")
        else:
            out.append(rng.choice(links) + " " + s + ".")
    return " ".join(out)


def render_blog(rng: random.Random, d: Dish) -> str:
    style = rng.choice(["unicode", "ascii", "decimal"])
    ings = [fmt_ingredient(rng, q, u, n, style) for q, u, n in d.ingredients]
    intro = rng.choice(INTROS_BLOG).format(title=d.title)
    if d.cuisine and rng.random() < 0.6:
        intro += f" It's proper {d.cuisine} home cooking, nothing fancy."
    body = f"You'll need {join_and(ings)}. " + steps_prose(rng, d.steps)
    outro = rng.choice(OUTROS_BLOG).format(servings=d.servings, time=fmt_time(d.minutes, rng))
    return f"{intro} {body} {outro}"


def render_grandma(rng: random.Random, d: Dish) -> str:
    opener = rng.choice(GRANDMA_OPENERS).format(title=cap(d.title), name=rng.choice(GRANDMA_NAMES))
    ings = [grandma_ingredient(rng, q, u, n) for q, u, n in d.ingredients]
    steps = ". ".join(cap(s) for s in d.steps) + "."
    feeds = (
        rng.choice([f" Feeds {WORD_NUMBERS.get(d.servings, str(d.servings))}.", ""])
        if d.servings <= 12
        else ""
    )
    timing = rng.choice([f" Takes about {fmt_time(d.minutes, rng)}.", " Give it the afternoon.", ""])
    return f"{opener}\n{cap(join_and(ings))}.\n{steps}{timing}{feeds}\n{rng.choice(GRANDMA_CLOSERS)}"


def render_card(rng: random.Random, d: Dish) -> str:
    ings = [fmt_ingredient(rng, q, u, n, rng.choice(["ascii", "decimal"])) for q, u, n in d.ingredients]
    head = d.title.upper() if rng.random() < 0.5 else cap(d.title)
    serve = rng.choice([f"Serves {d.servings}", f"Makes {d.servings}", f"{d.servings} portions"])
    bits = [f"{head}. {serve}. {fmt_time(d.minutes, rng)}."]
    if d.cuisine and rng.random() < 0.4:
        bits.append(f"({d.cuisine})")
    bits.append("; ".join(ings) + ".")
    bits.append(" ".join(f"{i}) {s}." for i, s in enumerate(d.steps, start=1)))
    return " ".join(bits)


def render_forum(rng: random.Random, d: Dish) -> str:
    ings = [fmt_ingredient(rng, q, u, n, "unicode") for q, u, n in d.ingredients]
    opener = rng.choice(
        [
            f"Re: best {d.title}? Here's mine, no life story I promise.",
            f"Someone in the group asked for my {d.title} so here goes.",
            f"Posting my {d.title} before I forget what I did.",
        ]
    )
    when = fmt_time(d.minutes, rng)
    serves = rng.choice([f"Did {d.servings} plates.", f"Should stretch to {d.servings}.", ""])
    return (
        f"{opener} Went in: {', '.join(ings)}. What I did: "
        + " ".join(lower_first(s) + ";" for s in d.steps[:-1])
        + f" and {d.steps[-1]}. About {when} total. {serves}"
    ).strip()


RECIPE_RENDERERS: list[Callable[[random.Random, Dish], str]] = [
    render_blog,
    render_grandma,
    render_card,
    render_forum,
]

# MESSY: hand-written recipe rows appended after the generated ones.
MESSY_RECIPES: list[tuple[str, str]] = [
    (
        "Gran's/pie #2",
        "Gran's apple pie, the second one (the first one had the lard). Shortcrust: 225g plain flour,"
        " 110g cold butter, a pinch of salt, cold water to bring it together. Filling: 4 Bramleys, peeled"
        " and sliced, 85g sugar, a shake of cinnamon and 1 tbsp flour. Line a 23cm plate, pile in the"
        " apples, lid it, crimp, slash the top. 200°C for 40 minutes till golden. Enough for 6, or 4 if"
        " your uncle is visiting.",
    ),
    (
        "Gran's pie #2",
        "Not to be confused with the other one!! This is Gran's cheese and onion pie: 2 onions softened in"
        " butter, 300g crumbly Lancashire, 2 boiled potatoes sliced, white pepper. Pastry top and bottom"
        " (500g block, shop-bought, nobody needs to know). Bake 190°C for 35 min. Serves 6.",
    ),
    (
        "crème brûlée — Mamie Hélène",
        "Crème brûlée de Mamie Hélène 🍮 500 ml de crème entière, 1 gousse de vanille, 6 jaunes d'œufs,"
        " 100 g de sucre + a bit more for the tops. Chauffer la crème avec la vanille, verser sur les"
        " jaunes fouettés avec le sucre. Into 6 ramekins in a bain-marie, 150°C for 35–40 minutes until"
        " just wobbly. Chill overnight, then sugar and the blowtorch. (She used the grill. She also burnt"
        " the curtains once.)",
    ),
    (
        "ramen-night 🍜🔥",
        "RAMEN NIGHT 🍜🔥🔥 ok so: 4 packs fresh noodles, 1.5 L chicken stock, 3 tbsp white miso, 2 tbsp"
        " soy, 1 tbsp sesame oil, 4 soft-boiled eggs (6½ min, ice bath!!), 2 spring onions, nori, chilli"
        " oil to taste 🌶️. Simmer stock, whisk in miso + soy off the boil, cook noodles 2 min, bowl it all"
        " up. 20 mins. feeds 4 😋 #weeknight #noodles",
    ),
    (
        "Kaiserschmarrn (Oma Lieselotte)",
        "Kaiserschmarrn nach Oma Lieselotte. 4 Eier trennen. Eigelb mit 250 ml Milch, 125 g Mehl und 1"
        " EL Zucker verrühren, Eiweiß steif schlagen und unterheben. In reichlich Butter in der Pfanne"
        " stocken lassen, Rosinen (eine Handvoll) darüber, wenden, mit zwei Gabeln zerreißen. Mit"
        " Puderzucker bestäuben, dazu Zwetschgenröster. Für 2–3 Personen, 25 Minuten.",
    ),
    (
        "the one with the really long story before the recipe, as every food blog requires by law apparently",
        " ".join(
            [
                "Before we get to the stew I want to tell you about the summer of 2009.",
                "We had rented a cottage with a kitchen the size of a wardrobe and a cooker with one"
                " working ring, and the weather was so grey that the sea and the sky were the same colour"
                " for eleven days straight.",
                "My brother had brought a slow cooker in the boot of his car, wrapped in a beach towel,"
                " like a relic.",
                "Every morning somebody would walk to the village shop and come back with whatever they"
                " had: sometimes a bag of carrots, once a single enormous swede, often sausages.",
                "We argued about everything: board games, the route to the lighthouse, whether it is"
                " acceptable to put ketchup in a stew (it is).",
                "By the end of the week the stew had become a sort of family constitution.",
                "I have made it every autumn since, and every autumn I tell this story, and every autumn"
                " my children roll their eyes in a way I find deeply satisfying.",
                "Anyway.",
                "Sausage and lentil stew, serves 4: brown 8 pork sausages in a little oil and set aside.",
                "Soften 1 chopped onion, 2 carrots and 2 sticks of celery for 10 minutes, add 2 cloves of"
                " garlic, 200 g red lentils, a 400 g tin of tomatoes, 750 ml stock and 1 tbsp ketchup.",
                "Slice the sausages back in and simmer for 30 minutes until the lentils collapse.",
                "About 50 minutes all told.",
                "Serve with bread and an argument.",
            ]
            * 3
        ),
    ),
    ("blank-card", "  (recipe card was blank on this side)  "),
    (
        "0007",
        "Mrs Ōkubo's tamagoyaki: 4 eggs, 2 tsp sugar, 1 tsp soy sauce, 1 tbsp mirin, a pinch of salt."
        " Beat gently. Oil the square pan, pour a thin layer, roll it up from the far side when half set,"
        " push to the back, oil, pour again, lifting the roll so egg runs under. Repeat 4 or 5 times."
        " Shape in a bamboo mat, cool, slice. About 15 minutes. For 2 bento boxes.",
    ),
    (
        'quote"and\\backslash',
        'Aunt Bea\'s "famous" (her word) cheese straws: 100g plain flour, 50g cold butter, 75g strong'
        " cheddar, grated, 1 egg yolk, ½ tsp mustard powder, a pinch of cayenne. Rub, bind, roll, cut"
        " into fingers. 200°C for 10–12 minutes. Makes about 30, which is somehow never enough.",
    ),
]


def make_recipes(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen_ids: set[str] = set()
    for round_ in range(3):
        for i, d in enumerate(DISHES):
            renderer = RECIPE_RENDERERS[(i + round_) % len(RECIPE_RENDERERS)]
            slug = d.title.lower().replace("'", "").replace(" ", "-")
            rid = f"r{len(rows) + 1:03d}-{slug}"
            if round_ == 2 and i % 3 != 0:
                continue  # third round: only a sample, so there are ~80 generated rows, not 96
            assert rid not in seen_ids
            seen_ids.add(rid)
            rows.append({"id": rid, "text": renderer(rng, d)})
    # pad to 80 generated rows with extra renderings
    i = 0
    while len(rows) < 80:
        d = DISHES[(i * 7) % len(DISHES)]
        slug = d.title.lower().replace("'", "").replace(" ", "-")
        rows.append({"id": f"r{len(rows) + 1:03d}-{slug}", "text": rng.choice(RECIPE_RENDERERS)(rng, d)})
        i += 1
    rows += [{"id": k, "text": t} for k, t in MESSY_RECIPES]
    return rows


# =============================================================================================
# Invoices


@dataclass(frozen=True)
class VendorInfo:
    name: str
    address: list[str]
    currency: str
    symbol: str
    tax_label: str
    tax_rate: float
    lang: str  # en, de, fr, ja, in, ch, sv
    number_fmt: str  # pattern with {n}
    catalogue: tuple[tuple[str, float, int], ...]  # description, unit price, max qty


VENDORS: list[VendorInfo] = [
    VendorInfo(
        "Harrow & Finch Stationers Ltd",
        ["14 Kirkgate", "Leeds LS2 7DJ", "United Kingdom"],
        "GBP",
        "£",
        "VAT",
        0.20,
        "en",
        "HF-{n:05d}",
        (
            ("A4 copier paper, 80gsm (box of 5 reams)", 24.99, 12),
            ("Black gel pens, pack of 12", 6.49, 20),
            ("Lever arch files, assorted", 2.15, 50),
            ("Whiteboard markers (4)", 4.80, 15),
            ("Desk delivery", 9.50, 1),
        ),
    ),
    VendorInfo(
        "Lakeshore Web Studio LLC",
        ["2210 N Clark St, Suite 4", "Chicago, IL 60614", "USA"],
        "USD",
        "$",
        "Sales tax",
        0.0,
        "en",
        "LWS-{y}-{n:03d}",
        (
            ("Website maintenance retainer (monthly)", 650.00, 1),
            ("Design hours", 95.00, 24),
            ("Hosting, business plan (annual)", 299.00, 1),
            ("Copywriting, per page", 120.00, 8),
        ),
    ),
    VendorInfo(
        "Bäckerei Große Brotzeit GmbH",
        ["Hauptstraße 112", "80331 München", "Deutschland"],
        "EUR",
        "€",
        "MwSt.",
        0.07,
        "de",
        "RE-{y}{n:04d}",
        (
            ("Roggenmischbrot 1 kg", 4.20, 40),
            ("Laugenbrezeln", 0.85, 200),
            ("Butterkuchen Blech", 18.50, 6),
            ("Lieferpauschale", 12.00, 1),
        ),
    ),
    VendorInfo(
        "Atelier Lumière SARL",
        ["27 rue des Tanneurs", "69001 Lyon", "France"],
        "EUR",
        "€",
        "TVA",
        0.20,
        "fr",
        "F{y}-{n:04d}",
        (
            ("Tirage photo 30x40 sur papier baryté", 48.00, 10),
            ("Encadrement chêne", 85.00, 6),
            ("Retouche numérique (heure)", 55.00, 8),
        ),
    ),
    VendorInfo(
        "Northwind Coffee Roasters",
        ["88 Harbour Rd", "Fremantle WA 6160", "Australia"],
        "AUD",
        "$",
        "GST",
        0.10,
        "en",
        "NCR{n:06d}",
        (
            ("Espresso blend 1kg", 42.00, 20),
            ("Single origin Ethiopia Guji 250g", 19.50, 30),
            ("Grinder service", 85.00, 1),
            ("Oat milk 1L (carton)", 3.90, 48),
        ),
    ),
    VendorInfo(
        "Kaito Precision Parts K.K.",
        ["3-14-2 Shibaura, Minato-ku", "Tokyo 108-0023", "Japan"],
        "JPY",
        "¥",
        "消費税",
        0.10,
        "ja",
        "KPP-{y}-{n:04d}",
        (
            ("Stainless shaft Ø8 x 200", 1850.0, 40),
            ("Bearing 608ZZ", 220.0, 200),
            ("CNC machining (per hour)", 9800.0, 10),
        ),
    ),
    VendorInfo(
        "Shree Ganesh Electricals",
        ["Shop 7, Laxmi Market, MG Road", "Pune, Maharashtra 411001", "India"],
        "INR",
        "₹",
        "GST",
        0.18,
        "in",
        "SGE/{y}-{y2}/{n}",
        (
            ("LED panel light 18W", 640.0, 60),
            ("Copper wire 2.5 sq mm (90 m coil)", 3450.0, 40),
            ("MCB 32A double pole", 780.0, 20),
            ("Installation labour (per day)", 1800.0, 5),
        ),
    ),
    VendorInfo(
        "Bergkristall Treuhand AG",
        ["Bahnhofstrasse 9", "8001 Zürich", "Schweiz"],
        "CHF",
        "CHF",
        "MWST",
        0.081,
        "ch",
        "BT-{n:05d}",
        (
            ("Buchhaltung Q1 (Pauschale)", 1250.0, 1),
            ("Lohnabrechnung pro Mitarbeitende", 38.0, 25),
            ("Steuererklärung", 890.0, 1),
        ),
    ),
    VendorInfo(
        "Fjällstugan Uthyrning AB",
        ["Storgatan 5", "831 30 Östersund", "Sverige"],
        "SEK",
        "kr",
        "Moms",
        0.25,
        "sv",
        "{y}{n:05d}",
        (("Stuga, natt", 1450.0, 7), ("Slutstädning", 900.0, 1), ("Sänglinne per person", 150.0, 6)),
    ),
    VendorInfo(
        "Maple Ridge Plumbing & Heating",
        ["451 Queen St W", "Toronto, ON M5V 2A9", "Canada"],
        "CAD",
        "$",
        "HST",
        0.13,
        "en",
        "{n:05d}",
        (
            ("Service call", 129.0, 1),
            ("Labour (hr)", 110.0, 6),
            ("Water heater 40 gal, installed", 1489.0, 1),
            ("Fittings & sundries", 37.85, 1),
        ),
    ),
    VendorInfo(
        "O'Sullivan Catering",
        ["Unit 3, Ballymount Ind. Est.", "Dublin 12", "Ireland"],
        "EUR",
        "€",
        "VAT",
        0.135,
        "en",
        "OSC{n:04d}",
        (
            ("Finger buffet per head", 14.50, 120),
            ("Tea & coffee station", 95.0, 1),
            ("Waiting staff (hour)", 22.0, 16),
        ),
    ),
    VendorInfo(
        "Kowalski i Syn Sp. z o.o.",
        ["ul. Długa 44", "00-238 Warszawa", "Polska"],
        "PLN",
        "zł",
        "VAT",
        0.23,
        "en",
        "FV/{n}/{y}",
        (("Pallet wood, EUR pallet", 45.0, 60), ("Transport (km)", 3.2, 300), ("Handling fee", 150.0, 1)),
    ),
]

CUSTOMERS = [
    "Riverside Primary School",
    "Dr. Amara Okafor",
    "Hollis & Greene LLP",
    "Café Mimosa",
    "J. Petersen",
    "Studio Nakamura",
    "The Crooked Spoon",
    "Ng Family Dental",
    "Eastfield Community Centre",
    "M. Dubois",
    "Sunrise Yoga Collective",
    "Ramírez Construcciones SL",
]

MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def money(v: VendorInfo, amount: float, with_symbol: bool = True) -> str:
    neg = amount < 0
    a = abs(amount)
    if v.currency == "JPY":
        s = f"{a:,.0f}"
    elif v.lang in ("de", "fr", "sv"):
        s = f"{a:,.2f}".replace(",", "X").replace(".", ",").replace("X", "." if v.lang == "de" else " ")
    elif v.lang == "ch":
        s = f"{a:,.2f}".replace(",", "'")
    elif v.lang == "in":
        whole, dec = f"{a:.2f}".split(".")
        if len(whole) > 3:
            head, tail = whole[:-3], whole[-3:]
            groups = []
            while len(head) > 2:
                groups.insert(0, head[-2:])
                head = head[:-2]
            if head:
                groups.insert(0, head)
            whole = ",".join([*groups, tail])
        s = f"{whole}.{dec}"
    else:
        s = f"{a:,.2f}"
    if neg:
        s = "-" + s
    if not with_symbol:
        return s
    if v.symbol in ("kr", "zł", "€") and v.lang in ("de", "fr", "sv", "en") and v.currency != "GBP":
        return f"{s} {v.symbol}" if v.lang != "en" or v.symbol == "zł" else f"{v.symbol}{s}"
    if v.symbol == "CHF":
        return f"CHF {s}"
    return f"{v.symbol}{s}"


def fmt_date(v: VendorInfo, y: int, m: int, d: int, rng: random.Random) -> str:
    if v.lang in ("de", "ch"):
        return f"{d:02d}.{m:02d}.{y}"
    if v.lang == "fr":
        return f"{d} {MONTHS_FR[m - 1]} {y}"
    if v.lang in ("ja", "sv"):
        return f"{y}-{m:02d}-{d:02d}" if v.lang == "sv" else f"{y}年{m}月{d}日"
    if v.currency == "USD":
        return rng.choice([f"{m:02d}/{d:02d}/{y}", f"{MONTHS_EN[m - 1]} {d}, {y}"])
    return rng.choice([f"{d:02d}/{m:02d}/{y}", f"{d} {MONTHS_EN[m - 1][:3]} {y}", f"{y}-{m:02d}-{d:02d}"])


CLOSINGS = {
    "en": "Thank you for your business!",
    "de": "Vielen Dank für Ihren Auftrag!",
    "ch": "Besten Dank.",
    "fr": "Merci pour votre confiance.",
    "ja": "毎度ありがとうございます。",
    "in": "Thank you. E.&O.E.",
    "sv": "Tack för din bokning!",
}

LABELS = {
    "en": dict(
        inv="INVOICE",
        no="Invoice No",
        date="Date",
        due="Due date",
        bill="Bill to",
        desc="Description",
        qty="Qty",
        price="Unit price",
        amt="Amount",
        sub="Subtotal",
        total="TOTAL DUE",
    ),
    "de": dict(
        inv="RECHNUNG",
        no="Rechnungsnr.",
        date="Rechnungsdatum",
        due="Zahlbar bis",
        bill="An",
        desc="Bezeichnung",
        qty="Menge",
        price="Einzelpreis",
        amt="Gesamt",
        sub="Zwischensumme",
        total="Rechnungsbetrag",
    ),
    "ch": dict(
        inv="RECHNUNG",
        no="Rechnung Nr.",
        date="Datum",
        due="Zahlbar bis",
        bill="Kunde",
        desc="Leistung",
        qty="Anz.",
        price="Ansatz",
        amt="Betrag",
        sub="Total exkl. MWST",
        total="Total inkl. MWST",
    ),
    "fr": dict(
        inv="FACTURE",
        no="Facture n°",
        date="Date",
        due="Échéance",
        bill="Client",
        desc="Désignation",
        qty="Qté",
        price="PU HT",
        amt="Montant HT",
        sub="Total HT",
        total="Total TTC",
    ),
    "ja": dict(
        inv="請求書 INVOICE",
        no="請求番号 No.",
        date="発行日",
        due="お支払期限",
        bill="御中",
        desc="品名",
        qty="数量",
        price="単価",
        amt="金額",
        sub="小計",
        total="合計金額",
    ),
    "in": dict(
        inv="TAX INVOICE",
        no="Invoice No.",
        date="Dated",
        due="Due",
        bill="Buyer",
        desc="Description of Goods",
        qty="Qty",
        price="Rate",
        amt="Amount",
        sub="Taxable Value",
        total="Grand Total",
    ),
    "sv": dict(
        inv="FAKTURA",
        no="Fakturanr",
        date="Fakturadatum",
        due="Förfallodatum",
        bill="Kund",
        desc="Beskrivning",
        qty="Antal",
        price="À-pris",
        amt="Belopp",
        sub="Netto",
        total="Att betala",
    ),
}


def ocr_noise(rng: random.Random, text: str) -> str:
    """Scanner-ish damage that leaves the numbers readable: broken spacing, stray bars, swapped letters."""
    out_lines = []
    for line in text.split("\n"):
        r = rng.random()
        if r < 0.08:
            line = line.replace("o", "0", 1) if not any(c.isdigit() for c in line) else line
        elif r < 0.16:
            line = "| " + line + " |"
        elif r < 0.22:
            line = line.replace(" ", "  ", 2)
        elif r < 0.26 and line.strip():
            line = line.replace("l", "I", 1) if not any(c.isdigit() for c in line) else line
        out_lines.append(line)
    if rng.random() < 0.5:
        out_lines.insert(
            rng.randrange(1, len(out_lines)), rng.choice(["", "~~ page 1 of 1 ~~", ".", "- - -"])
        )
    return "\n".join(out_lines)


def make_invoice_text(
    rng: random.Random, v: VendorInfo, n: int, layout: int, many_lines: bool = False
) -> str:
    L = LABELS[v.lang]
    y = rng.choice([2023, 2024, 2025])
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    number = v.number_fmt.format(n=n, y=y, y2=str(y + 1)[2:])
    lines = []
    if many_lines:  # a long statement: one line per delivery, dated
        for _ in range(rng.randint(40, 60)):
            desc, price, max_q = rng.choice(v.catalogue)
            q = rng.randint(1, max_q)
            desc = f"{desc} ({rng.randint(1, 28):02d}/{m:02d})"
            lines.append((desc, q, price, round(q * price, 2)))
    else:
        for desc, price, max_q in rng.sample(v.catalogue, rng.randint(1, min(4, len(v.catalogue)))):
            q = rng.randint(1, max_q)
            lines.append((desc, q, price, round(q * price, 2)))
    discount = rng.random() < 0.12 and not many_lines
    if discount:
        sub0 = sum(t for *_, t in lines)
        lines.append(
            (
                "Discount 10%" if v.lang == "en" else "Rabatt / remise 10 %",
                1,
                -round(sub0 * 0.1, 2),
                -round(sub0 * 0.1, 2),
            )
        )
    subtotal = round(sum(t for *_, t in lines), 2)
    tax = round(subtotal * v.tax_rate, 0 if v.currency == "JPY" else 2)
    total = round(subtotal + tax, 2)
    date_s = fmt_date(v, y, m, d, rng)
    due_s = fmt_date(v, y + (m == 12), m % 12 + 1, d, rng) if rng.random() < 0.6 else None
    cust = rng.choice(CUSTOMERS)
    rate_s = f"{v.tax_rate * 100:g}%" if v.lang == "en" else f"{v.tax_rate * 100:g} %"
    if v.lang in ("de", "fr", "sv"):
        rate_s = rate_s.replace(".", ",")

    if layout == 0:  # classic columns
        out = [v.name, *v.address, ""]
        out.append(f"{L['inv']}")
        out.append(f"{L['no']}: {number}    {L['date']}: {date_s}")
        if due_s:
            out.append(f"{L['due']}: {due_s}")
        out.append(f"{L['bill']}: {cust}")
        out.append("")
        out.append(f"{L['desc']:<44}{L['qty']:>5}{L['price']:>14}{L['amt']:>14}")
        for desc, q, p, t in lines:
            out.append(f"{desc[:44]:<44}{q:>5}{money(v, p, False):>14}{money(v, t, False):>14}")
        out.append("")
        out.append(f"{L['sub']:>63} {money(v, subtotal)}")
        out.append(f"{v.tax_label + ' ' + rate_s:>63} {money(v, tax)}")
        out.append(f"{L['total']:>63} {money(v, total)}")
        if not due_s:
            out.append("Payment terms: Net 30" if v.lang == "en" else "Zahlbar innert 30 Tagen netto")
    elif layout == 1:  # receipt-ish, "qty x item @ price"
        out = [v.name.upper(), ", ".join(v.address), f"{L['inv']} {number}", f"{L['date']} {date_s}"]
        out.append("-" * 40)
        for desc, q, p, t in lines:
            out.append(f"{q} x {desc} @ {money(v, p, False)}")
            out.append(f"{money(v, t):>40}")
        out.append("-" * 40)
        out.append(f"{L['sub']}: {money(v, subtotal)}")
        out.append(f"{v.tax_label} ({rate_s}): {money(v, tax)}")
        out.append(f"{L['total']}: {money(v, total)}")
        if due_s:
            out.append(f"{L['due']}: {due_s}")
        out.append(CLOSINGS[v.lang])
    elif layout == 2:  # key: value dump as some OCR tools produce
        out = [
            f"Vendor: {v.name}",
            f"Address: {' / '.join(v.address)}",
            f"Document: {L['inv']}",
            f"Number: {number}",
            f"Issued: {date_s}",
        ]
        if due_s:
            out.append(f"Due: {due_s}")
        out.append(f"Customer: {cust}")
        for i, (desc, q, p, t) in enumerate(lines, start=1):
            out.append(f"Line {i}: {desc} | qty {q} | unit {money(v, p, False)} | {money(v, t, False)}")
        out.append(f"Net: {money(v, subtotal)}")
        out.append(f"Tax ({v.tax_label} {rate_s}): {money(v, tax)}")
        out.append(f"Gross: {money(v, total)}")
    else:  # freelancer email
        out = [
            f"Dear {cust}," if rng.random() < 0.5 else "Hello,",
            "",
            f"Please find my invoice {number} dated {date_s} below.",
            "",
        ]
        for desc, q, p, t in lines:
            out.append(f"- {desc}: {q} at {money(v, p)} = {money(v, t)}")
        out.append("")
        tax_line = f"plus {v.tax_label} {rate_s} ({money(v, tax)})" if tax else f"no {v.tax_label} charged"
        out.append(f"That comes to {money(v, subtotal)} {tax_line}, so {money(v, total)} in total.")
        out.append(f"Payment due by {due_s}, thanks!" if due_s else "Usual 30 day terms apply.")
        out += ["", "Best,", v.name, ", ".join(v.address)]
    text = "\n".join(out)
    if rng.random() < 0.3:
        text = ocr_noise(rng, text)
    return text


def make_invoices(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for i in range(50):
        v = VENDORS[i % len(VENDORS)]
        layout = rng.randrange(4) if v.lang in ("en", "in") else rng.randrange(3)
        n = rng.randint(7, 9999)
        rows.append({"invoice_id": f"inv-{i + 1:03d}", "text": make_invoice_text(rng, v, n, layout)})
    # MESSY rows
    rows.append({"invoice_id": "INV/2024/0007", "text": make_invoice_text(rng, VENDORS[11], 7, 0)})
    rows.append({"invoice_id": "00042", "text": make_invoice_text(rng, VENDORS[9], 42, 1)})
    rows.append(
        {
            "invoice_id": "scan 2024-03-05 (2)",
            "text": make_invoice_text(rng, VENDORS[4], 3131, 0, many_lines=True),
        }
    )
    rows.append({"invoice_id": "smudged", "text": "INV0ICE\n\n[illegible]\n\nT0TAL  ...  ,  .\n"})
    rows.append(
        {
            "invoice_id": "inv,with,commas",
            "text": "Harrow & Finch Stationers Ltd, 14 Kirkgate, Leeds\n"
            "Invoice No: HF-00991, Date: 02/10/2024\n"
            '"Premium" envelopes, C5, pack of 50 (qty 3) @ £7.20 = £21.60\nSubtotal £21.60, VAT 20% £4.32, '
            'TOTAL DUE £25.92\nNote: customer said "urgent" — delivered same day.',
        }
    )
    return rows


# =============================================================================================
# Papers


GIVEN = [
    "Ana",
    "Björn",
    "Chiara",
    "Dmitri",
    "Efua",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ines",
    "Jae-won",
    "Kavya",
    "Lars",
    "Mei",
    "Nadia",
    "Oluwaseun",
    "Pablo",
    "Qing",
    "Rhiannon",
    "Søren",
    "Tomasz",
    "Uma",
    "Valentina",
    "Wen",
    "Xavier",
    "Yusuf",
    "Zoë",
    "Thuy",
    "Øyvind",
    "Aoife",
    "Mateus",
]
FAMILY = [
    "Almeida",
    "Bergström",
    "Castellanos",
    "Dąbrowski",
    "Eze",
    "Fujimoto",
    "García-Lorca",
    "Hoang",
    "Ivanova",
    "Jørgensen",
    "Kim",
    "van der Linden",
    "Mensah",
    "Nakagawa",
    "O'Connell",
    "Papadopoulos",
    "Quispe",
    "Rahman",
    "Schäfer",
    "Tanaka",
    "Uçar",
    "Varga",
    "Whitfield",
    "Xu",
    "Yılmaz",
    "Zhang",
    "Nguyễn",
    "de la Cruz",
    "MacLeod",
    "Abdi",
]
METHODS = [
    "Sparse Mixture-of-Experts Routing",
    "Contrastive Pretraining",
    "Gaussian Process Surrogates",
    "Graph Neural Operators",
    "Low-Rank Adaptation",
    "Hierarchical Bayesian Models",
    "Diffusion Priors",
    "Active Learning with Label Noise",
    "Federated Fine-Tuning",
    "Symbolic Regression",
    "Retrieval-Augmented Generation",
    "Causal Forests",
    "Physics-Informed Neural Networks",
]
TASKS = [
    "Glacier Melt Forecasting",
    "Low-Resource Machine Translation",
    "Protein Stability Prediction",
    "Urban Heat Island Mapping",
    "Clinical Note De-identification",
    "Soil Microbiome Classification",
    "Bird Song Recognition",
    "Flood Inundation Nowcasting",
    "Legal Contract Review",
    "Crop Yield Estimation",
    "Battery Degradation Modelling",
    "Sign Language Recognition",
    "Coral Reef Monitoring",
]
TITLE_PATTERNS = [
    "{m} for {t}",
    "On the Robustness of {m} in {t}",
    "{t} at Scale: Lessons from Three Deployments",
    "Revisiting {m}: A Closer Look at {t}",
    "When to Use {m}: An Empirical Study of {t}",
    "{t}Bench: A Benchmark for {t}",
    "Cheap and Cheerful {t} with {m}",
    "Towards Reliable {t} via {m}",
]
VENUES = {
    "journal": [
        ("Nature Communications", "10.1038"),
        ("PLOS ONE", "10.1371"),
        ("Journal of Machine Learning Research", None),
        ("Remote Sensing of Environment", "10.1016"),
        ("Bioinformatics", "10.1093"),
        ("Journal of Hydrology", "10.1016"),
        ("IEEE Transactions on Pattern Analysis and Machine Intelligence", "10.1109"),
    ],
    "conference": [
        ("Advances in Neural Information Processing Systems (NeurIPS)", None),
        (
            "Proceedings of the 62nd Annual Meeting of the Association for Computational Linguistics (ACL)",
            "10.18653",
        ),
        ("CHI Conference on Human Factors in Computing Systems", "10.1145"),
        ("International Conference on Machine Learning (ICML)", None),
        ("IEEE International Conference on Robotics and Automation (ICRA)", "10.1109"),
        ("ACM SIGKDD Conference on Knowledge Discovery and Data Mining", "10.1145"),
    ],
    "preprint": [("arXiv", "10.48550"), ("bioRxiv", "10.1101"), ("EarthArXiv", "10.31223")],
    "book": [
        ("MIT Press", None),
        ("Springer", "10.1007"),
        ("Cambridge University Press", "10.1017"),
        ("O'Reilly Media", None),
    ],
}


# Field venues only take papers on their own subjects; venues not listed take anything.
VENUE_TOPICS = {
    "Remote Sensing of Environment": ("Glacier", "Urban Heat", "Flood", "Crop", "Coral"),
    "Bioinformatics": ("Protein", "Soil"),
    "Journal of Hydrology": ("Glacier", "Flood"),
    "Proceedings of the 62nd Annual Meeting of the Association for Computational Linguistics (ACL)": (
        "Translation",
        "Clinical Note",
        "Legal",
        "Sign Language",
    ),
    "CHI Conference on Human Factors in Computing Systems": ("Sign Language", "Clinical Note", "Legal"),
    "IEEE International Conference on Robotics and Automation (ICRA)": ("Crop", "Coral", "Sign Language"),
    "bioRxiv": ("Protein", "Soil", "Bird Song", "Coral"),
    "EarthArXiv": ("Glacier", "Flood", "Urban Heat", "Crop"),
}


@dataclass
class Paper:
    title: str
    authors: list[tuple[str, str]]
    year: int
    kind: str
    venue: str
    doi: str | None
    pages: str | None
    volume: int | None


def make_paper(rng: random.Random) -> Paper:
    kind = rng.choices(["journal", "conference", "preprint", "book"], weights=[4, 4, 2, 1])[0]
    m, t = rng.choice(METHODS), rng.choice(TASKS)
    venues = [(vn, px) for vn, px in VENUES[kind] if any(k in t for k in VENUE_TOPICS.get(vn, ("",)))]
    venue, prefix = rng.choice(venues)
    pat = rng.choice(TITLE_PATTERNS)
    title = pat.format(m=m, t=t.replace(" ", "") if "Bench" in pat and "{t}Bench" in pat else t)
    if "{t}Bench" in pat:
        short = "".join(w[0] for w in t.split())
        title = f"{short}Bench: A Benchmark for {t}"
    if kind == "book":
        title = rng.choice(
            [f"{t}: Methods and Practice", f"A Practitioner's Guide to {m}", f"{m} in the Wild"]
        )
    n_auth = 1 if kind == "book" and rng.random() < 0.5 else rng.choice([1, 2, 3, 3, 4, 5, 7])
    authors = [(rng.choice(GIVEN), rng.choice(FAMILY)) for _ in range(n_auth)]
    year = rng.randint(2014, 2025)
    doi = None
    if prefix and rng.random() < 0.8:
        if prefix == "10.48550":
            doi = f"10.48550/arXiv.{year % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(1000, 19999):05d}"
        else:
            letter = rng.choice(["j", "s", "x", ""])
            doi = f"{prefix}/{letter}{rng.randint(10000, 999999)}.{year}.{rng.randint(1, 999)}"
    p0 = rng.randint(1, 900)
    pages = None
    if kind in ("journal", "conference") and rng.random() < 0.85:
        pages = f"{p0}-{p0 + rng.randint(5, 22)}" if rng.random() < 0.8 else f"e{rng.randint(100000, 999999)}"
    vol = rng.randint(3, 140) if kind == "journal" else None
    return Paper(title, authors, year, kind, venue, doi, pages, vol)


def initials(given: str) -> str:
    return " ".join(p[0] + "." for p in given.replace("-", " ").split())


def ref_apa(p: Paper, rng: random.Random) -> str:
    names = [f"{f}, {initials(g)}" for g, f in p.authors]
    auth = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]
    s = f"{auth} ({p.year}). {p.title}. "
    if p.kind == "journal":
        s += f"{p.venue}, {p.volume}" + (f", {p.pages}" if p.pages else "") + "."
    elif p.kind == "book":
        s += f"{p.venue}."
    else:
        s += (
            f"In {p.venue}" + (f" (pp. {p.pages})" if p.pages else "") + "."
            if p.kind == "conference"
            else f"{p.venue}."
        )
    if p.doi:
        s += f" https://doi.org/{p.doi}"
    return s


def ref_ieee(p: Paper, rng: random.Random) -> str:
    names = [f"{initials(g)} {f}" for g, f in p.authors]
    auth = names[0] + " et al." if len(names) > 6 else join_and(names)
    s = f'[{rng.randint(1, 64)}] {auth}, "{p.title}," '
    if p.kind == "journal":
        s += (
            f"{p.venue}, vol. {p.volume}"
            + (f", pp. {p.pages.replace('-', '–')}" if p.pages else "")
            + f", {p.year}"
        )
    elif p.kind == "conference":
        s += f"in {p.venue}, {p.year}" + (f", pp. {p.pages}" if p.pages else "")
    elif p.kind == "book":
        s = f"[{rng.randint(1, 64)}] {auth}, {p.title}. {p.venue}, {p.year}"
    else:
        s += f"{p.venue} preprint, {p.year}"
    if p.doi:
        s += f", doi: {p.doi}"
    return s + "."


def ref_bibtex(p: Paper, rng: random.Random) -> str:
    kind = {"journal": "article", "conference": "inproceedings", "preprint": "misc", "book": "book"}[p.kind]
    key = f"{p.authors[0][1].split()[-1].lower()}{p.year}{p.title.split()[0].lower()}"
    fields = [
        ("title", "{" + p.title + "}"),
        ("author", " and ".join(f"{f}, {g}" for g, f in p.authors)),
        ("year", str(p.year)),
    ]
    venue_field = {
        "journal": "journal",
        "conference": "booktitle",
        "preprint": "howpublished",
        "book": "publisher",
    }
    fields.append((venue_field[p.kind], p.venue))
    if p.pages:
        fields.append(("pages", p.pages.replace("-", "--")))
    if p.doi:
        fields.append(("doi", p.doi))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{kind}{{{key},\n{body}\n}}"


def ref_header(p: Paper, rng: random.Random) -> str:
    affs = [
        "University of Ghana, Accra",
        "ETH Zürich",
        "Universidad de Chile",
        "Kyoto University",
        "University of Edinburgh",
        "Indian Institute of Science, Bengaluru",
        "Uppsala universitet",
        "McGill University",
    ]
    chosen = rng.sample(affs, k=min(len(p.authors), rng.randint(1, 3)))
    auth = ", ".join(f"{g} {f}{rng.randint(1, len(chosen))}" for g, f in p.authors)
    lines = [p.title, "", auth, *[f"{i}{a}" for i, a in enumerate(chosen, start=1)], ""]
    if p.kind == "preprint" and p.venue == "arXiv" and p.doi:
        lines.insert(0, f"{p.doi.split('arXiv.')[-1]}v{rng.randint(1, 3)}  [cs.LG]  {p.year}")
    else:
        lines.insert(0, f"{p.venue} · {p.year}" + (f" · {p.pages}" if p.pages else ""))
    abstract = (
        f"Abstract. {t_or(p)} remains difficult because labelled data are scarce and distribution shift is"
        f" the norm rather than the exception. We study this setting with {rng.choice(METHODS).lower()} and"
        f" report results on {rng.randint(3, 12)} datasets, improving over strong baselines by"
        f" {rng.randint(2, 19)}.{rng.randint(0, 9)}% on average while using a fraction of the compute."
    )
    lines.append(abstract)
    if p.doi and rng.random() < 0.7:
        lines.append(f"DOI: https://doi.org/{p.doi}")
    return "\n".join(lines)


def t_or(p: Paper) -> str:
    for t in TASKS:
        if t in p.title:
            return t
    return "This problem"


PAPER_RENDERERS = [ref_apa, ref_ieee, ref_bibtex, ref_header]


def surname_key(p: Paper) -> str:
    fam = p.authors[0][1].split()[-1]
    return f"{fam}{p.year}"


def make_papers(rng: random.Random) -> dict[str, str]:
    files: dict[str, str] = {}
    for i in range(40):
        p = make_paper(rng)
        text = PAPER_RENDERERS[i % len(PAPER_RENDERERS)](p, rng)
        stem = surname_key(p)
        suffix = "a"
        while stem in files:
            stem = surname_key(p) + suffix
            suffix = chr(ord(suffix) + 1)
        files[stem] = text + "\n"
    # MESSY: awkward stems and contents.
    files["Müller et al 2021 (draft v2)"] = (
        "Müller, J.-P., Żółkiewska, A., & Lê, T. H. (2021). Snow Depth Retrieval from Consumer-Grade"
        " GNSS Receivers: A Citizen-Science Network in the Alps. EarthArXiv. https://doi.org/10.31223/X5K61Q\n"
    )
    files["ref #17"] = (
        "17. The OpenHydro Consortium. OpenHydro: a community benchmark for river discharge"
        " forecasting. Water Resources Research 58(4), e2021WR031337 (2022).\n"
    )
    files["no-doi-book"] = (
        "Okonkwo-Brandt, Adaeze. 2019. Kitchen Tables and Server Racks: An Ethnography of Small Software"
        " Firms in Lagos. Oxford: Clarendon Press.\n"
    )
    files["empty-ish"] = "[citation needed]\n"
    files["ocr_scan_page3"] = (
        "Tan aka, H., and Rah man, S.: Cheap and Cheer-\nful Bird Song Recognition with Symbolic Regres-\n"
        "sion, in: Proc. ICASSP 20 18, pp. 4 41–4 45, 2018.\n"
    )
    return files


# =============================================================================================
# Job postings


@dataclass(frozen=True)
class Role:
    title: str
    seniority: str
    years: str
    skills: tuple[str, ...]
    pay: tuple[int, int]  # USD-ish annual anchor


ROLES = [
    Role("Backend Engineer", "mid", "3+ years", ("Python", "PostgreSQL", "Docker", "REST APIs"), (110, 140)),
    Role(
        "Senior Data Scientist",
        "senior",
        "6+ years",
        ("Python", "SQL", "causal inference", "A/B testing"),
        (150, 185),
    ),
    Role("Junior Frontend Developer", "junior", "0-2 years", ("TypeScript", "React", "CSS", "Git"), (60, 75)),
    Role(
        "Staff Site Reliability Engineer",
        "lead",
        "10+ years",
        ("Kubernetes", "Terraform", "Go", "on-call"),
        (190, 230),
    ),
    Role("Warehouse Operative", "junior", "no experience", ("forklift licence", "manual handling"), (28, 32)),
    Role("Registered Nurse, ICU", "mid", "2+ years", ("ICU experience", "BLS", "ACLS"), (72, 95)),
    Role("Head of Finance", "executive", "12+ years", ("IFRS", "FP&A", "team leadership"), (170, 210)),
    Role("Product Design Intern", "intern", "students", ("Figma", "user research"), (20, 20)),
    Role("Mobile Engineer (iOS)", "mid", "4 years", ("Swift", "SwiftUI", "Core Data"), (120, 150)),
    Role(
        "Engineering Manager, Payments",
        "lead",
        "8+ years",
        ("people management", "Java", "payments"),
        (180, 215),
    ),
    Role("Bookkeeper", "mid", "3 years", ("Xero", "bank reconciliation", "VAT returns"), (38, 45)),
    Role(
        "Machine Learning Engineer",
        "senior",
        "5+ years",
        ("PyTorch", "distributed training", "MLOps"),
        (160, 200),
    ),
    Role("Barista / Shift Lead", "junior", "1 year", ("espresso", "cash handling", "food hygiene"), (30, 34)),
    Role(
        "Chief Technology Officer",
        "executive",
        "15+ years",
        ("architecture", "fundraising", "hiring"),
        (220, 300),
    ),
]
COMPANIES = [
    "Quillfeather Analytics",
    "Brightwater Health Trust",
    "Tessellate Robotics",
    "Kōhatu Labs",
    "Mercado Verde",
    "Parcelwise Logistics",
    "Oakhaven Credit Union",
    "Lumen & Loom",
    "Polaris Payments",
    "Sørli Energi AS",
    "Chai Point Retail",
    "Ninefold Games",
]
LOCATIONS = [
    ("Austin", "Texas", "United States", "USD", 1.0),
    ("Manchester", "Greater Manchester", "United Kingdom", "GBP", 0.62),
    ("Berlin", None, "Germany", "EUR", 0.68),
    ("Bengaluru", "Karnataka", "India", "INR", 0.0),
    ("Toronto", "Ontario", "Canada", "CAD", 1.05),
    ("Lisbon", None, "Portugal", "EUR", 0.42),
    ("Melbourne", "Victoria", "Australia", "AUD", 1.1),
    ("Stavanger", "Rogaland", "Norway", "NOK", 7.5),
    ("São Paulo", "SP", "Brazil", "BRL", 2.1),
    ("Auckland", None, "New Zealand", "NZD", 1.2),
]
TECH = ("Quillfeather Analytics", "Tessellate Robotics", "Kōhatu Labs", "Polaris Payments", "Ninefold Games")
EMPLOYERS = {
    "Backend Engineer": TECH,
    "Senior Data Scientist": (*TECH, "Oakhaven Credit Union", "Sørli Energi AS"),
    "Junior Frontend Developer": (*TECH, "Lumen & Loom"),
    "Staff Site Reliability Engineer": TECH,
    "Warehouse Operative": ("Parcelwise Logistics", "Mercado Verde"),
    "Registered Nurse, ICU": ("Brightwater Health Trust",),
    "Head of Finance": tuple(COMPANIES),
    "Product Design Intern": ("Lumen & Loom", "Ninefold Games", "Tessellate Robotics"),
    "Mobile Engineer (iOS)": (*TECH, "Chai Point Retail"),
    "Engineering Manager, Payments": ("Polaris Payments", "Oakhaven Credit Union"),
    "Bookkeeper": ("Mercado Verde", "Chai Point Retail", "Lumen & Loom"),
    "Machine Learning Engineer": (*TECH, "Sørli Energi AS"),
    "Barista / Shift Lead": ("Chai Point Retail", "Mercado Verde"),
    "Chief Technology Officer": TECH,
}
HANDS_ON = ("Warehouse Operative", "Registered Nurse, ICU", "Barista / Shift Lead")
EMPLOYMENT = {
    "full_time": ["Full-time", "Permanent, full time", "FT"],
    "part_time": ["Part-time", "20h/week"],
    "contract": ["Contract (6 months, possible extension)", "Freelance / contract"],
    "temporary": ["Temporary (seasonal)", "Fixed-term, 3 months"],
    "internship": ["Internship"],
}
REMOTE_TEXT = {
    "onsite": ["On-site", "in the office 5 days", "office-based"],
    "hybrid": ["Hybrid (2 days in office)", "hybrid, 3 days on site", "Flexible/hybrid"],
    "remote": ["Fully remote", "Remote (within timezone ±3h)", "100% remote"],
}


def salary_text(rng: random.Random, role: Role, loc: tuple[str, str | None, str, str, float]) -> str | None:
    cur, fx = loc[3], loc[4]
    lo, hi = role.pay
    hourly = role.seniority in ("junior",) and lo < 40
    if rng.random() < 0.25:
        return None
    if cur == "INR":
        return f"₹{lo // 5}–{hi // 5} LPA"
    sym = {
        "USD": "$",
        "GBP": "£",
        "EUR": "€",
        "CAD": "CA$",
        "AUD": "A$",
        "NOK": "NOK ",
        "BRL": "R$",
        "NZD": "NZ$",
    }[cur]
    if hourly:
        hr = round(lo * fx * 1000 / 1900, 2) if cur != "NOK" else round(lo * fx * 1000 / 1900)
        return rng.choice([f"{sym}{hr}/hr", f"{sym}{hr} per hour", f"from {sym}{hr} an hour"])
    a, b = int(lo * fx), int(hi * fx)
    if cur == "NOK":
        return f"NOK {a * 1000:,}–{b * 1000:,} per year".replace(",", " ")
    if role.seniority == "intern":
        return f"{sym}{int(20 * fx * 160):,}/month stipend"
    return rng.choice(
        [
            f"{sym}{a}k–{sym}{b}k",
            f"{sym}{a},000 - {sym}{b},000 per annum",
            f"up to {sym}{b}k",
            f"{sym}{a}k to {b}k DOE",
            f"{sym}{a * 1000:,}+ / yr",
        ]
    )


def posting_text(
    rng: random.Random,
    role: Role,
    company: str,
    loc: tuple[str, str | None, str, str, float],
    etype: str,
    remote: str,
    style: int,
) -> str:
    city, region, country = loc[0], loc[1], loc[2]
    place = ", ".join(x for x in (city, region, country) if x)
    pay = salary_text(rng, role, loc)
    et = rng.choice(EMPLOYMENT[etype])
    rm = rng.choice(REMOTE_TEXT[remote])
    skills = list(role.skills)
    rng.shuffle(skills)
    if style == 0:  # LinkedIn-ish
        s = (
            f"{role.title}\n{company} · {place} ({rm})\n{et}" + (f" · {pay}" if pay else "") + "\n\n"
            f"About the role: you'll join a small team at {company} and own real work from week one. "
            f"We're looking for {role.years} of relevant experience.\n\nWhat you bring:\n"
            + "\n".join(f"• {k}" for k in skills)
        )
    elif style == 1:  # terse aggregator
        s = (
            f"{role.title} - {company} - {city or 'Remote'}. {et}. {rm}. "
            f"Req: {', '.join(skills)}. Exp: {role.years}."
            + (f" Pay: {pay}." if pay else " Salary: competitive.")
        )
    elif style == 2:  # startup hype
        s = (
            f"🚀 {company} is hiring a {role.title}! 🚀\n"
            f"📍 {place} — {rm}\n💼 {et}\n"
            + (f"💰 {pay}\n" if pay else "")
            + f"🛠️ You know {join_and(skills)}.\nWe move fast, write things down and go home on time. "
            "No rockstars, no ninjas, just kind people. Apply with a short note, no cover letter needed ✌️"
        )
    elif style == 3:  # HN who's hiring
        s = (
            f"{company} | {role.title} | {city or 'REMOTE'}"
            + (f", {country}" if country else "")
            + f" | {rm.upper()} | {et}"
            + (f" | {pay}" if pay else "")
            + f"\nWe need someone with {role.years} and comfort with {join_and(skills)}. Email jobs@"
            + company.lower().replace(" ", "").replace("&", "and")
            + ".example"
        )
    else:  # recruiter email
        s = (
            f"Hi there,\n\nI'm recruiting on behalf of {company} for a {role.title} ({et.lower()})"
            f" based in {place}."
            f" The setup is {rm.lower()}. "
            + (f"Budget is {pay}. " if pay else "They haven't shared a budget yet. ")
            + f"Ideally {role.years} with {join_and(skills)}.\n\n"
            "Would you be open to a quick chat this week?\n\n"
            "Kind regards,\nPriya (Talent Partner, Hirewell Search)"
        )
    return s


def make_postings(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for i in range(42):
        role = ROLES[i % len(ROLES)]
        company = rng.choice(EMPLOYERS[role.title])
        loc = LOCATIONS[(i * 3 + i // len(LOCATIONS)) % len(LOCATIONS)]
        if role.seniority == "intern":
            etype = "internship"
        elif role.seniority in ("lead", "executive"):
            etype = "full_time"
        elif role.title in HANDS_ON:
            etype = rng.choice(["full_time", "part_time", "part_time", "temporary"])
        else:
            etype = rng.choice(["full_time"] * 5 + ["part_time", "contract"])
        remote = "onsite" if role.title in HANDS_ON else rng.choice(["onsite", "hybrid", "hybrid", "remote"])
        style = rng.randrange(5)
        board = [
            rng.choice(["linkedin", "company-site"]),
            rng.choice(["indeed", "stepstone", "naukri"]),
            rng.choice(["company-site", "linkedin"]),
            "hn-whoishiring",
            "recruiter-email",
        ][style]
        rows.append(
            {
                "posting_id": f"jp-{i + 1:03d}",
                "board": board,
                "text": posting_text(rng, role, company, loc, etype, remote, style),
            }
        )
    # MESSY rows
    rows.append({"posting_id": "jp-filled", "board": "indeed", "text": "This position has been filled."})
    rows.append(
        {
            "posting_id": "jp-de/Köln Teilzeit",
            "board": "stepstone",
            "text": "Wir suchen ab sofort eine*n Buchhalter*in (m/w/d) in Teilzeit (25 Std./Woche)"
            " für unser Büro"
            " in Köln, Nordrhein-Westfalen. Hybrides Arbeiten möglich (2 Tage Homeoffice). Sie bringen eine"
            " abgeschlossene kaufmännische Ausbildung, 3 Jahre Erfahrung mit DATEV und sicheres Deutsch mit."
            " Vergütung: 2.400–2.800 € brutto/Monat. Rheinland Getränke Vertrieb GmbH, Frau Schmitz.",
        }
    )
    long_body = "\n\n".join(
        [
            "Senior Platform Engineer — Polaris Payments — Dublin, Ireland (hybrid, 2 days)"
            " — €95,000–€120,000",
            "Polaris Payments moves money for 40,000 small businesses across Europe. " * 6,
            "Responsibilities:\n"
            + "\n".join(
                f"- Responsibility {k}: keep the ledger service boring, observable"
                " and fast; review designs; mentor two engineers."
                for k in range(1, 16)
            ),
            "Requirements:\n- 6+ years backend experience\n- Go or Java\n- PostgreSQL at scale\n- Kafka\n"
            "- AWS\n- incident response",
            "Benefits: "
            + ", ".join(
                [
                    "pension 8%",
                    "health cover",
                    "30 days leave",
                    "learning budget €2,000",
                    "cycle to work",
                    "parental leave 26 weeks",
                    "home office budget",
                ]
                * 4
            ),
            "Equal opportunities statement: " + "We welcome applications from everyone. " * 20,
        ]
    )
    rows.append({"posting_id": "jp-very-long", "board": "company-site", "text": long_body})
    return rows


# =============================================================================================
# Writing


def to_jsonl(rows: Sequence[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def to_csv(rows: Sequence[dict[str, str]], fields: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def generate(out: Path) -> None:
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipes.jsonl").write_text(to_jsonl(make_recipes(random.Random(rng.random()))), encoding="utf-8")
    (out / "invoices.csv").write_text(
        to_csv(make_invoices(random.Random(rng.random())), ["invoice_id", "text"]), encoding="utf-8"
    )
    papers = out / "papers"
    papers.mkdir(exist_ok=True)
    for old in papers.glob("*.txt"):
        old.unlink()
    for stem, text in make_papers(random.Random(rng.random())).items():
        (papers / f"{stem}.txt").write_text(text, encoding="utf-8")
    (out / "job_postings.jsonl").write_text(
        to_jsonl(make_postings(random.Random(rng.random()))), encoding="utf-8"
    )


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
