"""Rules for the unmistakable phrases of urgent comments (data/urgent/GUIDE.md), combined with the trained head
where they raise recall. Each pattern needs a person as target or a first-person speaker, so the figures of speech
the guide lists ("bygglovet tar livet av mig", "skjuter upp", "det slår mig att") never match; a comment that
says the danger is over ("för femton år sedan", "han är död") is left to the model.
"""

from __future__ import annotations

import re

_PERSON = (r"(?:er|dig|honom|henne|dem|allihop|alla\s+på|hela\s+(?:kontoret|nämnden|socialnämnden|förvaltningen)|"
           r"handläggar\w*|socialsekreterar\w*|personalen|rektorn|läraren|chefen|politiker\w*|"
           r"byggnadsinspektör\w*|\[NAMN\])")
_WEAPON = (r"(?:kniv|kniven|pistol|pistolen|gevär|geväret|bössa|bössan|hagelbössan|vapen|vapnet|yxa|yxan|"
           r"järnrör|ett\s+järnrör|basebollträ|ett\s+basebollträ|slägga|släggan|machete)\b")
_HARMLESS_USE = r"(?!\s*(?:och\s+gaffel|till\s+(?:skjutbanan|jakten|älgjakten|skyttet|slöjden|provskjutning)))"
_CLOSE = (r"(?:han|hon|min\s+(?:man|fru|sambo|pojkvän|flickvän|partner|exman|exfru|expojkvän|f\.d\.\s+\w+|pappa|"
          r"mamma|styvpappa|styvmamma|bror|son|dotter|svärson|svärmor|svärfar)|hennes\s+(?:man|pappa|sambo)|"
          r"hans\s+(?:fru|pappa|mamma|sambo)|pappan|mamman|styvpappan|mannen|föräldrarna|familjehems\w+)")

