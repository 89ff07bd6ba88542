"""Phrases that say a citizen had to contact the municipality again about the same matter
(data/repeat_contact/GUIDE.md): binary cue features appended to the encoder features of the repeat-contact head,
which learns how much each counts (a cue alone never decides). The shipped head's weights cover exactly these
columns: new phrasings extend an existing cue; a new cue needs `synpunkt train-signals` before the heads are used."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_CONTACT = (r"(?:ring\w*|ringt|mejl\w*|mail\w*|e-?post\w*|skriv\w*|skrev|kontakt\w*|hör\w*\s+av|hört\s+av|"
            r"besök\w*|anmäl\w*|påmin\w*|sms\w*|chatt\w*|frågat|frågade|sökt|jagat|tjatat|skick\w*|prata[dt]e?|"
            r"talat\s+med|talade\s+med)")
_COUNT = r"(?:\d+|två|tre|fyra|fem|sex|sju|åtta|nio|tio|flera|många|otaliga|några|ett\s+par|ett\s+flertal|x)"
_TIMES = r"(?:gånger|ganger|ggr)"
_ORDINAL = r"(?:andra|tredje|fjärde|femte|sjätte|sjunde|åttonde|nionde|tionde|\d+:?e)"

CUES: dict[str, re.Pattern] = {name: re.compile(p, re.IGNORECASE) for name, p in {
    "count_times": rf"\b{_CONTACT}\s+(?:\w+\s+){{0,4}}{_COUNT}\s+{_TIMES}\b",
    "times_contact": rf"\b{_COUNT}\s+{_TIMES}\s+(?:\w+\s+){{0,3}}{_CONTACT}",
    "ordinal_time": rf"\b{_ORDINAL}\s+g[åa]ngen\s+(?:\w+\s+){{0,3}}{_CONTACT}|"
                    rf"\b{_ORDINAL}\s+(?:mejlet|mailet|samtalet|brevet|påminnelsen|besöket|meddelandet|"
                    r"synpunkten)\b",
    "after_calls": rf"\befter\s+{_COUNT}\s+(?:samtal|mejl|mail|påminnelser|försök|besök|telefonsamtal)",
    "again": rf"\b{_CONTACT}\s+(?:\w+\s+){{0,3}}(?:igen|återigen|ännu\s+en\s+gång|en\s+gång\s+till)\b",
    "repeatedly": r"\b(?:upprepade\s+(?:gånger|frågor|mejl|mail|samtal|kontakter|förfrågningar|påpekanden|"
                  r"anmälningar|felanmälningar)|gång\s+på\s+gång|flera\s+gånger|vid\s+flera\s+tillfällen|"
                  r"ringer\s+(?:och|å)\s+ringer|om\s+och\s+om\s+igen)",
    "reminders": r"\b(?:påminn\w*|påminde|påmint|påstötning\w*|jaga[tr]?|tjata[tr]?|tjatat)\b",
    "no_callback": r"\b(?:ingen|aldrig|inte)\s+(?:\w+\s+){0,3}(?:ringer|ringde|ringt|hör|hörde|hört|"
                   r"återkom\w*|svarar|svarade|svarat)\s+(?:\w+\s+){0,2}(?:tillbaka|av\s+sig|upp)|"
                   # a requested or booked call back that never came
                   r"\b(?:blev|blir)\s+(?:\w+\s+)?aldrig\s+uppringd|\båteruppringning\w*\s+(?:\w+\s+){0,3}"
                   r"(?:kom\s+)?(?:aldrig|inte)",
    "promised": r"\b(?:lovade|lovat|utlovade?|skulle)\s+(?:\w+\s+){0,4}(?:ringa|återkomma|höra\s+av|svara|"
                r"skicka|komma)\b|\b(?:höra\s+av\s+sig|ringa\s+upp|ringa\s+tillbaka|återkomma)\s+som\s+"
                r"(?:hon|han|hen|ni|de|dom)\s+(?:sa|sagt|lovade|lovat)\b|"
                # a promised reply, decision or document: "lovade ett svar inom två veckor", "löfte om en tid"
                r"\b(?:lovade|lovat|utlovade?|utlovat)\s+(?:\w+\s+){0,3}(?:svar|besked|beslut|återkoppling|"
                r"återbesked|besök|rapport\w*|protokoll\w*|intyg\w*)\b|\blöfte\s+om\b|\blovar\s+bättring",
    "referred": r"\b(?:hänvisa\w*|runtskickad\w*|skickad\w*\s+runt|bollad\w*|bollas|fick\s+höra\s+att\s+jag\s+"
                r"skulle\s+(?:ringa|mejla|kontakta)|fick\s+komma\s+tillbaka)|"
                # bounced between authorities, or made to contact again: "regionens ansvar", "fick ringa också"
                r"\b(?:regionens|kommunens|skolans)\s+(?:ansvar|sak|bord)\b[^.!?]{0,80}"
                r"\b(?:regionens|kommunens|skolans)\b|"
                r"\bfick\s+(?:\w+\s+)?(?:ringa|mejla|maila|åka\s+(?:in|dit|tillbaka)|gå\s+dit|"
                r"boka\s+(?:ett\s+)?nytt)\b",
    "still_no_answer": r"\b(?:fortfarande|ännu)\s+(?:\w+\s+){0,2}(?:inget|inte\s+fått|inte\s+hört|inget\s+svar)",
    "start_over": r"\b(?:börja\s+om|börjar\s+om|berätta\s+allt\s+igen|från\s+början\s+igen)",
    "finally_reached": r"\b(?:slutligen|äntligen|till\s+slut)\s+(?:\w+\s+){0,2}(?:kom\s+fram|fick\s+tag|"
                       r"svarade)|\bnär\s+(?:jag|man|vi)\s+(?:\w+\s+)?väl\s+(?:når|nådde|kommer\s+fram|kom\s+fram|"
                       r"får\s+tag|fick\s+tag)",
    "tried_reach": r"\bförsökt\s+(?:\w+\s+){0,2}(?:nå|få\s+tag|komma\s+fram|ringa|kontakta)|"
                   r"\b(?:alltid|jämt|ständigt|hela\s+tiden)\s+upptaget\b|\bupptaget\s+(?:varje|hela)\b",
    "count_messages": rf"\b{_COUNT}\s+(?:e-?postmeddelanden|mejl|mail|meddelanden|samtal|brev|stycken|"
                      r"påminnelser|felanmälningar|anmälningar)\b",
    "occasions": r"\bvid\s+(?:två|tre|fyra|flera|upprepade|ett\s+flertal)\s+tillfällen|\bupprepade\s+kontakter",
    "contact_list": rf"\b{_CONTACT},\s+{_CONTACT}",
    "different_answers": r"\b(?:olika|motstridiga|nya)\s+(?:svar|besked)\b|"
                         r"\bförst\s+(?:\w+\s+){0,4}(?:ja|nej)\b,?\s+(?:sen|sedan|och\s+sen)\s+"
                         r"(?:\w+\s+){0,3}(?:ja|nej)\b",
    "raised_before": r"\b(?:påtalat|anmält|felanmält|framfört|sagt)\s+(?:\w+\s+){0,2}(?:tidigare|förut|redan)|"
                     r"\bredan\s+(?:anmält|ringt|mejlat|felanmält|skrivit|skickat)|"
                     r"\bförsta\s+gången\s+(?:jag|vi)\b|"
                     # an earlier message or case referred to: "som jag skrev i mars", "mitt förra mejl"
                     r"\bsom\s+(?:jag|vi)\s+(?:redan\s+|tidigare\s+)?(?:skrev|skrivit|sa|sagt|nämnde|nämnt|"
                     r"påpekade|påpekat|berättade|berättat|mejlade|frågade)\s+(?!ovan|nedan|här)|"
                     r"\b(?:mitt|mina|vårt|våra)\s+(?:förra|tidigare|senaste)\s+(?:mejl|mail|samtal|brev|"
                     r"meddelande\w*|ärende\w*|anmälan|e-?post\w*)|"
                     r"\b(?:sedan|sen|efter|vid|i)\s+(?:förra|senaste|förrförra)\s+(?:samtalet|mejlet|mailet|besöket|"
                     r"kontakten)|\b(?:samma|tidigare|förra)\s+ärende\w*",
    "said_before": r"\b(?:sa|sagt|lovade)\s+(?:\w+\s+){0,3}(?:förra|också|sen\s+\d{4})",
    "times_any": rf"\b{_COUNT}\s+{_TIMES}\b",
    "no_reply": r"\butan\s+att\s+(?:få|bli)\s+(?:\w+\s+)?(?:svar|uppringd|återkoppling)|\bnoll\s+svar|"
                r"\bvi\s+återkommer\b|\bett\s+till\s+mejl",
    "english": r"\b(?:calls?\s+back|twice|(?:two|three|four|several|many)\s+times|again\s+and\s+again|"
               r"followed\s+up|chased|reminders?|still\s+no\s+(?:reply|answer|response)|"
               r"(?:called|emailed|e-mailed|wrote|written|phoned|contacted)\s+(?:\w+\s+){0,3}again|"
               r"every\s+(?:single\s+)?time\s+(?:I|we)\s+(?:call|ring|phone|email|e-mail|write|try|ask|contact)|"
               r"(?:busy|engaged)\s+(?:\w+\s+){0,3}every\s+(?:single\s+)?time|"
               r"tried\s+(?:\w+\s+){0,2}(?:for\s+(?:a\s+)?(?:week|weeks|days|month)|"
               r"to\s+(?:reach|call|contact|get\s+through))|(?:never|nobody|no\s+one)\s+(?:\w+\s+)?(?:called|rang|"
               r"got|wrote)\s+(?:me\s+)?back|promised\s+to\s+(?:call|ring|reply|get\s+back|send|email)|"
               r"(?:second|third|fourth|fifth)\s+(?:time|email|e-mail|call|letter|reminder)|"
               r"had\s+to\s+(?:call|email|write|go|come)\s+(?:\w+\s+){0,2}(?:again|back))\b",
    "no_return": r"\b(?:ingen|inte|aldrig)\s+(?:\w+\s+){0,2}återkomm\w*|\båterkom\w*\s+aldrig\b",
    "still_waiting": r"\bväntar\s+(?:\w+\s+)?(?:fortfarande|än|ännu)\b|"
                     r"\b(?:fortfarande|ännu)\s+(?:\w+\s+){0,2}väntar\b",
    "my_contacts": r"\b(?:mina|våra)\s+(?:mejl|mail|samtal|meddelanden|brev|påminnelser|anmälningar|felanmälningar|"
                   r"frågor|synpunkter)\b",
    "every_time": rf"\bvarje\s+gång\s+(?:jag|man|vi)\s+(?:\w+\s+)?{_CONTACT}|\bsamma\s+(?:svar|besked|visa|fras|"
                  r"standardsvar|automatsvar)\s+(?:\w+\s+){0,2}(?:varje|varenda|igen)",
    "time_passed": r"\bnu\s+är\s+det\s+(?:höst|vinter|vår|sommar|jul|januari|februari|mars|april|maj|juni|juli|"
                   r"augusti|september|oktober|november|december)\b",
    "future_only": r"\b(?:jag|vi)\s+(?:ringer|hör\s+av\s+mig|återkommer)\s+(?:\w+\s+){0,2}(?:igen\s+)?om\b",
}.items()}
"""Cue name -> pattern. ``future_only`` ("jag ringer igen om ...") is a counter-cue the head learns to weigh down."""


_CONTACT_RE = re.compile(rf"\b{_CONTACT}", re.IGNORECASE)
N_FEATURES = len(CUES) + 1


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """(n, N_FEATURES) matrix: which cues occur in each text (0/1), and whether contact words occur twice or more
    ("ringde i maj ... ringde i juni") (pure)."""
    return np.array([[1.0 if p.search(t or "") else 0.0 for p in CUES.values()]
                     + [1.0 if len(_CONTACT_RE.findall(t or "")) >= 2 else 0.0] for t in texts], dtype=np.float32)
