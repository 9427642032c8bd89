"""What the prose around a JSON answer says about it: that the answer is not all the data.

`prose_elision` reads the text outside every JSON region of an answer (`_choose.TextParse`)
and the preamble/postamble of the fast text path (`_parse`). A value that validates is not the
answer when the model says it left data out, continues elsewhere, or shows only a part.
"""

from __future__ import annotations

import re

from ._jsonload import suspect_finder

#: Prose in which the answer says it is not the whole answer: a value that validates is still
#: not all the data. Grouped by what the words mean, not by test phrasings: data left out, the
#: answer continuing elsewhere, a part shown, only the first ones, the model stopping, an offer
#: of the rest, the rest being "similar", elision words, a self-description as incomplete. Each
#: form needs words that speak of the *answer* (the list, the rest, the first N, the next
#: message); words about the document ("the rest of the memo is a signature block", "continues
#: on the next line in the scan", "continue with the next document") or one absent field ("so
#: it's omitted") do not match. `N of M` counts are compared (`_COUNT_OF`): "Showing 2 of 2" is
#: whole. "The top 5" alone is what was asked for; "the first 5" says there are more.
#: Each rule runs only when one of its words (any of them, lower case) is in the prose: one
#: regex of all the rules costs ~0.3 ms on 400 characters, as `\b` is tried at every position.
_N = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|few|several|couple(?:\s+of)?)"
_RULES: list[tuple[str, str]] = [
    # data left out, for brevity or space
    ("brevity", r"for\s+(?:the\s+sake\s+of\s+)?brevity"),
    (
        "space|length",
        r"\b(?:omitted|truncated|abbreviated|shortened|cut)\b[^.\n]{0,30}?\b(?:to\s+save|for)\s+(?:space|length)",
    ),
    (
        "length|space|size|token|output",
        r"""\b(?:due\s+to|because\s+of|given|within|under)\s+(?:the\s+|my\s+)?
        (?:length|space|size|token|output|response)\s+(?:limits?|constraints?|restrictions?)""",
    ),
    (
        "rest|remain",
        r"""\b(?:the\s+)?(?:rest|remaining|remainder)\b
        (?!\s+of\s+the\s+(?:memo|document|letter|text|email|page|file|invoice|scan|message|thread|receipt|form)\b)[^.\n]{0,60}?
        \b(?:omitted|not\s+shown|not\s+listed|not\s+included|truncated|left\s+out|skipped|follows?\s+the\s+same
           |(?:are\s+|is\s+)?similar)\b""",
    ),
    (
        "omit|not shown|not listed|truncat|left out|skip",
        r"""\b(?:more|additional|other|further)\s+(?:[a-z]+\s+){0,2}?
        (?:were\s+|are\s+|have\s+been\s+|was\s+|is\s+)?(?:omitted|not\s+shown|not\s+listed|truncated|left\s+out|skipped)\b""",
    ),
    (
        "similar|alike|same",
        r"""\bthe\s+others?(?:\s+(?:ones?|items?|entries|entry|rows?|records?|people|employees))?\s+
        (?:is|are|looks?|follows?)\s+(?:similar|alike|the\s+same)\b""",
    ),
    # the answer continues elsewhere
    (
        "continu",
        r"""\b(?:list|table|output|data|answer|response|results?|entries|items)\s+(?:continues|is\s+continued|will\s+continue)\b
        | \bto\s+be\s+continued\b
        | \bcontinu\w*\s+(?:in|on|with|into)\s+(?:the\s+|my\s+|a\s+)?(?:next|following|another|second|subsequent|separate)\s+
          (?:message|response|reply|turn|part|chunk|batch|answer|post)\b
        | \bcontinue\s+(?:with|listing|extracting|on\s+with)\s+(?:the\s+)?(?:rest|remaining|remainder|others)\b""",
    ),
    (
        "message|response|reply|turn|chunk|answer|post",
        # with what goes there in the same sentence ("the rest", "more", "part 2"): "in my next
        # response I can explain the reasoning" promises no data
        r"""(?:\brest|\bremain\w*|\bremainder|\bothers|\bmore|\bcontinu\w*|\bpart|\bbatch|\bhalf|\bentries|\brows|\bitems)\b
          [^.\n?!]{0,60}?\b(?:next|following|subsequent|separate|later)\s+(?:message|response|reply|turn|chunk|answer|post)s?\b
        | \b(?:next|following|subsequent|separate|later)\s+(?:message|response|reply|turn|chunk|answer|post)s?\b
          [^.\n?!]{0,60}?(?:\brest|\bremain\w*|\bremainder|\bothers|\bmore|\bcontinu\w*|\bpart|\bbatch|\bhalf|\bentries|\brows|\bitems)\b""",
    ),
    (
        "continu|cont'd|cont’d|truncat|incomplete|abridged|partial|snipped|excerpt",
        r"""[(\[]\s*(?:the\s+)?(?:[a-z]+\s+)?(?:continued|continues|cont['’]d|truncated|incomplete|abridged|partial|snipped|excerpt)
        (?:\s+(?:in|on|below|for|to|from|at|after)\b[^)\]\n]{0,40})?\s*\.{0,3}\s*[)\]]""",
    ),
    # one part of several
    (
        "part|batch|chunk",
        r"""(?:^|[(\[]|\b(?:this\s+is|here\s+is|here['’]s|below\s+is|showing)\s+)\s*(?:the\s+)?part\s+(?:\d+|one|two|three|i+)
          \s*(?:of|/)\s*(?:\d+|two|three|four|five)\s*(?:[)\]:.]|$)
        | \b(?:this\s+is|here\s+is|here['’]s|below\s+is|showing)\s+(?:the\s+)?(?:part|batch|chunk)\s+
          (?:\d+|one|two|three|first|second|1st|2nd)\b
        | \b(?:part|batch|chunk)\s+(?:\d+|one|two|three|first|second)\s+of\s+(?:the\s+)?
          (?:list|results|data|output|answer|entries|items|people|employees|staff)\b""",
    ),
    ("of", r"[(\[]\s*(?:out\s+)?of\s+\d+\s*(?:total)?\s*[)\]]"),
    (
        "sample|subset|selection|excerpt|portion|handful",
        r"""\bonly\s+(?:a\s+)?(?:sample|subset|selection|excerpt|portion|handful)\b
        | \b(?:sample|subset|excerpt|portion)\s+of\s+(?:the\s+)?(?:[a-z]+\s+)?
        (?:list|entries|items|rows|records|results|data|people|employees|staff)\b""",
    ),
    # only the first ones
    (
        "first|initial",
        rf"""\bonly\s+(?:(?:included|listed|shown|extracted|showing|given|provided|returned|kept|covered|including)\s+)?
          (?:the\s+)?(?:first|initial)\b
        | \bjust\s+(?:the\s+)?first\s+{_N}\b
        | \b(?:first|initial)\s+(?:[a-z]+\s+){{0,5}}?only\b(?=\s*(?:[.;,:!)\]]|$))
        | \b(?:here\s+are|here['’]s|below\s+are|these\s+are|showing|shown|listing|listed|including|included|extracted|returning
             |I(?:['’]ve|\s+have)?\s+(?:listed|included|extracted|added|given|provided|shown))
          \s+(?:only\s+)?(?:the\s+)?first\s+{_N}\b""",
    ),
    # the model stopped
    (
        "stop|paus",
        rf"""\bI(?:['’]ve|\s+have|['’]ll|\s+will)?\s+(?:stopped|stop|paused)\s+
          (?:here|there|listing|after\s+(?:the\s+)?(?:first\s+)?{_N})\b
        | \bstopping\s+here\b""",
    ),
    ("cut", r"\bcut\s+(?:the\s+)?(?:list|output|answer|response|it)\s+(?:off|short)\b"),
    # an offer of the rest
    (
        "rest|remain|other|full|complete|whole|continue",
        r"""\b(?:want|like|need|wish)\b[^.\n?]{0,40}?
        (?:\bthe\s+(?:rest|remainder|others)\b|\bthe\s+remaining\b|\bthe\s+(?:full|complete|whole)\s+(?:list|set|output)\b
         |\bto\s+continue\b(?!\s+with\s+(?:the\s+|a\s+)?(?:next|another|new|other|different)\s+(?!part|batch|chunk|set)))""",
    ),
    (
        "rest|remain|other|full list|complete list",
        r"""\b(?:I\s+can|I['’]d\s+be\s+happy\s+to|happy\s+to|shall\s+I|should\s+I
          |want\s+me\s+to|I['’]ll|I\s+will)\s+(?:also\s+)?
        (?:continue|provide|list|send|give|extract|add|include|share|output|finish|complete)\b[^.\n?]{0,30}?
        \b(?:the\s+rest|remaining|the\s+remainder|the\s+others|the\s+(?:full|complete)\s+list)\b""",
    ),
    # a few of many, examples, so far, a continuation
    (
        "few|some|several|couple|handful|selection|sample",
        r"""\b(?:here\s+are|below\s+are|these\s+are|listing|showing|I['’]ve\s+(?:listed|included)|I\s+(?:listed|included))\s+
          (?:just\s+|only\s+)?(?:a\s+few|some|several|a\s+couple|a\s+handful|a\s+selection|a\s+sample)\s+of\b
        | ^\s*(?:some|a\s+few|several|a\s+couple)\s+of\s+the\s+[^.\n]{0,40}:\s*$""",
    ),
    (
        "example",
        r"\b(?:here\s+are|below\s+are|these\s+are|listed|included|showing|shown|given|provided)\b[^.\n]{0,30}?\bexamples?\b",
    ),
    ("so far", r"\b(?:have|got|extracted|processed|listed|done|found|gathered)\s+so\s+far\b"),
    (
        "left off|continuing|picking up",
        r"\bcontinuing\s+(?:from|where)\b|\bwhere\s+I\s+left\s+off\b|\bpicking\s+up\s+where\b",
    ),
    ("follow|come", r"\b(?:rest|remaining|remainder|more|others)\b[^.\n]{0,30}?\bto\s+(?:follow|come)\b"),
    # shortened by the model
    (
        "abbreviat|shorten|condens|trimm|truncat|capped|limited|cut",
        r"""\b(?:abbreviated|shortened|condensed|trimmed|truncated)\s+(?:version|list|output|form|answer|response)\b
        | \bI(?:['’]ve|\s+have)?\s+(?:truncated|shortened|trimmed|abbreviated|cut|capped|limited)\s+(?:the\s+|this\s+)?
          (?:list|output|answer|response|results|it)\b""",
    ),
    # only N shown, more offered
    # ("only two people are listed in the memo" is about the document; "only one" is all there is)
    (
        "only",
        r"\bonly\s+(?:\d+|two|three|four|five|six|seven|eight|nine|ten|a\s+few|several)\s+(?:[a-z]+\s+)?(?:are\s+|is\s+)?(?:shown|included|given|extracted)\b",
    ),
    (
        "going|go on|carry on|proceed",
        r"""\b(?:want|like)\s+me\s+to\s+(?:keep\s+going|go\s+on|carry\s+on|proceed)\b
          (?!\s+with\s+(?:the\s+|a\s+)?(?:next|another|new|other|different)\s+(?!part|batch|chunk|set))
        | \bshall\s+I\s+(?:keep\s+going|go\s+on|carry\s+on|continue)\b""",
    ),
    (
        "more",
        r"\bI\s+can\s+(?:list|add|include|extract|provide|give|show)\s+more\b(?!\s+(?:details?|information|context|fields?|info)\b)",
    ),
    ("more", r"[(\[]\s*(?:\+\s*)?\d+\s+more\b[^)\]\n]{0,30}[)\]]"),
    ("first", rf"^\s*(?:the\s+)?first\s+{_N}\s+[^.\n]{{0,30}}:\s*$"),
    ("...|…", r"^\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…)\s*$"),
    # elision words
    ("...|…", r"(?:\.\.\.|…)\s*(?:and\s+so\s+(?:on|forth)|etc)"),
    ("so on|so forth|etc", r"^\s*(?:and\s+so\s+(?:on|forth)|etc\.?)[.…\s]*$"),
    ("more|other|additional", r"\b(?:and|plus)\s+\d+\s+(?:more|other|others|additional)\b"),
    ("+", r"\+\s*\d+\s+more\b"),
    (
        "there are",
        r"""\bthere\s+are\s+(?:\d+\s+|many\s+|several\s+|a\s+few\s+|lots\s+)?more\b
        (?!\s+(?:details?|information|info|notes?|context|fields?|comments?|text|remarks?)\b)""",
    ),
    (
        "yet",
        r"""\b(?:haven['’]t|have\s+not|hasn['’]t|has\s+not|not)\s+(?:yet\s+)?(?:been\s+)?
        (?:extracted|included|listed|added|covered|processed|done|gotten|got)\s+(?:[a-z]+\s+){0,3}?yet\b
        | \bnot\s+yet\s+(?:been\s+)?(?:extracted|included|listed|added|covered|processed)\b""",
    ),
    # the answer calls itself incomplete
    ("partial", r"\bpartial\s+(?:list|output|result|extraction|answer|data)s?\b"),
    ("incomplete", r"\bincomplete\s+(?:list|extraction|output|answer|data|results?)\b"),
    (
        "complete|full|exhaustive|entire",
        r"\b(?:not|isn['’]t)\s+(?:an?\s+|the\s+)?(?:complete|full|exhaustive|entire)\s+(?:list|set|extraction|output|answer|table|result)",
    ),
    (
        "incomplete|partial|truncat|abridged|cut",
        r"""\b(?:list|output|data|extraction|answer|response|results?|table)\s+
        (?:is|are|was|has\s+been)\s+(?:incomplete|partial|truncated|abridged|cut\s+(?:off|short))\b""",
    ),
]
_PROSE_RULES = [(tuple(words.split("|")), re.compile(rule, re.I | re.M | re.X)) for words, rule in _RULES]
#: every rule's word once, with the rules (by index) it opens: one pass over the words finds the
#: rules worth a search (a loop per rule over its words cost a third of a text answer's parse)
_RULES_BY_WORD = {
    word: [index for index, (words, _rule) in enumerate(_PROSE_RULES) if word in words]
    for word in dict.fromkeys(word for words, _rule in _PROSE_RULES for word in words)
}
#: "showing 2 of 3", "3 of 20 keywords shown": a part when the first count is below the second
_COUNT_OF = re.compile(
    r"\b(?:showing|shown|listing|listed|including|included|displaying|returning|returned|extracted"
    r"|here\s+are|these\s+are|top|first|only)\s+(?:only\s+)?(?:the\s+)?(\d+)\s+(?:of|out\s+of)\s+"
    r"(?:the\s+)?(?:total\s+(?:of\s+)?)?(\d+)\b"
    r"|\b(\d+)\s+(?:of|out\s+of)\s+(?:the\s+)?(\d+)\s+(?:[a-z]+\s+){0,2}?(?:are\s+|were\s+|is\s+)?"
    r"(?:shown|listed|included|below|here|given|returned|extracted)\b",
    re.I,
)
_may_count_of = re.compile(r"\d\s*(?:of|out\s+of)\s", re.I)
#: every rule's match contains one of these (any case): a one-pass pre-check (Rust regex)
_prose_may_elide = suspect_finder(
    r"(?i)brevity|space|length|rest|remain|omit|not shown|not listed|truncat|left out|skip|similar|alike|same"
    r"|continu|cont['’]d|message|response|reply|turn|chunk|answer|post|incomplete|abridged|partial|snip|excerpt"
    r"|part|batch|few|some|several|couple|example|so far|left off|picking up|follow|come|condens|trimm|capped"
    r"|limited|abbreviat|shorten|only|going|go on|carry on|proceed|\(|\[|sample|subset|selection|handful|portion|yet|size|token|output|first|initial|stop|paus|cut|other|full|complete|whole|\.\.\.|…"
    r"|so on|so forth|etc|more|additional|\+|there are|exhaustive|entire|\d\s*(?:of|out of)\s"
)


def prose_elision(prose: str) -> str | None:
    """The words in which the prose says the answer is incomplete, if it does."""
    if not _prose_may_elide(prose):
        return None
    low = prose.lower()
    opened = {index for word, rules in _RULES_BY_WORD.items() if word in low for index in rules}
    for index in sorted(opened):  # the rules' own order: the first that says so is quoted
        said = _PROSE_RULES[index][1].search(prose)
        if said:
            return said.group(0)
    if _may_count_of.search(prose):
        for m in _COUNT_OF.finditer(prose):
            shown, total = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            if int(shown) < int(total):
                return m.group(0)
    return None