RULES: dict[str, list[re.Pattern]] = {
    "threat": [re.compile(p, re.IGNORECASE) for p in (
        rf"\b(?:skjuta|skjuter|skjut|knivhugga|knivhugger|döda|dödar|mörda|mördar|spöa|spöar)\s+{_PERSON}\b",
        r"\bslå\s+ihjäl\s+(?!(?:mig|lite|tid|tiden|en|ett)\b)\w+",
        r"\b(?:ni|du)\s+(?:ska|kommer\s+att)\s+dö\b(?!\s+av)",
        r"\bborde\s+skjutas\b(?!\s+upp)",
        r"\bkula\s+i\s+(?:huvudet|skallen|pannan)",
        r"\b(?:spränga|spränger|bränna\s+ner|bränner\s+ner|tända\s+eld\s+på)\s+(?:kontoret|stadshuset|"
        r"kommunhuset|skolan|er|huset|byggnaden|förskolan)",
        r"\bjag\s+vet\s+var\s+(?:du|han|hon|\[NAMN\]|handläggaren|socialsekreteraren)\s+bor\b",
        r"\b(?:kommer|komma)\s+(?:till\s+\w+\s+)?med\s+(?:kniv|pistol|gevär|vapen|yxa)\b",
        r"\b(?:sätta|sätter|tända|tänder)\s+eld\s+på\s+(?:förskolan|skolan|kontoret|stadshuset|kommunhuset|huset|"
        r"byggnaden|biblioteket|er|dig|honom|henne|\w+s\s+bil)\b",
        rf"\b(?:jag|vi)\s+(?:\w+\s+){{0,4}}(?:skada|slå|misshandla|ge\s+(?:mig|oss)\s+på)\s+"
        r"(?:kommunalrådet|handläggar\w*|socialsekreterar\w*|rektorn|läraren|personalen|chefen|er|dig|honom|henne)\b",
        r"\b(?:jag|vi)\s+vet\s+var\s+ni\s+(?:bor|jobbar|arbetar)\b",
        r"\bmed\s+mina\s+egna\s+händer\b",
        r"\b(?:ni|personalen|handläggarna)\s+(?:är|ska)\s+inte\s+(?:säkra|känna\s+sig\s+(?:trygg|säkra|trygga))",
        # coming with a named weapon ("kommer jag med yxan", "står i dörren med yxan", "får yxan i skallen")
        rf"\b(?:(?:jag|ja|vi)\s+(?:\w+\s+){{0,3}}(?:kommer|kmr|står|väntar|dyker\s+upp)|"
        rf"(?:kommer|kmr|står|väntar)\s+(?:jag|ja|vi))\s+(?:\w+\s+){{0,4}}(?:med|me)\s+{_WEAPON}{_HARMLESS_USE}",
        r"\b(?:får|ska\s+få)\s+(?:en\s+)?(?:kula|kniv|yxa|yxan|kniven)\s+i\s+"
        r"(?:skallen|huvudet|magen|ryggen|halsen)",
        r"\b(?:ett\s+skott|en\s+kula)\s+(?:i\s+(?:ryggen|huvudet|skallen|pannan|nacken)|"
        r"med\s+(?:ert|ditt|hans|hennes)\s+namn)",
        r"\b(?:ska|kommer\s+(?:att\s+)?|tänker|och)\s+(?:\w+\s+){0,3}(?:stryper|strypa|sticker\s+ner|sticka\s+ner|"
        r"knivhugga|knivhugger)\s+(?!mig\b|lite\b)\w+",
        r"\b(?:blir|ska\s+bli|kommer\s+att\s+bli)\s+(?:ett\s+)?blodbad\b",
        r"\bi\s+(?:en\s+)?liksäck\b|\bdödslista\b",
        r"\b(?:hälla|häller)\s+bensin\s+på\s+(?!gräs|brasan|grillen)\w+",
        r"\bI\s+(?:will|am\s+going\s+to|'m\s+going\s+to|'ll)\s+(?:\w+\s+){0,2}(?:kill|shoot|stab|burn|hurt|beat)\b",
        r"\b(?:kill|shoot|stab)\s+(?:you|all\s+of\s+you|the\s+(?:teacher|social\s+worker|staff))\b",
    )],
    "self_harm": [re.compile(p, re.IGNORECASE) for p in (
        r"\b(?:jag|ska|kommer\s+att|tänker|vill|att|och)\s+(?:\w+\s+){0,2}ta\s+livet\s+av\s+mig\b",
        r"\bjag\s+(?:\w+\s+)?tar\s+livet\s+av\s+mig\b",
        r"\b(?:ta|tar|avsluta|avslutar)\s+mitt\s+(?:eget\s+)?liv\b",
        r"\bvill\s+(?:jag\s+)?inte\s+(?:leva|finnas)(?:\s+längre|\s+mer)?\b(?!\s+(?:i|med|på|under|bredvid|nära)\b)",
        r"\borkar\s+(?:jag\s+)?inte\s+leva\b",
        r"\bsjälvmordstankar|\bbegå\s+självmord|\bhar\s+självmordsplaner",
        r"\b(?:skär|skurit|börjat\s+skära)\s+(?:mig|sig)\b(?!\s+på\s+(?:papper|kniven))",
        r"\bskadar\s+mig\s+själv\b",
        r"\bönskar\s+(?:att\s+)?jag\s+(?:inte\s+(?:vaknade|hade\s+vaknat|fanns|fötts)|var\s+död)",
        r"\bavskedsbrev\b",
        r"\bhoppa\s+(?:framför|från)\s+(?:tåget|tunnelbanan|bussen|bron|balkongen|taket)",
        r"\bsnaran\b|\brepet\s+runt\s+halsen|\bsluta\s+för\s+gott\b",
        r"\b(?:orkar|orka)\s+(?:jag\s+|ja\s+)?(?:int|inte|inge)\s+leva\b",
        r"\b(?:rispa|rispar|rispat|rispade|skära|skurit\s+upp)\s+(?:mig|sig)\b|\bskadat\s+(?:mig|sig)\s+själv\b",
        r"\b(?:säger|sagt|skriver|skrivit|sa)\s+att\s+(?:hon|han|hen)\s+"
        r"(?:vill\s+dö|inte\s+vill\s+(?:leva|finnas))\b",
        r"\b(?:har\s+)?köpt\s+(?:ett\s+)?rep\b|\btabletter\s+som\s+behövs\b|\bmed\s+ett\s+rakblad\b",
        r"\b(?:cutting|hurting|harming)\s+myself\b|\b(?:kill|killing)\s+myself\b|\bwant\s+to\s+die\b",
    )],
    "violence_close_relationship": [re.compile(p, re.IGNORECASE) for p in (
        rf"\b{_CLOSE}\s+(?:\w+\s+){{0,2}}(?:slår|slog|sparkar|sparkade|misshandlar|misshandlade|stryper|ströp|"
        r"våldtar|våldtog|nyper|hotar|hotade)\s+(?:och\s+\w+\s+)?(?:mig|henne|honom|oss|barnen|dem|mamma|pappa|farmor|mormor)\b",
        r"\bmisshandlar\s+(?:mig|henne|honom|oss|barnen|mamma|pappa)\b",
        r"\bhar\s+hotat\s+att\s+döda\s+mig\b",
        r"\b(?:barnet|barnen|pojken|flickan|förskolebarnet|eleven|sonen|dottern|\w+s\s+(?:son|dotter))\b[^.!?]{0,80}"
        r"\b(?:blåmärken|brännmärken|märken\s+på\s+(?:armarna|halsen|ryggen))",
    )],
    "close_threat": [re.compile(
        rf"\b{_CLOSE}\s+(?:\w+\s+){{0,4}}(?:döda|ta\s+livet\s+av|slå\s+ihjäl|bränna\s+ner\s+huset\s+med)\s+"
        r"(?:mig|henne|honom|oss|barnen|ungarna|barnet|dem)\b", re.IGNORECASE)],
}

PAST_RESOLVED = re.compile(
    r"\b(?:för\s+\w+\s+år\s+sedan|för\s+länge\s+sedan|som\s+(?:tonåring|ung|barn)\b|på\s+\d0-talet|"
    r"när\s+(?:jag|vi)\s+var\s+(?:liten|små|barn|ung|unga|student|tonåring|\d+|\w+ton|tjugo)\b|under\s+uppväxten|"
    r"(?:han|hon)\s+(?:är|har\s+varit)\s+död|i\s*dag\s+mår\s+(?:jag|vi)\s+bra|"
    r"nu\s+är\s+jag\s+\d*\s*(?:och\s+)?frisk|"
    r"har\s+varit\s+(?:bra|frisk|lugnt)\s+i\s+många\s+år)", re.IGNORECASE)
"""A comment that places the violence or the suicidal thoughts explicitly in the past: no rule fires."""
PRIORITY = ("close_threat", "threat", "self_harm", "violence_close_relationship")
"""Order of the checks: a threat by someone close to the victim is violence in a close relationship (the guide's
decision procedure, step 1), so it is checked before the other threats."""


def with_added(category: str, patterns: list[re.Pattern]) -> dict[str, list[re.Pattern]]:
    """RULES with `patterns` added to `category` (candidate phrases, judged by synpunkt.signals.rule_retrain)."""
    return {c: found + (list(patterns) if c == category else []) for c, found in RULES.items()}


def rule_category(text: str, rules: dict[str, list[re.Pattern]] | None = None) -> str | None:
    """The highest-priority category whose unmistakable phrase (of `rules`, default RULES) occurs in the text, or
    None."""
    if not text or PAST_RESOLVED.search(text):
        return None
    rules = RULES if rules is None else rules
    for category in PRIORITY:
        if any(p.search(text) for p in rules[category]):
            return "violence_close_relationship" if category == "close_threat" else category
    return None
