"""Annual reports: the queries, statistics, figures and text behind ``reports/annual_report.ipynb``, and the
headless rendering of that notebook (papermill -> HTML with the code hidden -> PDF with headless Chromium).

The notebook stays thin: it opens a :class:`Report` (one year, one municipality or the whole warehouse, one
language) and shows the sections built here. Everything is read from the published, read-only warehouse
(redacted text only). Every comment shown is HTML-escaped, so no comment can inject markup, and every UI string
lives in :data:`STRINGS`, one dict per language.

Layers, each usable on its own:

* queries: pure functions ``f(con, year, code) -> DataFrame`` over the analysts' views;
* statistics: Wilson and net-score intervals, the z-test for a change in net score, chi-square, Welch t;
* figures: functions returning matplotlib ``Figure`` objects (never pyplot state), in a colour-blind-safe palette;
* sections: HTML fragments for the notebook (``section_*``);
* rendering: :func:`render_report` (one report) and :func:`write_index` (the folder's index.html).
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import logging
import math
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt import config
from synpunkt.labels import SENTIMENT_LABELS_SV, SENTIMENTS, TOPIC_LABELS_EN, TOPIC_LABELS_SV, TOPICS, prob_column

log = logging.getLogger(__name__)

NOTEBOOK = config.PROJECT_ROOT / "reports" / "annual_report.ipynb"
"""The parameterised report notebook (parameters: year, municipality, lang, warehouse, model_dir)."""

Z95 = 1.96  # the same z as the warehouse's Wilson and net-score macros (synpunkt/sql/schema.sql)
ALPHA = 0.05
MIN_GROUP = 5
"""Smallest group shown in the equal-treatment and channel comparisons (also so that no tiny group stands out)."""
QUOTES_PER_GROUP = 2
QUOTE_MAX_CHARS = 360
RANKING_CHUNK = 40
"""At most this many municipalities per ranking plot (more are split over several plots)."""

GENDER_KEYS = ("kön", "kon", "gender", "handläggare_kön", "handlaggare_kon", "handläggarens_kön",
               "kön_handläggare", "handler_gender", "sex")
DURATION_KEYS = ("samtalstid", "samtalstid_min", "samtalstid_minuter", "samtalslängd", "duration", "duration_min",
                 "call_duration", "call_duration_min")
MISSING_VALUES = {"", "okänt", "okänd", "ok\u00e4nt", "unknown", "uppgift saknas", "saknas", "-", "na", "n/a", "nan",
                  "null", "none", "vill ej uppge"}

# -- palette: Okabe-Ito (colour-blind safe); text on a colour uses black or white, whichever contrasts more ----
COLORS = {"positive": "#0072B2", "skeptical": "#E69F00", "negative": "#D55E00"}
TEXT_COLORS = {"positive": "#005A8C", "skeptical": "#8A5A00", "negative": "#A33F00"}  # >= 4.5:1 on white
SERIES = {"self": "#000000", "peers": "#CC79A7", "national": "#6E6E6E", "other": "#6E6E6E"}
MUTED = "#6E6E6E"
GRID = "#E3E3E3"
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 11, "axes.titlesize": 12, "axes.titleweight": "bold",
    "axes.labelsize": 11, "xtick.labelsize": 10.5, "ytick.labelsize": 11, "legend.fontsize": 10.5,
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#444444", "axes.labelcolor": "#222222",
    "xtick.color": "#333333", "ytick.color": "#333333", "text.color": "#222222", "figure.facecolor": "white",
    "axes.titlelocation": "left",
    "text.parse_math": False,  # text from data ("$\\macro$") is shown as written, never parsed as math
}
FIG_WIDTH = 10.5
FIG_DPI = 110

# -- every UI string, one dict per language --------------------------------------------------------------------
STRINGS: dict[str, dict] = {
    "sv": {
        "topics": {"all": "Alla synpunkter", **TOPIC_LABELS_SV},
        "sentiments": {s: SENTIMENT_LABELS_SV[s].capitalize() for s in SENTIMENTS},
        "sentiments_plural": {"positive": "positiva", "skeptical": "skeptiska", "negative": "negativa"},
        "channels": {"telefon": "Telefon", "e-post": "E-post", "chatt": "Chatt", "besök": "Besök",
                     None: "Kanal saknas"},
        "national_name": "alla kommuner",
        "title_municipality": "Synpunkter {year}: {name}",
        "title_national": "Synpunkter {year}: alla kommuner",
        "subtitle_municipality": "Årsrapport om vad medborgarna har sagt till {name} ({county}) under {year}, "
                                 "klassat som positivt, skeptiskt eller negativt och efter område.",
        "subtitle_national": "Årsrapport om vad medborgarna har sagt till de {k} kommuner som lämnar synpunkter "
                             "till Synpunkt, {year}, klassat som positivt, skeptiskt eller negativt och efter område.",
        "keyfigures": "{n} synpunkter under {year}: {pos} positiva, {skep} skeptiska och {neg} negativa. "
                      "Nettotal {net} (95&nbsp;%&nbsp;KI {lo} till {hi}).",
        "keyfigures_change": "Jämfört med {prev}: {change} procentenheter{mark}.",
        "net_explained": "<b>Nettotal</b> = andelen positiva minus andelen negativa, i procentenheter (från −100 "
                         "till +100). Streck och band visar 95&nbsp;%&nbsp;konfidensintervall: med fler "
                         "synpunkter blir de smalare.",
        "not_tested": "för få för test",
        "sig_up": "statistiskt säkerställd ökning", "sig_down": "statistiskt säkerställd minskning",
        "not_sig": "ingen säkerställd förändring",
        "h_year": "Året i en bild", "h_trends": "Utveckling över tid", "h_benchmark": "Jämförelse",
        "h_channels": "Kanaler", "h_equal": "Likabehandling", "h_quotes": "Vad medborgarna säger",
        "h_method": "Metod och kvalitet",
        "year_intro": "Andelen positiva, skeptiska och negativa synpunkter {year}, för alla synpunkter och per "
                      "område. En synpunkt kan handla om flera områden; för ett område räknas inställningen till "
                      "just det området.",
        "year_alt": "Liggande staplar: andel positiva, skeptiska och negativa synpunkter per område {year}, "
                    "med antal och nettotal.",
        "col_topic": "Område", "col_n": "Antal", "col_net": "Nettotal (95 % KI)", "col_net_short": "Nettotal",
        "share_axis": "Andel av synpunkterna", "net_axis": "Nettotal",
        "no_data_year": "Det finns inga klassade synpunkter för {year} i lagret.",
        "trend_intro": "Nettotal per område för alla år i lagret ({first}–{last}), med 95&nbsp;%&nbsp;"
                       "konfidensintervall.",
        "trend_alt": "Linjediagram: nettotal per område och år med konfidensintervall.",
        "share_trend_intro": "Andelen positiva, skeptiska och negativa bland alla synpunkter, år för år.",
        "share_trend_alt": "Linjediagram: andel positiva, skeptiska och negativa synpunkter per år med band för "
                           "konfidensintervallen.",
        "one_year_only": "Lagret har bara synpunkter från {year}; utvecklingen över tid visas när det finns minst "
                         "två år.",
        "no_prev_year": "Det finns inga synpunkter från {prev} att jämföra med.",
        "change_table_caption": "Förändring {prev} → {year}",
        "col_pos_prev_now": "Andel positiva {prev} → {year}", "col_net_prev": "Nettotal {prev}",
        "col_net_now": "Nettotal {year}", "col_change": "Förändring", "col_p": "p-värde", "col_sig": "",
        "change_test": "Förändringen prövas med ett <b>z-test för skillnaden mellan två nettotal</b> från oberoende "
                       "urval, byggt som ett tvåprovs-z-test för andelar: variansen skattas under nollhypotesen ur "
                       "båda årens sammanslagna fördelning av positiva, skeptiska och negativa (tvåsidigt, "
                       "5&nbsp;%&nbsp;nivå; inget test när ett år har färre än {min_n} synpunkter). ▲/▼ i fetstil = "
                       "statistiskt säkerställd ökning/minskning. Testet görs för varje område utan korrektion för "
                       "flera jämförelser, så en enstaka markering kan vara ett slumpfynd.",
        "bench_intro": "{name} jämfört med alla kommuner i lagret (riket) och med övriga kommuner i {county} "
                       "({peers}), {year}.",
        "bench_intro_nopeers": "{name} jämfört med alla kommuner i lagret (riket), {year}. Ingen annan kommun i "
                               "{county} har synpunkter i lagret för {year}, så länsjämförelsen utgår.",
        "bench_alt": "Punktdiagram: nettotal per område för kommunen, länet och riket med konfidensintervall.",
        "bench_self": "{name}", "bench_peers": "Övriga i {county}", "bench_national": "Riket (alla kommuner)",
        "bench_test": "Kolumnen <i>mot övriga landet</i> prövar skillnaden mellan {name} och alla andra kommuner i "
                      "lagret med samma z-test som ovan (tvåsidigt, 5&nbsp;%&nbsp;nivå).",
        "col_self": "{name}", "col_peers": "Övriga i länet", "col_national": "Riket",
        "col_vs_rest": "Mot övriga landet",
        "rank_intro": "Alla kommuner rangordnade efter nettotal för alla synpunkter {year}, med 95&nbsp;%&nbsp;"
                      "konfidensintervall. Den streckade linjen är riket. Kommuner vars intervall överlappar "
                      "kan inte säkert skiljas åt.",
        "rank_intro_municipality": "{name} (svart) bland kommunerna i lagret, rangordnade efter nettotal "
                                   "{year}{peers}. {name} har plats {rank} av {total}.",
        "rank_peers_note": "; övriga kommuner i samma län i lila",
        "rank_alt": "Punktdiagram: kommunerna rangordnade efter nettotal med konfidensintervall.",
        "rank_part": "plats {first}–{last}",
        "national_line": "Riket",
        "topic_table_caption": "Nettotal per område och kommun {year} (antal synpunkter inom parentes)",
        "col_municipality": "Kommun",
        "channels_intro": "Synpunkterna {year} efter kanal. Skillnaden mellan kanalerna prövas med ett "
                          "chi-två-test på fördelningen positiv/skeptisk/negativ: {test}.",
        "channels_alt": "Liggande staplar: andel positiva, skeptiska och negativa synpunkter per kanal.",
        "no_channels": "Synpunkterna för {year} saknar uppgift om kanal (telefon, e-post, chatt, besök), så "
                       "kanalerna kan inte jämföras.",
        "one_channel": "Alla synpunkter med känd kanal {year} kom via {channel}, så kanalerna kan inte jämföras.",
        "equal_intro": "Får alla samma bemötande? Jämförelsen bygger på fält i de metadata som kommunen skickade "
                       "med synpunkterna.",
        "equal_absent": "Synpunkterna för {year} har inga metadata om kön (fält som <i>kön</i> eller "
                        "<i>handläggare_kön</i>) eller samtalstid (fält som <i>samtalstid_min</i>), så "
                        "likabehandlingen kan inte jämföras i den här rapporten.",
        "equal_gender_intro": "Inställning efter <b>{field}</b> (fältet <i>{key}</i>), med 95&nbsp;%&nbsp;"
                              "konfidensintervall (Wilson).",
        "equal_gender_alt": "Punktdiagram: andel positiva, skeptiska och negativa per grupp med "
                            "konfidensintervall.",
        "equal_chi2": "Chi-två-test av om fördelningen positiv/skeptisk/negativ skiljer sig mellan grupperna: "
                      "{test}.",
        "equal_missing": "{n} synpunkter utan uppgift (t.ex. ”okänt”) och grupper med färre än {min} synpunkter "
                         "ingår inte.",
        "equal_no_gender": "Metadata saknar uppgift om kön, så inställningen kan inte jämföras mellan könen.",
        "equal_too_few": "För få synpunkter med uppgift om {field} (minst två grupper med {min} eller fler behövs) "
                         "för en jämförelse.",
        "gender_field": "kön",
        "group_values": {"kvinna": "Kvinna", "man": "Man", "annat": "Annat", "woman": "Kvinna", "female": "Kvinna",
                         "male": "Man", "other": "Annat", "k": "Kvinna", "m": "Man"},
        "duration_field": "samtalstid",
        "equal_duration_intro": "Genomsnittlig <b>samtalstid</b> (fältet <i>{key}</i>, minuter) med 95&nbsp;%&nbsp;"
                                "konfidensintervall (t-fördelning), {n} samtal.",
        "equal_duration_alt": "Punktdiagram: genomsnittlig samtalstid per grupp med konfidensintervall.",
        "duration_axis": "Genomsnittlig samtalstid (minuter)",
        "duration_by_gender": "Efter kön", "duration_by_sentiment": "Efter inställning",
        "welch": "Welch t-test mellan {a} och {b}: t = {t}, df = {df}, {p}",
        "kruskal": "Kruskal–Wallis-test mellan grupperna: H = {h}, {p}",
        "duration_none": "Metadata saknar samtalstid, så samtalslängden kan inte jämföras.",
        "significant": "statistiskt säkerställd skillnad", "not_significant": "ingen säkerställd skillnad",
        "low_expected": " (obs: några förväntade antal är under 5, så testet är ungefärligt)",
        "test_na": "testet kan inte beräknas",
        "quotes_intro": "Några typiska synpunkter per område och inställning {year}: de som modellen klassade med "
                        "störst säkerhet. Texten är redigerad: personuppgifter är ersatta med markeringar som "
                        "[NAMN] och [TELEFON].",
        "quotes_none": "Inga synpunkter att visa för {year}.",
        "quotes_empty": "inga synpunkter",
        "quote_source_national": "{municipality}, {channel}",
        "method_intro": "Varje synpunkt klassas av en språkmodell som positiv, skeptisk eller negativ, och efter "
                        "vilka områden den handlar om. Andelarna är andelen synpunkter, inte andelen medborgare.",
        "m_model": "Modell", "m_sentiment_f1": "Inställning: makro-F1 på testdata",
        "m_topic_f1": "Områden: mikro-F1 på testdata",
        "m_eval_note": "Testdata: {n} synpunkter ur projektets egen testdelmängd (in-domain), utvärderade {date}; "
                       "hela utvärderingen finns i modellkortet ({path}).",
        "m_target": "mål {target}: {met}",
        "m_met": "uppnått", "m_not_met": "ej uppnått",
        "small_n_note": "Värden i grått bygger på färre än {min_n} synpunkter och är mycket osäkra.",
        "m_topic_caveat": "Områdesklassningen är mindre säker än klassningen av inställning; läs andelarna per "
                          "område med det i åtanke.",
        "m_no_eval": "Modellens utvärdering (evaluation.json) hittades inte i {path}.",
        "m_eval_other": "Obs: utvärderingen gäller {eval_version}; lagret är klassat med {version}.",
        "m_comments": "Synpunkter i rapporten ({year})", "m_comments_all": "Synpunkter i lagret, alla år",
        "m_batches": "Inlämnade filer (alla år)", "m_rows": "Rader mottagna / godkända / i karantän",
        "m_failed": "Filer som inte kunde läsas", "m_reasons": "Skäl till karantän",
        "m_data_as_of": "Data senast uppdaterade", "m_generated": "Rapporten skapad",
        "m_reproduce": "Skapa rapporten igen", "m_warehouse": "Lager",
        "m_reproduce_note": "Samma kommando med samma publicerade lager ger samma siffror.",
        "m_reproduce_all": "Kommandot skapar riksrapporten och rapporterna för alla kommuner med synpunkter {year}; "
                           "samma kommando med samma publicerade lager ger samma siffror.",
        "m_none": "–",
        "reasons": {"empty_text": "tom kommentar", "invalid_date": "ogiltigt datum", "missing_date": "datum saknas",
                    "future_date": "datum i framtiden", "duplicate_in_batch": "dubblett i filen",
                    "duplicate_stored": "redan inläst"},
        "index_title": "Synpunkter {year}: årsrapporter",
        "index_intro": "Rapporter skapade {generated} ur {warehouse}.",
        "index_report": "Rapport", "index_lang": "Språk", "index_national": "Alla kommuner (riket)",
        "fig_label": "Figur",
        "and": "och",
        "test_result": "χ² = {chi2}, df = {dof}, {p}",
    },
    "en": {
        "topics": {"all": "All comments", **TOPIC_LABELS_EN},
        "sentiments": {"positive": "Positive", "skeptical": "Skeptical", "negative": "Negative"},
        "sentiments_plural": {"positive": "positive", "skeptical": "skeptical", "negative": "negative"},
        "channels": {"telefon": "Phone", "e-post": "E-mail", "chatt": "Chat", "besök": "Visit",
                     None: "No channel given"},
        "national_name": "all municipalities",
        "title_municipality": "Citizen comments {year}: {name}",
        "title_national": "Citizen comments {year}: all municipalities",
        "subtitle_municipality": "Annual report on what citizens told {name} ({county}) in {year}, classified as "
                                 "positive, skeptical or negative and by area.",
        "subtitle_national": "Annual report on what citizens told the {k} municipalities that send their comments "
                             "to Synpunkt, {year}, classified as positive, skeptical or negative and by area.",
        "keyfigures": "{n} comments in {year}: {pos} positive, {skep} skeptical and {neg} negative. "
                      "Net score {net} (95% CI {lo} to {hi}).",
        "keyfigures_change": "Compared with {prev}: {change} percentage points{mark}.",
        "net_explained": "<b>Net score</b> = the share of positive minus the share of negative comments, in "
                         "percentage points (from −100 to +100). Whiskers and bands show 95% confidence "
                         "intervals: the more comments, the narrower they are.",
        "not_tested": "too few to test",
        "sig_up": "statistically significant increase", "sig_down": "statistically significant decrease",
        "not_sig": "no significant change",
        "h_year": "The year at a glance", "h_trends": "Trends", "h_benchmark": "Benchmark",
        "h_channels": "Channels", "h_equal": "Equal treatment", "h_quotes": "What citizens say",
        "h_method": "Method and quality",
        "year_intro": "The shares of positive, skeptical and negative comments in {year}, for all comments and per "
                      "area. A comment can be about several areas; for an area, the sentiment towards that area "
                      "counts.",
        "year_alt": "Horizontal bars: share of positive, skeptical and negative comments per area in {year}, with "
                    "counts and net scores.",
        "col_topic": "Area", "col_n": "n", "col_net": "Net score (95% CI)", "col_net_short": "Net score",
        "share_axis": "Share of comments", "net_axis": "Net score",
        "no_data_year": "There are no classified comments for {year} in the warehouse.",
        "trend_intro": "Net score per area for every year in the warehouse ({first}–{last}), with 95% confidence "
                       "intervals.",
        "trend_alt": "Line charts: net score per area and year with confidence intervals.",
        "share_trend_intro": "The shares of positive, skeptical and negative comments among all comments, year by "
                             "year.",
        "share_trend_alt": "Line chart: share of positive, skeptical and negative comments per year with "
                           "confidence bands.",
        "one_year_only": "The warehouse only has comments from {year}; trends are shown once there are at least "
                         "two years.",
        "no_prev_year": "There are no comments from {prev} to compare with.",
        "change_table_caption": "Change {prev} → {year}",
        "col_pos_prev_now": "Share positive {prev} → {year}", "col_net_prev": "Net score {prev}",
        "col_net_now": "Net score {year}", "col_change": "Change", "col_p": "p-value", "col_sig": "",
        "change_test": "Changes are tested with a <b>z-test for the difference between two net scores</b> from "
                       "independent samples, built like the two-proportion z-test: the variance is estimated under "
                       "the null hypothesis from both years' pooled distribution of positive, skeptical and negative "
                       "comments (two-sided, 5% level; no test when a year has fewer than {min_n} comments). ▲/▼ in "
                       "bold = statistically significant increase/decrease. Each area is tested without a correction "
                       "for multiple comparisons, so a single mark may be a chance finding.",
        "bench_intro": "{name} compared with all municipalities in the warehouse (national) and with the other "
                       "municipalities in {county} ({peers}), {year}.",
        "bench_intro_nopeers": "{name} compared with all municipalities in the warehouse (national), {year}. No "
                               "other municipality in {county} has comments in the warehouse for {year}, so there "
                               "is no county comparison.",
        "bench_alt": "Dot plot: net score per area for the municipality, the county and the country with "
                     "confidence intervals.",
        "bench_self": "{name}", "bench_peers": "Others in {county}", "bench_national": "National (all municipalities)",
        "bench_test": "The column <i>vs rest of country</i> tests the difference between {name} and all other "
                      "municipalities in the warehouse with the same z-test as above (two-sided, 5% level).",
        "col_self": "{name}", "col_peers": "Others in county", "col_national": "National",
        "col_vs_rest": "vs rest of country",
        "rank_intro": "All municipalities ranked by the net score of all comments in {year}, with 95% confidence "
                      "intervals. The dashed line is the national figure. Municipalities whose intervals overlap "
                      "cannot be told apart with confidence.",
        "rank_intro_municipality": "{name} (black) among the municipalities in the warehouse, ranked by net score "
                                   "in {year}{peers}. {name} ranks {rank} of {total}.",
        "rank_peers_note": "; the other municipalities in the same county in purple",
        "rank_alt": "Dot plot: municipalities ranked by net score with confidence intervals.",
        "rank_part": "ranks {first}–{last}",
        "national_line": "National",
        "topic_table_caption": "Net score per area and municipality, {year} (number of comments in brackets)",
        "col_municipality": "Municipality",
        "channels_intro": "Comments in {year} by channel. The difference between channels is tested with a "
                          "chi-square test on the positive/skeptical/negative distribution: {test}.",
        "channels_alt": "Horizontal bars: share of positive, skeptical and negative comments per channel.",
        "no_channels": "The comments for {year} carry no channel (phone, e-mail, chat, visit), so channels cannot "
                       "be compared.",
        "one_channel": "All comments with a known channel in {year} came by {channel}, so channels cannot be "
                       "compared.",
        "equal_intro": "Is everyone treated alike? The comparison uses fields in the metadata the municipality sent "
                       "with its comments.",
        "equal_absent": "The comments for {year} have no metadata on gender (fields such as <i>kön</i> or "
                        "<i>handläggare_kön</i>) or call duration (fields such as <i>samtalstid_min</i>), so equal "
                        "treatment cannot be compared in this report.",
        "equal_gender_intro": "Sentiment by <b>{field}</b> (field <i>{key}</i>), with 95% confidence intervals "
                              "(Wilson).",
        "equal_gender_alt": "Dot plot: share of positive, skeptical and negative comments per group with "
                            "confidence intervals.",
        "equal_chi2": "Chi-square test of whether the positive/skeptical/negative distribution differs between the "
                      "groups: {test}.",
        "equal_missing": "{n} comments without a value (e.g. “okänt”) and groups of fewer than {min} comments are "
                         "left out.",
        "equal_no_gender": "The metadata has no gender field, so sentiment cannot be compared between genders.",
        "equal_too_few": "Too few comments with a {field} value (at least two groups of {min} or more are needed) "
                         "for a comparison.",
        "gender_field": "gender",
        "group_values": {"kvinna": "Woman", "man": "Man", "annat": "Other", "woman": "Woman", "female": "Woman",
                         "male": "Man", "other": "Other", "k": "Woman", "m": "Man"},
        "duration_field": "call duration",
        "equal_duration_intro": "Mean <b>call duration</b> (field <i>{key}</i>, minutes) with 95% confidence "
                                "intervals (t distribution), {n} calls.",
        "equal_duration_alt": "Dot plot: mean call duration per group with confidence intervals.",
        "duration_axis": "Mean call duration (minutes)",
        "duration_by_gender": "By gender", "duration_by_sentiment": "By sentiment",
        "welch": "Welch t-test between {a} and {b}: t = {t}, df = {df}, {p}",
        "kruskal": "Kruskal–Wallis test between the groups: H = {h}, {p}",
        "duration_none": "The metadata has no call duration, so call lengths cannot be compared.",
        "significant": "statistically significant difference", "not_significant": "no significant difference",
        "low_expected": " (note: some expected counts are below 5, so the test is approximate)",
        "test_na": "the test cannot be computed",
        "quotes_intro": "A few typical comments per area and sentiment in {year}: those the model classified with "
                        "the highest confidence. The text is redacted: personal data is replaced by markers such as "
                        "[NAMN] (name) and [TELEFON] (phone). Comments are shown in the original Swedish.",
        "quotes_none": "No comments to show for {year}.",
        "quotes_empty": "no comments",
        "quote_source_national": "{municipality}, {channel}",
        "method_intro": "Each comment is classified by a language model as positive, skeptical or negative, and by "
                        "the areas it is about. Shares are shares of comments, not of citizens.",
        "m_model": "Model", "m_sentiment_f1": "Sentiment: macro-F1 on test data",
        "m_topic_f1": "Areas: micro-F1 on test data",
        "m_eval_note": "Test data: {n} comments from the project's own held-out test split (in-domain), evaluated "
                       "{date}; the full evaluation is in the model card ({path}).",
        "m_target": "target {target}: {met}",
        "m_met": "met", "m_not_met": "not met",
        "small_n_note": "Values in grey rest on fewer than {min_n} comments and are very uncertain.",
        "m_topic_caveat": "The area classification is less certain than the sentiment classification; read the "
                          "per-area shares with that in mind.",
        "m_no_eval": "The model's evaluation (evaluation.json) was not found in {path}.",
        "m_eval_other": "Note: the evaluation is for {eval_version}; the warehouse was classified with {version}.",
        "m_comments": "Comments in this report ({year})", "m_comments_all": "Comments in the warehouse, all years",
        "m_batches": "Files submitted (all years)", "m_rows": "Rows received / accepted / quarantined",
        "m_failed": "Files that could not be read", "m_reasons": "Reasons for quarantine",
        "m_data_as_of": "Data last updated", "m_generated": "Report generated",
        "m_reproduce": "Reproduce this report", "m_warehouse": "Warehouse",
        "m_reproduce_note": "The same command on the same published warehouse gives the same figures.",
        "m_reproduce_all": "The command renders the national report and the reports of every municipality with "
                           "comments in {year}; the same command on the same published warehouse gives the same "
                           "figures.",
        "m_none": "–",
        "reasons": {"empty_text": "empty comment", "invalid_date": "invalid date", "missing_date": "missing date",
                    "future_date": "date in the future", "duplicate_in_batch": "duplicate in file",
                    "duplicate_stored": "already stored"},
        "index_title": "Citizen comments {year}: annual reports",
        "index_intro": "Reports generated {generated} from {warehouse}.",
        "index_report": "Report", "index_lang": "Language", "index_national": "All municipalities (national)",
        "fig_label": "Figure",
        "and": "and",
        "test_result": "χ² = {chi2}, df = {dof}, {p}",
    },
}
LANGUAGES = tuple(STRINGS)


def strings(lang: str) -> dict:
    """The UI strings of a language; raises ValueError for an unsupported one."""
    if lang not in STRINGS:
        raise ValueError(f"unsupported report language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return STRINGS[lang]


# -- number formatting ------------------------------------------------------------------------------------------
MINUS = "\u2212"
NBSP = "\u00a0"


def fmt_num(x: float | None, digits: int = 0, lang: str = "sv") -> str:
    """A number with the language's decimal mark and thousands separator (sv: 1 234,5; en: 1,234.5)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    value = round(float(x), digits)
    text = f"{abs(value):,.{digits}f}"
    if lang == "sv":
        text = text.replace(",", NBSP).replace(".", ",")
    return (MINUS if value < 0 else "") + text


def fmt_int(n: int | float | None, lang: str = "sv") -> str:
    return fmt_num(None if n is None else float(n), 0, lang)


def fmt_pct(share: float | None, lang: str = "sv", digits: int = 0) -> str:
    """A share (0-1) as a percentage: 58 % (sv, non-breaking space) or 58% (en)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return fmt_num(100 * share, digits, lang) + (NBSP + "%" if lang == "sv" else "%")


def fmt_signed(x: float | None, lang: str = "sv", digits: int = 0) -> str:
    """A net score or change with its sign: +35, −12, 0."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    value = round(float(x), digits)
    text = fmt_num(value, digits, lang)
    return "+" + text if value > 0 else text


def fmt_p(p: float | None, lang: str = "sv") -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p = –"
    if p < 0.001:
        return "p < " + fmt_num(0.001, 3, lang)
    return "p = " + fmt_num(p, 3 if p < 0.01 else 2, lang)


def fmt_interval(lo: float | None, hi: float | None, lang: str = "sv") -> str:
    word = " till " if lang == "sv" else " to "
    return f"{fmt_signed(lo, lang)}{word}{fmt_signed(hi, lang)}"


def esc(value) -> str:
    """HTML-escape anything shown in a report (comments, names, metadata values)."""
    return html.escape("" if value is None else str(value), quote=True)


# -- statistics -------------------------------------------------------------------------------------------------
def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k/n (the warehouse's wilson_lo/wilson_hi)."""
    if not n:
        return (float("nan"), float("nan"))
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return ((centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n))


def net_score(pos: float, neg: float, n: float) -> tuple[float, float, float]:
    """Net score (percentage points) with its 95 % interval, as the warehouse's net_score macros compute it."""
    if not n:
        return (float("nan"),) * 3
    net = 100.0 * (pos - neg) / n
    half = 100.0 * Z95 * math.sqrt(max((pos + neg) / n - ((pos - neg) / n) ** 2, 0) / n)
    return net, net - half, net + half


MIN_TEST_N = 10
"""Smallest sample (per year or group) for which a change or difference in net score is tested."""


def net_change_test(pos1, neg1, n1, pos2, neg2, n2) -> tuple[float, float, float]:
    """Two-sided two-sample z-test for the difference between two independent net scores (sample 2 minus 1).

    Returns (difference in percentage points, z, p). The net score is p+ - p-, a difference of two proportions
    of one multinomial sample. As in the two-proportion z-test, the variance is estimated under the null
    hypothesis (both samples share p+ and p-) from the pooled counts: ((p+ + p-) - (p+ - p-)^2) (1/n1 + 1/n2).
    p is nan when either sample has fewer than MIN_TEST_N comments.
    """
    if not n1 or not n2:
        return (float("nan"),) * 3
    diff = (pos2 - neg2) / n2 - (pos1 - neg1) / n1
    if min(n1, n2) < MIN_TEST_N:
        return 100 * diff, float("nan"), float("nan")
    n = n1 + n2
    pos, neg = (pos1 + pos2) / n, (neg1 + neg2) / n
    var = max(pos + neg - (pos - neg) ** 2, 0.0) * (1 / n1 + 1 / n2)
    if var == 0:
        return 100 * diff, 0.0, 1.0  # every comment in both samples has the same sentiment: no difference
    z = diff / math.sqrt(var)
    return 100 * diff, z, math.erfc(abs(z) / math.sqrt(2))


def chi_square(table: np.ndarray | pd.DataFrame) -> dict | None:
    """Pearson chi-square test of independence on a groups x sentiments table (empty rows/columns dropped)."""
    from scipy.stats import chi2_contingency

    arr = np.asarray(table, dtype=float)
    arr = arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0] if arr.size else arr
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        return None
    chi2, p, dof, expected = chi2_contingency(arr, correction=False)
    return {"chi2": float(chi2), "p": float(p), "dof": int(dof), "min_expected": float(expected.min())}


def mean_ci(values) -> tuple[float, float, float]:
    """Mean with a t-based 95 % confidence interval."""
    from scipy.stats import t

    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return (float("nan"),) * 3
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    half = float(t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def welch_test(a, b) -> dict:
    """Welch's t-test (unequal variances), two-sided: t, Welch-Satterthwaite df, p."""
    from scipy.stats import ttest_ind

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    res = ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb > 0 else float("nan")
    return {"t": float(res.statistic), "df": float(df), "p": float(res.pvalue)}


def kruskal_test(groups: list) -> dict:
    from scipy.stats import kruskal

    res = kruskal(*[np.asarray(g, dtype=float) for g in groups])
    return {"h": float(res.statistic), "p": float(res.pvalue)}


def with_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Add shares, Wilson bounds and the net score with its interval to n / n_positive / ... counts."""
    df = counts.copy()
    for s in SENTIMENTS:
        k, n = df[f"n_{s}"].astype(float), df["n"].astype(float)
        df[f"share_{s}"] = np.where(n > 0, k / n.where(n > 0, 1), np.nan)
        bounds = [wilson(kk, nn) for kk, nn in zip(k, n)]
        df[f"share_{s}_lo"] = [b[0] for b in bounds]
        df[f"share_{s}_hi"] = [b[1] for b in bounds]
    nets = [net_score(p, q, n) for p, q, n in zip(df["n_positive"], df["n_negative"], df["n"])]
    df["net_score"] = [x[0] for x in nets]
    df["net_score_lo"] = [x[1] for x in nets]
    df["net_score_hi"] = [x[2] for x in nets]
    return _clip_net(df)


def _clip_net(df: pd.DataFrame) -> pd.DataFrame:
    """A net score lies in [-100, 100]; so does what is shown of its (normal-approximation) interval."""
    df["net_score_lo"] = df["net_score_lo"].astype(float).clip(lower=-100.0)
    df["net_score_hi"] = df["net_score_hi"].astype(float).clip(upper=100.0)
    return df


def _with_counts(df: pd.DataFrame) -> pd.DataFrame:
    """The views carry shares and n; recover the counts (exact: the shares are k/n). Net intervals are clipped."""
    df = _clip_net(df.copy())
    for s in SENTIMENTS:
        df[f"n_{s}"] = (df[f"share_{s}"].astype(float) * df["n"]).round().astype(int)
    df["n"] = df["n"].astype(int)
    return df


# -- queries (pure functions over the analysts' views) ---------------------------------------------------------
_SHARE_COLUMNS = ("n, share_positive, share_positive_lo, share_positive_hi, share_skeptical, share_skeptical_lo, "
                  "share_skeptical_hi, share_negative, share_negative_lo, share_negative_hi, net_score, "
                  "net_score_lo, net_score_hi")


def report_years(con) -> list[int]:
    """Years with classified comments."""
    return [int(r[0]) for r in con.execute(
        "SELECT DISTINCT year FROM national_shares WHERE topic = 'all' AND n > 0 ORDER BY year").fetchall()]


def current_model_version(con) -> str | None:
    rows = con.execute("SELECT model_version FROM current_model").fetchall()
    return rows[0][0] if rows else None


def municipalities_with_data(con, year: int) -> pd.DataFrame:
    """code, name, county, n for each municipality with classified comments in `year`."""
    return con.execute(
        "SELECT municipality_code AS code, municipality AS name, county, n FROM yearly_shares "
        "WHERE year = ? AND topic = 'all' AND n > 0 ORDER BY municipality", [year]).df()


def municipality_info(con, code: str) -> dict | None:
    rows = con.execute("SELECT code, name, county_code, county FROM municipalities WHERE code = ?", [code]).fetchall()
    return dict(zip(("code", "name", "county_code", "county"), rows[0])) if rows else None


def resolve_municipality(con, municipality: str | None) -> str | None:
    """A municipality code from a code ('0180', '180') or a name ('Stockholm'); None stays None (national)."""
    if municipality is None or str(municipality).strip().lower() in ("", "none", "national", "riket"):
        return None
    value = str(municipality).strip()
    if value.isdigit():
        code = value.zfill(4)
        if municipality_info(con, code):
            return code
    else:
        rows = con.execute("SELECT code FROM municipalities WHERE lower(name) = lower(?)", [value]).fetchall()
        if rows:
            return rows[0][0]
    raise ValueError(f"unknown municipality {municipality!r}: give a four-digit SCB code such as 0180, or a name")


def year_shares(con, year: int, code: str | None = None) -> pd.DataFrame:
    """One row per topic ('all' first, then the topics in label order) for a municipality or nationally."""
    if code:
        df = con.execute(f"SELECT topic, {_SHARE_COLUMNS} FROM yearly_shares WHERE year = ? AND municipality_code = ?",
                         [year, code]).df()
    else:
        df = con.execute(f"SELECT topic, {_SHARE_COLUMNS} FROM national_shares WHERE year = ?", [year]).df()
    return _order_topics(_with_counts(df[df["n"] > 0]))


def trend_shares(con, code: str | None = None) -> pd.DataFrame:
    """Every year and topic for a municipality or nationally."""
    if code:
        df = con.execute(f"SELECT year, topic, {_SHARE_COLUMNS} FROM yearly_shares WHERE municipality_code = ?",
                         [code]).df()
    else:
        df = con.execute(f"SELECT year, topic, {_SHARE_COLUMNS} FROM national_shares").df()
    df = _with_counts(df[df["n"] > 0])
    return df.sort_values(["year"]).reset_index(drop=True)


def municipal_shares(con, year: int, topic: str | None = "all") -> pd.DataFrame:
    """Every municipality's figures for `year` (one topic, or all topics with topic=None)."""
    sql = (f"SELECT municipality_code AS code, municipality AS name, county, topic, {_SHARE_COLUMNS} "
           "FROM yearly_shares WHERE year = ? AND n > 0")
    params: list = [year]
    if topic is not None:
        sql += " AND topic = ?"
        params.append(topic)
    return _with_counts(con.execute(sql, params).df())


def county_peers(con, year: int, code: str) -> pd.DataFrame:
    """The other municipalities of `code`'s county with data in `year` (code, name)."""
    return con.execute(
        "SELECT DISTINCT y.municipality_code AS code, y.municipality AS name FROM yearly_shares y "
        "JOIN municipalities m ON m.code = ? WHERE y.county = m.county AND y.year = ? AND y.topic = 'all' "
        "AND y.n > 0 AND y.municipality_code <> ? ORDER BY name", [code, year, code]).df()


def pooled_shares(con, year: int, codes: list[str]) -> pd.DataFrame:
    """Counts of several municipalities pooled per topic, with shares and intervals."""
    if not codes:
        return pd.DataFrame()
    df = municipal_shares(con, year, topic=None)
    df = df[df["code"].isin(codes)]
    if df.empty:
        return pd.DataFrame()
    pooled = df.groupby("topic", as_index=False)[["n"] + [f"n_{s}" for s in SENTIMENTS]].sum()
    return _order_topics(with_shares(pooled))


def channel_counts(con, year: int, code: str | None = None) -> pd.DataFrame:
    """Counts per channel (None = no channel given) with shares and intervals."""
    where, params = _scope(year, code)
    counts = ", ".join(f"count(*) FILTER (sentiment = '{s}') AS n_{s}" for s in SENTIMENTS)
    df = con.execute(f"SELECT channel, count(*) AS n, {counts} FROM comments_classified WHERE {where} "
                     "GROUP BY channel ORDER BY n DESC", params).df()
    df["channel"] = df["channel"].astype(object).where(df["channel"].notna(), None)
    return with_shares(df)


def metadata_rows(con, year: int, code: str | None = None) -> pd.DataFrame:
    """sentiment, channel and the parsed metadata dict of every comment in scope."""
    where, params = _scope(year, code)
    df = con.execute(f"SELECT sentiment, channel, metadata FROM comments_classified WHERE {where}", params).df()
    df["metadata"] = [_parse_json(m) for m in df["metadata"]]
    return df


def representative_comments(con, year: int, code: str | None = None, per_group: int = QUOTES_PER_GROUP
                            ) -> pd.DataFrame:
    """The highest-confidence comments per topic and topic sentiment: redacted text only.

    Confidence = P(topic) x P(sentiment); identical texts are shown once per topic and sentiment.
    """
    where, params = _scope(year, code, prefix="c.")
    p_topic = "CASE topic " + " ".join(f"WHEN '{t}' THEN {prob_column(t)}" for t in TOPICS) + " END"
    p_sent = "CASE topic_sentiment " + " ".join(f"WHEN '{s}' THEN {prob_column(s)}" for s in SENTIMENTS) + " END"
    topic_cols = ", ".join(f"p.{prob_column(t)}" for t in TOPICS)
    sql = f"""
        WITH base AS (
            SELECT c.text, c.channel, c.municipality, c.sentiment, c.topics, c.topic_sentiment AS ts_json,
                   c.p_positive, c.p_skeptical, c.p_negative, {topic_cols}
            FROM comments_classified c
            JOIN predictions p ON p.comment_id = c.comment_id AND p.model_version = c.model_version
            WHERE {where}
        ), per_topic AS (
            SELECT *, unnest(topics) AS topic FROM base
        ), scored AS (
            SELECT *, coalesce(json_extract_string(ts_json, '$.' || topic), sentiment) AS topic_sentiment
            FROM per_topic
        ), ranked AS (
            SELECT topic, topic_sentiment, text, channel, municipality, ({p_topic}) * ({p_sent}) AS confidence
            FROM scored
            QUALIFY row_number() OVER (PARTITION BY topic, topic_sentiment, text ORDER BY confidence DESC) = 1
        )
        SELECT topic, topic_sentiment, text, channel, municipality, confidence FROM (
            SELECT *, row_number() OVER (PARTITION BY topic, topic_sentiment ORDER BY confidence DESC, text) AS rk
            FROM ranked
        ) WHERE rk <= ? ORDER BY topic, topic_sentiment, rk"""
    return con.execute(sql, params + [per_group]).df()


def quality_counts(con, code: str | None = None) -> dict:
    """Submission accounting for the report's scope (all years): batches, rows, quarantine reasons, failures."""
    where, params = ("WHERE municipality_code = ?", [code]) if code else ("", [])
    row = con.execute(
        "SELECT count(*), coalesce(sum(rows_received), 0), coalesce(sum(rows_accepted), 0), "
        "coalesce(sum(rows_quarantined), 0), count(*) FILTER (status = 'failed'), max(processed_at) "
        f"FROM batches {where}", params).fetchall()[0]
    reasons = con.execute(f"SELECT reason_code, count(*) AS rows FROM quarantine {where} GROUP BY reason_code "
                          "ORDER BY rows DESC, reason_code", params).fetchall()
    comments = con.execute(f"SELECT count(*) FROM comments_classified {where}", params).fetchall()[0][0]
    return {"batches": row[0], "rows_received": row[1], "rows_accepted": row[2], "rows_quarantined": row[3],
            "failed_batches": row[4], "data_as_of": row[5], "reasons": reasons, "comments_all_years": comments}


def model_evaluation(model_dir: Path | str | None, model_version: str | None) -> dict:
    """The model card's headline figures: in-domain test sentiment macro-F1 and topic micro-F1 with CIs.

    Looks in `model_dir` (default synpunkt.config.model_dir()); when that evaluation is for another version than
    the warehouse's current model, also in a sibling directory named after the version's model name.
    """
    base = Path(model_dir) if model_dir else config.model_dir()
    candidates = [base]
    if model_version and "@" in model_version:
        candidates.append(base.parent / model_version.split("@")[0])
    found: dict | None = None
    for directory in candidates:
        path = directory / "evaluation.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if found is None or data.get("model_version") == model_version:
            found = {"path": str(path), "data": data}
        if data.get("model_version") == model_version:
            break
    if found is None:
        return {"path": str(base / "evaluation.json"), "found": False}
    data = found["data"]
    test = data.get("sets", {}).get("in_domain_test", {})
    sent, top = test.get("sentiment", {}), test.get("topics", {})
    targets = data.get("targets", {})
    return {
        "found": True, "path": found["path"], "eval_version": data.get("model_version"), "date": data.get("date"),
        "n": sent.get("n"),
        "sentiment_macro_f1": sent.get("macro_f1"), "sentiment_macro_f1_ci": sent.get("macro_f1_ci95"),
        "topic_micro_f1": top.get("micro_f1"), "topic_micro_f1_ci": top.get("micro_f1_ci95"),
        "sentiment_target": targets.get("in_domain_test.sentiment.macro_f1"),
        "topic_target": targets.get("in_domain_test.topics.micro_f1"),
    }


def _scope(year: int, code: str | None, prefix: str = "") -> tuple[str, list]:
    if code:
        return f"{prefix}year = ? AND {prefix}municipality_code = ?", [year, code]
    return f"{prefix}year = ?", [year]


def _parse_json(value) -> dict:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _order_topics(df: pd.DataFrame) -> pd.DataFrame:
    order = {t: i for i, t in enumerate(("all",) + TOPICS)}
    if df.empty:
        return df.reset_index(drop=True)
    df = df[df["topic"].isin(order)].copy()
    df["_o"] = df["topic"].map(order)
    return df.sort_values("_o").drop(columns="_o").reset_index(drop=True)


# -- metadata for the equal-treatment section -------------------------------------------------------------------
def _norm_key(key: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(key).strip().lower())


def find_metadata_key(rows: pd.DataFrame, kind: str) -> str | None:
    """The metadata key for 'gender' or 'duration' used by most comments (None when absent)."""
    wanted = {_norm_key(k) for k in (GENDER_KEYS if kind == "gender" else DURATION_KEYS)}
    counts: dict[str, int] = {}
    for meta in rows.get("metadata", []):
        for key, value in meta.items():
            k = _norm_key(key)
            match = k in wanted or (kind == "gender" and (k.endswith("_kön") or k.endswith("_gender"))) or (
                kind == "duration" and (k.startswith("samtalstid") or k.startswith("call_duration")))
            if match and value not in (None, ""):
                counts[key] = counts.get(key, 0) + 1
    return max(counts, key=counts.get) if counts else None


def _group_value(value) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    return None if text.lower() in MISSING_VALUES else text.lower()


def _duration_value(value) -> float | None:
    if value is None:
        return None
    try:
        x = float(str(value).strip().replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return x if math.isfinite(x) and x >= 0 else None


def group_label(value: str, lang: str = "sv") -> str:
    """How a metadata group value is shown (known gender values translated, others capitalised)."""
    return strings(lang)["group_values"].get(str(value).lower(), str(value)[:1].upper() + str(value)[1:])


def gender_groups(rows: pd.DataFrame, key: str) -> tuple[pd.DataFrame, int]:
    """Sentiment counts per gender group (groups of at least MIN_GROUP), and how many comments were left out."""
    groups = [_group_value(m.get(key)) for m in rows["metadata"]]
    df = pd.DataFrame({"group": groups, "sentiment": rows["sentiment"].to_numpy()})
    known = df[df["group"].notna()]
    counts = known.groupby("group").agg(n=("sentiment", "size"),
                                        **{f"n_{s}": ("sentiment", lambda x, s=s: int((x == s).sum()))
                                           for s in SENTIMENTS}).reset_index()
    counts = counts[counts["n"] >= MIN_GROUP].sort_values("group").reset_index(drop=True)
    left_out = len(df) - int(counts["n"].sum())
    return with_shares(counts), left_out


def duration_groups(rows: pd.DataFrame, key: str, by: str, gender_key: str | None = None) -> pd.DataFrame:
    """Call durations per group (by='gender' or 'sentiment'): group, values, n, mean, lo, hi."""
    values = [_duration_value(m.get(key)) for m in rows["metadata"]]
    if by == "gender":
        groups = [_group_value(m.get(gender_key)) for m in rows["metadata"]]
    else:
        groups = rows["sentiment"].tolist()
    df = pd.DataFrame({"group": groups, "value": values}).dropna()
    out = []
    order = SENTIMENTS if by == "sentiment" else sorted(df["group"].unique())
    for g in order:
        vals = df.loc[df["group"] == g, "value"].to_numpy(dtype=float)
        if len(vals) >= MIN_GROUP:
            mean, lo, hi = mean_ci(vals)
            out.append({"group": g, "values": vals, "n": len(vals), "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(out, columns=["group", "values", "n", "mean", "lo", "hi"])


# -- figures (matplotlib Figure objects; no pyplot state) ------------------------------------------------------
def _styled(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)
    return wrapper


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=FIG_DPI)


def _err(value, lo, hi) -> list:
    """Non-negative whisker lengths for errorbar() (rounding can put a bound a hair past the estimate)."""
    value, lo, hi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (value, lo, hi))
    return [np.clip(value - lo, 0, None), np.clip(hi - value, 0, None)]


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def label_color(background: str) -> str:
    """Black or white, whichever reads better on `background`."""
    return "#000000" if contrast_ratio(background, "#000000") >= contrast_ratio(background, "#ffffff") else "#ffffff"


def _pct_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    suffix = "\u202f%" if lang == "sv" else "%"
    return FuncFormatter(lambda v, _: f"{v * 100:.0f}{suffix}")


def _signed_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: "0" if round(v) == 0 else (f"+{v:.0f}" if v > 0 else f"{MINUS}{abs(v):.0f}"))


def _net_limits(lows, highs, pad: float = 8.0) -> tuple[float, float]:
    lo = np.nanmin(np.asarray(lows, dtype=float)) if len(lows) else -10
    hi = np.nanmax(np.asarray(highs, dtype=float)) if len(highs) else 10
    lo, hi = min(lo, 0.0) - pad, max(hi, 0.0) + pad
    return max(-100.0, math.floor(lo / 10) * 10), min(100.0, math.ceil(hi / 10) * 10)


@_styled
def shares_figure(df: pd.DataFrame, labels: list[str], lang: str = "sv"):
    """Horizontal stacked bars (positive | skeptical | negative) per row, with n and the net score at the right.

    `df` has n, share_* and net_score(_lo/_hi) columns, one row per bar (top to bottom); `labels` names the rows.
    """
    s = strings(lang)
    rows = len(df)
    bar_h, top_in, bottom_in = 0.58, 0.55, 0.95
    height = rows * bar_h + top_in + bottom_in
    fig = _figure(FIG_WIDTH, height)
    left, right = 0.245, 0.655
    fig.subplots_adjust(left=left, right=right, top=1 - top_in / height, bottom=bottom_in / height)
    ax = fig.add_subplot()
    y = np.arange(rows)[::-1]
    start = np.zeros(rows)
    for sent in SENTIMENTS:
        widths = df[f"share_{sent}"].fillna(0).to_numpy(dtype=float)
        ax.barh(y, widths, left=start, height=0.68, color=COLORS[sent], label=s["sentiments"][sent],
                edgecolor="white", linewidth=0.8)
        for yi, x0, w in zip(y, start, widths):
            if w >= 0.085:
                ax.text(x0 + w / 2, yi, fmt_pct(w, lang).replace(NBSP, "\u202f"), ha="center", va="center",
                        fontsize=10, color=label_color(COLORS[sent]), fontweight="bold")
        start = start + widths
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_yticks(y, labels)
    for tick, label in zip(ax.get_yticklabels(), labels):
        if label == s["topics"]["all"]:
            tick.set_fontweight("bold")
    ax.xaxis.set_major_formatter(_pct_formatter(lang))
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(s["share_axis"])
    transform = ax.get_yaxis_transform()
    header_y = rows - 0.4 + 0.15
    ax.text(1.04, header_y, s["col_n"], transform=transform, ha="left", va="bottom", fontsize=10.5,
            fontweight="bold", color="#333333", clip_on=False)
    ax.text(1.2, header_y, s["col_net"], transform=transform, ha="left", va="bottom", fontsize=10.5,
            fontweight="bold", color="#333333", clip_on=False)
    for yi, (_, r) in zip(y, df.iterrows()):
        ax.text(1.04, yi, fmt_int(r["n"], lang), transform=transform, ha="left", va="center", fontsize=10.5,
                clip_on=False)
        interval = fmt_interval(r["net_score_lo"], r["net_score_hi"], lang)
        ax.text(1.2, yi, f"{fmt_signed(r['net_score'], lang)}  ({interval})", transform=transform, ha="left",
                va="center", fontsize=10.5, clip_on=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.56 / (rows * bar_h)), ncol=3, frameon=False,
              handlelength=1.2, columnspacing=1.6)
    return fig


@_styled
def net_trend_figure(trend: pd.DataFrame, lang: str = "sv", changes: pd.DataFrame | None = None):
    """Small multiples: net score per year with 95 % bands and whiskers, one panel per topic ('all' first)."""
    s = strings(lang)
    topics = [t for t in ("all",) + TOPICS if t in set(trend["topic"])]
    ncols = 3
    nrows = math.ceil(len(topics) / ncols)
    fig = _figure(FIG_WIDTH, 2.75 * nrows + 0.5)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    years = sorted(trend["year"].unique())
    lows, highs = trend["net_score_lo"], trend["net_score_hi"]
    ylim = _net_limits(lows, highs, pad=12)
    sig = {} if changes is None or changes.empty else dict(zip(changes["topic"], changes["mark"]))
    for i, ax in enumerate(axes.flat):
        if i >= len(topics):
            ax.set_visible(False)
            continue
        topic = topics[i]
        d = trend[trend["topic"] == topic].sort_values("year")
        x = d["year"].to_numpy()
        ax.fill_between(x, d["net_score_lo"], d["net_score_hi"], color=COLORS["positive"], alpha=0.14, linewidth=0)
        ax.errorbar(x, d["net_score"], yerr=_err(d["net_score"], d["net_score_lo"], d["net_score_hi"]),
                    color=COLORS["positive"], marker="o", markersize=5.5, capsize=3, linewidth=2, elinewidth=1)
        ax.axhline(0, color="#999999", linewidth=0.8, zorder=0)
        ax.set_title(s["topics"][topic], fontsize=11.5)
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_xlim(years[0] - 0.4, years[-1] + 0.4)
        ax.set_ylim(*ylim)
        ax.yaxis.set_major_formatter(_signed_formatter())
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        mark = sig.get(topic)
        if mark in ("▲", "▼") and len(d) and d["year"].iloc[-1] == years[-1]:
            last = d.iloc[-1]
            up = mark == "▲"
            ax.annotate(mark, (last["year"], last["net_score_hi"] if up else last["net_score_lo"]),
                        xytext=(0, 5 if up else -5), textcoords="offset points", ha="center",
                        va="bottom" if up else "top", fontsize=12, fontweight="bold",
                        color=TEXT_COLORS["positive" if up else "negative"])
        if i % ncols == 0:
            ax.set_ylabel(s["net_axis"])
    fig.tight_layout(h_pad=1.6, w_pad=1.2)
    return fig


@_styled
def share_trend_figure(trend_all: pd.DataFrame, lang: str = "sv"):
    """Shares of positive, skeptical and negative (one topic) per year with Wilson bands."""
    s = strings(lang)
    d = trend_all.sort_values("year")
    years = d["year"].to_numpy()
    fig = _figure(FIG_WIDTH, 3.6)
    fig.subplots_adjust(left=0.08, right=0.80, top=0.93, bottom=0.13)
    ax = fig.add_subplot()
    markers = {"positive": "o", "skeptical": "s", "negative": "D"}
    for sent in SENTIMENTS:
        ax.fill_between(years, d[f"share_{sent}_lo"], d[f"share_{sent}_hi"], color=COLORS[sent], alpha=0.18,
                        linewidth=0)
        ax.plot(years, d[f"share_{sent}"], color=COLORS[sent], marker=markers[sent], linewidth=2.2, markersize=6,
                label=s["sentiments"][sent])
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_xlim(years[0] - 0.3, years[-1] + 0.3)
    ax.set_ylim(0, min(1, max(0.5, float(np.nanmax(d[[f"share_{x}_hi" for x in SENTIMENTS]].to_numpy())) + 0.05)))
    ax.yaxis.set_major_formatter(_pct_formatter(lang))
    ax.set_ylabel(s["share_axis"])
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return fig


@_styled
def benchmark_figure(series: list[tuple[str, str, pd.DataFrame]], lang: str = "sv"):
    """Dot-and-whisker net scores per topic for several series: [(label, kind, year_shares frame), ...]."""
    s = strings(lang)
    topics = [t for t in ("all",) + TOPICS if any(t in set(df["topic"]) for _, _, df in series)]
    rows = len(topics)
    height = rows * 0.62 + 1.5
    fig = _figure(FIG_WIDTH, height)
    fig.subplots_adjust(left=0.245, right=0.96, top=1 - 0.2 / height, bottom=1.15 / height)
    ax = fig.add_subplot()
    y = np.arange(rows)[::-1]
    k = len(series)
    offsets = np.linspace(0.22, -0.22, k) if k > 1 else [0.0]
    markers = {"self": "o", "peers": "s", "national": "D"}
    lows, highs = [], []
    for (label, kind, df), off in zip(series, offsets):
        d = df.set_index("topic")
        for yi, topic in zip(y, topics):
            if topic not in d.index:
                continue
            r = d.loc[topic]
            ax.errorbar(r["net_score"], yi + off, xerr=_err(r["net_score"], r["net_score_lo"], r["net_score_hi"]),
                        fmt=markers.get(kind, "o"), color=SERIES[kind], markersize=7 if kind == "self" else 6,
                        capsize=3, elinewidth=1.4, label=label if yi == y[0] or topic == topics[0] else None)
            lows.append(r["net_score_lo"])
            highs.append(r["net_score_hi"])
    ax.axvline(0, color="#999999", linewidth=0.8, zorder=0)
    ax.set_yticks(y, [s["topics"][t] for t in topics])
    for tick, t in zip(ax.get_yticklabels(), topics):
        if t == "all":
            tick.set_fontweight("bold")
    for yi in y[:-1]:
        ax.axhline(yi - 0.5, color=GRID, linewidth=0.8)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_xlim(*_net_limits(lows, highs, pad=5))
    ax.xaxis.set_major_formatter(_signed_formatter())
    ax.set_xlabel(s["net_axis"])
    ax.tick_params(axis="y", length=0)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.4, -0.58 / (rows * 0.62)),
              ncol=len(unique), frameon=False)
    return fig


@_styled
def ranking_figure(df: pd.DataFrame, lang: str = "sv", highlight: str | None = None, peers: tuple = (),
                   national: tuple[float, float, float] | None = None, rank_offset: int = 0):
    """Municipalities ranked by net score (best on top) as dots with 95 % whiskers; `df` has code, name, net_*."""
    s = strings(lang)
    d = df.sort_values(["net_score", "name"], ascending=[False, True]).reset_index(drop=True)
    rows = len(d)
    height = rows * 0.36 + 1.2
    fig = _figure(FIG_WIDTH, height)
    fig.subplots_adjust(left=0.25, right=0.84, top=1 - 0.25 / height, bottom=0.75 / height)
    ax = fig.add_subplot()
    y = np.arange(rows)[::-1]
    all_lo = list(d["net_score_lo"]) + ([national[1]] if national else [])
    all_hi = list(d["net_score_hi"]) + ([national[2]] if national else [])
    if national:
        ax.axvspan(national[1], national[2], color="#DDDDDD", alpha=0.6, linewidth=0, zorder=0)
        ax.axvline(national[0], color="#555555", linestyle="--", linewidth=1.2, zorder=1)
        ax.text(national[0], rows - 0.45, f" {s['national_line']} {fmt_signed(national[0], lang)}", ha="left",
                va="bottom", fontsize=10, color="#333333")
    for yi, (_, r) in zip(y, d.iterrows()):
        kind = "self" if r["code"] == highlight else ("peers" if r["code"] in peers else "other")
        color = SERIES[kind]
        ax.errorbar(r["net_score"], yi, xerr=_err(r["net_score"], r["net_score_lo"], r["net_score_hi"]),
                    fmt="o" if kind != "peers" else "s", color=color, markersize=7 if kind == "self" else 5.5,
                    capsize=2.5, elinewidth=1.6 if kind == "self" else 1.1, zorder=3)
        ax.text(1.02, yi, f"{fmt_signed(r['net_score'], lang)}   n = {fmt_int(r['n'], lang)}",
                transform=ax.get_yaxis_transform(), ha="left", va="center", fontsize=9.5,
                color="#000000" if kind == "self" else "#444444", clip_on=False)
    labels = [f"{rank_offset + i + 1}. {name}" for i, name in enumerate(d["name"])]
    ax.set_yticks(y, labels)
    for tick, (_, r) in zip(ax.get_yticklabels(), d.iterrows()):
        if r["code"] == highlight:
            tick.set_fontweight("bold")
        elif r["code"] in peers:
            tick.set_color("#7A3B63")
    ax.set_ylim(-0.6, rows - 0.1 + (0.5 if national else 0))
    ax.set_xlim(*_net_limits(all_lo, all_hi, pad=5))
    ax.xaxis.set_major_formatter(_signed_formatter())
    ax.set_xlabel(s["net_axis"])
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    return fig


@_styled
def group_sentiment_figure(counts: pd.DataFrame, lang: str = "sv"):
    """One panel per sentiment: each group's share with its Wilson interval."""
    s = strings(lang)
    groups = counts["group"].tolist()
    rows = len(groups)
    height = rows * 0.5 + 1.3
    fig = _figure(FIG_WIDTH, height)
    axes = fig.subplots(1, 3, sharey=True)
    y = np.arange(rows)[::-1]
    for ax, sent in zip(axes, SENTIMENTS):
        share = counts[f"share_{sent}"].to_numpy(dtype=float)
        lo, hi = counts[f"share_{sent}_lo"].to_numpy(dtype=float), counts[f"share_{sent}_hi"].to_numpy(dtype=float)
        ax.errorbar(share, y, xerr=_err(share, lo, hi), fmt="o", color=COLORS[sent], markersize=7, capsize=3,
                    elinewidth=1.5)
        ax.set_title(s["sentiments"][sent], color=TEXT_COLORS[sent], fontsize=11.5)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1])
        ax.xaxis.set_major_formatter(_pct_formatter(lang))
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.set_ylim(-0.6, rows - 0.4)
        ax.tick_params(axis="y", length=0)
    axes[0].set_yticks(y, [f"{group_label(g, lang)} (n = {fmt_int(n, lang)})" for g, n in zip(groups, counts["n"])])
    fig.tight_layout(w_pad=1.5)
    return fig


@_styled
def duration_figure(panels: list[tuple[str, pd.DataFrame, list[str]]], lang: str = "sv"):
    """Mean call duration with 95 % CI per group; one panel per grouping: [(title, frame, labels), ...]."""
    s = strings(lang)
    rows = max(len(df) for _, df, _ in panels)
    height = rows * 0.5 + 1.5
    fig = _figure(FIG_WIDTH, height)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    hi_all = max(float(np.nanmax(df["hi"].to_numpy(dtype=float))) for _, df, _ in panels)
    for ax, (title, df, labels) in zip(axes, panels):
        y = np.arange(len(df))[::-1]
        colors = [COLORS.get(g, "#333333") for g in df["group"]]
        for yi, (_, r), c in zip(y, df.iterrows(), colors):
            ax.errorbar(r["mean"], yi, xerr=_err(r["mean"], r["lo"], r["hi"]), fmt="o", color=c,
                        markersize=7, capsize=3, elinewidth=1.5)
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, max(len(df), 2) - 0.4)
        ax.set_xlim(0, hi_all * 1.15)
        ax.set_title(title, fontsize=11.5)
        ax.set_xlabel(s["duration_axis"])
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
    fig.tight_layout(w_pad=2.5)
    return fig


def figure_html(fig, key: str, alt: str, dpi: int = FIG_DPI) -> str:
    """A figure as an embedded PNG in a <figure> (with alt text); the figure is closed afterwards."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.12, facecolor="white",
                metadata={"Software": None})
    fig.clear()
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure class="sp-fig" data-fig="{esc(key)}"><img src="data:image/png;base64,{data}" '
            f'alt="{esc(alt)}"></figure>')


# -- the report context and its sections (HTML fragments) -------------------------------------------------------
@dataclass
class Report:
    """One annual report: a year, a municipality (None = national) and a language, over the published warehouse."""

    con: object
    year: int
    code: str | None
    lang: str
    warehouse: Path
    model_dir: Path | None = None
    name: str = ""
    county: str = ""
    years: list[int] = field(default_factory=list)

    @property
    def national(self) -> bool:
        return self.code is None

    @property
    def s(self) -> dict:
        return strings(self.lang)

    def t(self, name: str, /, **kw) -> str:
        """A UI string of the report's language, formatted with kw."""
        text = self.s[name]
        return text.format(**kw) if kw else text

    def topic(self, topic: str) -> str:
        return self.s["topics"].get(topic, topic)

    def close(self) -> None:
        self.con.close()


def open_report(year: int | None = None, municipality: str | None = None, lang: str = "sv",
                warehouse: Path | str | None = None, model_dir: Path | str | None = None) -> Report:
    """Open the published warehouse read-only and check that the report can be made (year with data, ...)."""
    from synpunkt.publish import open_published

    strings(lang)
    path = Path(warehouse) if warehouse else config.published_path()
    con = open_published(path)
    try:
        years = report_years(con)
        if not years:
            raise ValueError(f"the warehouse {path} has no classified comments yet; run `synpunkt run` first")
        year = int(year) if year is not None else years[-1]
        code = resolve_municipality(con, municipality)
        if year not in years:
            raise ValueError(f"no classified comments for {year} in {path}; years with data: "
                             f"{', '.join(map(str, years))}")
        rep = Report(con=con, year=year, code=code, lang=lang, warehouse=path,
                     model_dir=Path(model_dir) if model_dir else None, years=years)
        if code:
            info = municipality_info(con, code)
            rep.name, rep.county = info["name"], info["county"]
            if year_shares(con, year, code).empty:
                raise ValueError(f"{rep.name} ({code}) has no classified comments for {year}")
        else:
            rep.name = rep.t("national_name")
        return rep
    except BaseException:
        con.close()
        raise


def page_title(rep: Report) -> str:
    if rep.national:
        return rep.t("title_national", year=rep.year)
    return rep.t("title_municipality", year=rep.year, name=rep.name)


def _h2(rep: Report, key: str, section: str) -> str:
    return f'<h2 id="{section}" data-section="{section}">{esc(rep.t(key))}</h2>'


def _p(text_html: str, cls: str = "") -> str:
    return f'<p class="{cls}">{text_html}</p>' if cls else f"<p>{text_html}</p>"


def _mark(diff: float, p: float) -> str:
    if p is None or math.isnan(p) or p >= ALPHA:
        return ""
    return "▲" if diff > 0 else "▼"


def _p_cell(p: float, rep: Report) -> str:
    """A p-value for a table, or 'too few to test' when the samples were too small for the z-test."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return f'<span class="sp-ci">{esc(rep.t("not_tested"))}</span>'
    return fmt_p(p, rep.lang)


def _mark_html(mark: str, rep: Report) -> str:
    if not mark:
        return f'<span class="sp-nochange" title="{esc(rep.t("not_sig"))}">–</span>'
    cls, title = ("sp-up", rep.t("sig_up")) if mark == "▲" else ("sp-down", rep.t("sig_down"))
    return f'<b class="{cls}" title="{esc(title)}">{mark}</b>'


def year_changes(trend: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per topic: the net score and share positive last year and this year, the change, z-test p and mark."""
    prev_year = year - 1
    now, prev = trend[trend["year"] == year].set_index("topic"), trend[trend["year"] == prev_year].set_index("topic")
    rows = []
    for topic in [t for t in ("all",) + TOPICS if t in now.index and t in prev.index]:
        a, b = prev.loc[topic], now.loc[topic]
        diff, z, p = net_change_test(a["n_positive"], a["n_negative"], a["n"], b["n_positive"], b["n_negative"], b["n"])
        rows.append({"topic": topic, "n_prev": int(a["n"]), "n_now": int(b["n"]), "pos_prev": a["share_positive"],
                     "pos_now": b["share_positive"], "net_prev": a["net_score"], "net_now": b["net_score"],
                     "change": diff, "z": z, "p": p, "mark": _mark(diff, p)})
    return pd.DataFrame(rows, columns=["topic", "n_prev", "n_now", "pos_prev", "pos_now", "net_prev", "net_now",
                                       "change", "z", "p", "mark"])


def section_title(rep: Report) -> list[str]:
    """Title, subtitle and the key figures of the year (n, shares, net score with its CI, change)."""
    shares = year_shares(rep.con, rep.year, rep.code)
    parts = [f'<h1 class="sp-title">{esc(page_title(rep))}</h1>']
    if rep.national:
        k = len(municipalities_with_data(rep.con, rep.year))
        parts.append(_p(esc(rep.t("subtitle_national", year=rep.year, k=k)), "sp-subtitle"))
    else:
        parts.append(_p(esc(rep.t("subtitle_municipality", year=rep.year, name=rep.name, county=rep.county)),
                        "sp-subtitle"))
    all_row = shares[shares["topic"] == "all"]
    if all_row.empty:
        parts.append(_p(esc(rep.t("no_data_year", year=rep.year))))
        return parts
    r = all_row.iloc[0]
    lang = rep.lang
    text = rep.t("keyfigures", n=f"<b>{fmt_int(r['n'], lang)}</b>", year=rep.year,
                 pos=f'<b class="sp-pos">{fmt_pct(r["share_positive"], lang)}</b>',
                 skep=f'<b class="sp-skep">{fmt_pct(r["share_skeptical"], lang)}</b>',
                 neg=f'<b class="sp-neg">{fmt_pct(r["share_negative"], lang)}</b>',
                 net=f"<b>{fmt_signed(r['net_score'], lang)}</b>",
                 lo=fmt_signed(r["net_score_lo"], lang), hi=fmt_signed(r["net_score_hi"], lang))
    changes = year_changes(trend_shares(rep.con, rep.code), rep.year)
    ch = changes[changes["topic"] == "all"]
    if not ch.empty:
        c = ch.iloc[0]
        if c["mark"]:
            verdict = rep.t("sig_up" if c["mark"] == "▲" else "sig_down")
            mark = f" {_mark_html(c['mark'], rep)} (<b>{esc(verdict)}</b>, {fmt_p(c['p'], lang)})"
        elif math.isnan(c["p"]):
            mark = f" ({esc(rep.t('not_tested'))})"
        else:
            mark = f" ({esc(rep.t('not_sig'))}, {fmt_p(c['p'], lang)})"
        text += " " + rep.t("keyfigures_change", prev=rep.year - 1, change=fmt_signed(c["change"], lang), mark=mark)
    parts.append(f'<div class="sp-keyfigures" data-n="{int(r["n"])}" data-share-positive="{r["share_positive"]:.6f}" '
                 f'data-net-score="{r["net_score"]:.6f}">{text}</div>')
    parts.append(_p(rep.t("net_explained"), "sp-note"))
    return parts


def section_year(rep: Report) -> list[str]:
    """The year in one picture: stacked shares per topic with n and net score (figure 'year-shares')."""
    parts = [_h2(rep, "h_year", "year")]
    shares = year_shares(rep.con, rep.year, rep.code)
    if shares.empty:
        return parts + [_p(esc(rep.t("no_data_year", year=rep.year)))]
    parts.append(_p(esc(rep.t("year_intro", year=rep.year))))
    fig = shares_figure(shares, [rep.topic(t) for t in shares["topic"]], rep.lang)
    parts.append(figure_html(fig, "year-shares", rep.t("year_alt", year=rep.year)))
    return parts


def section_trends(rep: Report) -> list[str]:
    """Net score per topic over all years (figure 'trend-net'), shares over years ('trend-shares'), change table."""
    parts = [_h2(rep, "h_trends", "trends")]
    trend = trend_shares(rep.con, rep.code)
    years = sorted(trend["year"].unique())
    if len(years) < 2:
        return parts + [_p(esc(rep.t("one_year_only", year=rep.year)))]
    trend = trend[trend["year"] <= rep.year]
    years = sorted(trend["year"].unique())
    if len(years) < 2:
        return parts + [_p(esc(rep.t("one_year_only", year=rep.year)))]
    changes = year_changes(trend, rep.year)
    parts.append(_p(rep.t("trend_intro", first=years[0], last=years[-1])))
    parts.append(figure_html(net_trend_figure(trend, rep.lang, changes), "trend-net", rep.t("trend_alt")))
    all_topic = trend[trend["topic"] == "all"]
    if len(all_topic) >= 2:
        parts.append(_p(esc(rep.t("share_trend_intro"))))
        parts.append(figure_html(share_trend_figure(all_topic, rep.lang), "trend-shares", rep.t("share_trend_alt")))
    if changes.empty:
        parts.append(_p(esc(rep.t("no_prev_year", prev=rep.year - 1))))
        return parts
    lang, prev = rep.lang, rep.year - 1
    head = "".join(f"<th>{esc(h)}</th>" for h in (
        rep.t("col_topic"), f"n {prev}", f"n {rep.year}", rep.t("col_pos_prev_now", prev=prev, year=rep.year),
        rep.t("col_net_prev", prev=prev), rep.t("col_net_now", year=rep.year), rep.t("col_change"), rep.t("col_p"),
        rep.t("col_sig")))
    body = []
    for _, c in changes.iterrows():
        strong = bool(c["mark"])
        cell = (lambda v: f"<b>{v}</b>") if strong else (lambda v: v)
        body.append(
            f'<tr class="{"sp-sig" if strong else ""}"><td>{esc(rep.topic(c["topic"]))}</td>'
            f'<td class="num">{fmt_int(c["n_prev"], lang)}</td><td class="num">{fmt_int(c["n_now"], lang)}</td>'
            f'<td class="num">{fmt_pct(c["pos_prev"], lang)} → {fmt_pct(c["pos_now"], lang)}</td>'
            f'<td class="num">{fmt_signed(c["net_prev"], lang)}</td>'
            f'<td class="num">{fmt_signed(c["net_now"], lang)}</td>'
            f'<td class="num">{cell(fmt_signed(c["change"], lang))}</td><td class="num">{_p_cell(c["p"], rep)}</td>'
            f'<td class="mark">{_mark_html(c["mark"], rep)}</td></tr>')
    parts.append(f'<table class="sp-table" data-table="changes"><caption>'
                 f'{esc(rep.t("change_table_caption", prev=prev, year=rep.year))}</caption>'
                 f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')
    parts.append(_p(rep.t("change_test", min_n=MIN_TEST_N), "sp-note"))
    return parts


def _rank_chunks(df: pd.DataFrame) -> list[tuple[int, pd.DataFrame]]:
    d = df.sort_values(["net_score", "name"], ascending=[False, True]).reset_index(drop=True)
    return [(i, d.iloc[i:i + RANKING_CHUNK]) for i in range(0, len(d), RANKING_CHUNK)]


def section_benchmark(rep: Report) -> list[str]:
    """Municipal: vs national and county peers (figure 'benchmark') and the ranking ('ranking');
    national: all municipalities ranked ('ranking') and a table of net scores per topic."""
    parts = [_h2(rep, "h_benchmark", "benchmark")]
    lang = rep.lang
    ranking = municipal_shares(rep.con, rep.year, "all")
    national = year_shares(rep.con, rep.year, None)
    nat_all = national[national["topic"] == "all"]
    nat = tuple(nat_all.iloc[0][["net_score", "net_score_lo", "net_score_hi"]]) if not nat_all.empty else None
    if rep.national:
        if ranking.empty:
            return parts + [_p(esc(rep.t("no_data_year", year=rep.year)))]
        parts.append(_p(rep.t("rank_intro", year=rep.year)))
        for offset, chunk in _rank_chunks(ranking):
            parts.append(figure_html(ranking_figure(chunk, lang, national=nat, rank_offset=offset), "ranking",
                                     rep.t("rank_alt")))
        parts.append(_topic_table(rep))
        return parts
    peers = county_peers(rep.con, rep.year, rep.code)
    own = year_shares(rep.con, rep.year, rep.code)
    series = [(rep.t("bench_self", name=rep.name), "self", own)]
    pooled = pooled_shares(rep.con, rep.year, peers["code"].tolist())
    if not peers.empty and not pooled.empty:
        series.append((rep.t("bench_peers", county=rep.county), "peers", pooled))
        parts.append(_p(esc(rep.t("bench_intro", name=rep.name, county=rep.county, year=rep.year,
                                  peers=", ".join(peers["name"])))))
    else:
        parts.append(_p(esc(rep.t("bench_intro_nopeers", name=rep.name, county=rep.county, year=rep.year))))
    series.append((rep.t("bench_national"), "national", national))
    parts.append(figure_html(benchmark_figure(series, lang), "benchmark", rep.t("bench_alt")))
    parts.append(_benchmark_table(rep, own, pooled if len(series) == 3 else pd.DataFrame(), national))
    # ranking with this municipality highlighted (only its neighbourhood when there are very many)
    d = ranking.sort_values(["net_score", "name"], ascending=[False, True]).reset_index(drop=True)
    pos = int(d.index[d["code"] == rep.code][0]) if (d["code"] == rep.code).any() else 0
    offset = 0
    if len(d) > RANKING_CHUNK:
        keep = set(range(max(0, pos - 10), min(len(d), pos + 11))) | set(d.index[d["code"].isin(peers["code"])])
        offset = min(keep)
        d = d.loc[sorted(keep)]
    parts.append(_p(esc(rep.t("rank_intro_municipality", name=rep.name, year=rep.year, rank=pos + 1,
                              total=len(ranking), peers=rep.t("rank_peers_note") if len(peers) else ""))))
    parts.append(figure_html(ranking_figure(d, lang, highlight=rep.code, peers=tuple(peers["code"]), national=nat,
                                            rank_offset=offset), "ranking", rep.t("rank_alt")))
    return parts


def _benchmark_table(rep: Report, own: pd.DataFrame, pooled: pd.DataFrame, national: pd.DataFrame) -> str:
    lang = rep.lang
    nat = national.set_index("topic")
    peer = pooled.set_index("topic") if not pooled.empty else None
    head = [rep.t("col_topic"), rep.t("col_self", name=rep.name)]
    if peer is not None:
        head.append(rep.t("col_peers"))
    head += [rep.t("col_national"), rep.t("col_vs_rest"), ""]
    body = []
    for _, r in own.iterrows():
        t = r["topic"]
        cells = [esc(rep.topic(t)), _net_cell(r, lang)]
        if peer is not None:
            cells.append(_net_cell(peer.loc[t], lang) if t in peer.index else "–")
        mark, ptxt = "", "–"
        if t in nat.index:
            nr = nat.loc[t]
            cells.append(_net_cell(nr, lang))
            rest = {k: nr[k] - r[k] for k in ("n", "n_positive", "n_negative")}
            if rest["n"] > 0:
                diff, _, p = net_change_test(rest["n_positive"], rest["n_negative"], rest["n"], r["n_positive"],
                                             r["n_negative"], r["n"])
                mark, ptxt = _mark(diff, p), f"{fmt_signed(diff, lang)} ({_p_cell(p, rep)})"
                ptxt = f"<b>{ptxt}</b>" if mark else ptxt
        else:
            cells.append("–")
        cells += [ptxt, _mark_html(mark, rep)]
        body.append("<tr>" + "".join(f'<td class="{"num" if i else ""}">{c}</td>' for i, c in enumerate(cells))
                    + "</tr>")
    table = (f'<table class="sp-table" data-table="benchmark"><thead><tr>{"".join(f"<th>{esc(h)}</th>" for h in head)}'
             f'</tr></thead><tbody>{"".join(body)}</tbody></table>')
    return table + _p(rep.t("bench_test", name=esc(rep.name)), "sp-note")


def _net_cell(r, lang: str) -> str:
    interval = fmt_interval(r["net_score_lo"], r["net_score_hi"], lang)
    return f'{fmt_signed(r["net_score"], lang)} <span class="sp-ci">({interval})</span>'


def _topic_table(rep: Report) -> str:
    """National report: net score per topic and municipality."""
    lang = rep.lang
    df = municipal_shares(rep.con, rep.year, topic=None)
    if df.empty:
        return ""
    topics = [t for t in ("all",) + TOPICS if t in set(df["topic"])]
    order = df[df["topic"] == "all"].sort_values(["net_score", "name"], ascending=[False, True])
    head = "".join(f"<th>{esc(h)}</th>" for h in [rep.t("col_municipality")] + [rep.topic(t) for t in topics])
    body = []
    for _, m in order.iterrows():
        cells = [f"<td>{esc(m['name'])}</td>"]
        for t in topics:
            r = df[(df["code"] == m["code"]) & (df["topic"] == t)]
            if r.empty:
                cells.append('<td class="num">–</td>')
                continue
            small = ' sp-small' if r.iloc[0]["n"] < MIN_TEST_N else ""
            cells.append(f'<td class="num{small}">{fmt_signed(r.iloc[0]["net_score"], lang)} '
                         f'<span class="sp-ci">({fmt_int(r.iloc[0]["n"], lang)})</span></td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="sp-table sp-wide" data-table="topics"><caption>'
            f'{esc(rep.t("topic_table_caption", year=rep.year))}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>' + _p(esc(rep.t("small_n_note", min_n=MIN_TEST_N)), "sp-note"))


def _test_text(res: dict | None, rep: Report) -> str:
    if not res:
        return esc(rep.t("test_na"))
    lang = rep.lang
    verdict = rep.t("significant") if res["p"] < ALPHA else rep.t("not_significant")
    text = rep.t("test_result", chi2=fmt_num(res["chi2"], 1, lang), dof=res["dof"], p=fmt_p(res["p"], lang))
    text = f"{text}, <b>{esc(verdict)}</b>" if res["p"] < ALPHA else f"{text}, {esc(verdict)}"
    return text + (esc(rep.t("low_expected")) if res["min_expected"] < 5 else "")


def section_channels(rep: Report) -> list[str]:
    """Shares per channel (figure 'channels') with a chi-square test, where the data has channels."""
    parts = [_h2(rep, "h_channels", "channels")]
    counts = channel_counts(rep.con, rep.year, rep.code)
    known = counts[counts["channel"].notna()]
    if known.empty:
        return parts + [_p(esc(rep.t("no_channels", year=rep.year)))]
    if len(known) < 2:
        channel = rep.s["channels"].get(known.iloc[0]["channel"], known.iloc[0]["channel"])
        return parts + [_p(esc(rep.t("one_channel", year=rep.year, channel=channel.lower())))]
    shown = counts[(counts["n"] >= MIN_GROUP) | counts["channel"].isna()]
    shown = shown[shown["n"] > 0]
    test = chi_square(known[known["n"] >= MIN_GROUP][[f"n_{s}" for s in SENTIMENTS]].to_numpy())
    parts.append(_p(rep.t("channels_intro", year=rep.year, test=_test_text(test, rep))))
    labels = [rep.s["channels"].get(c, str(c).capitalize()) for c in shown["channel"]]
    parts.append(figure_html(shares_figure(shown.reset_index(drop=True), labels, rep.lang), "channels",
                             rep.t("channels_alt")))
    return parts


def section_equal_treatment(rep: Report) -> list[str]:
    """Sentiment by gender (figure 'equal-sentiment', chi-square) and call duration by group ('equal-duration',
    Welch t-test / Kruskal-Wallis), from comment metadata; one sentence when the metadata has neither."""
    parts = [_h2(rep, "h_equal", "equal")]
    rows = metadata_rows(rep.con, rep.year, rep.code)
    gender_key = find_metadata_key(rows, "gender")
    duration_key = find_metadata_key(rows, "duration")
    if not gender_key and not duration_key:
        return parts + [_p(rep.t("equal_absent", year=rep.year), "sp-absent")]
    lang = rep.lang
    parts.append(_p(esc(rep.t("equal_intro"))))
    if gender_key:
        counts, left_out = gender_groups(rows, gender_key)
        if len(counts) >= 2:
            parts.append(_p(rep.t("equal_gender_intro", field=esc(rep.t("gender_field")), key=esc(gender_key))))
            parts.append(figure_html(group_sentiment_figure(counts, lang), "equal-sentiment",
                                     rep.t("equal_gender_alt")))
            test = chi_square(counts[[f"n_{s}" for s in SENTIMENTS]].to_numpy())
            parts.append(_p(rep.t("equal_chi2", test=_test_text(test, rep))))
            if left_out:
                parts.append(_p(esc(rep.t("equal_missing", n=fmt_int(left_out, lang), min=MIN_GROUP)), "sp-note"))
        else:
            parts.append(_p(esc(rep.t("equal_too_few", field=rep.t("gender_field"), min=MIN_GROUP))))
    else:
        parts.append(_p(esc(rep.t("equal_no_gender"))))
    if not duration_key:
        parts.append(_p(esc(rep.t("duration_none"))))
        return parts
    panels, tests = [], []
    by_gender = duration_groups(rows, duration_key, "gender", gender_key) if gender_key else pd.DataFrame()
    by_sentiment = duration_groups(rows, duration_key, "sentiment")
    for title, df, labeller in ((rep.t("duration_by_gender"), by_gender, lambda g: group_label(g, lang)),
                                (rep.t("duration_by_sentiment"), by_sentiment, lambda g: rep.s["sentiments"][g])):
        if len(df) < 2:
            continue
        labels = [f"{labeller(g)} (n = {fmt_int(n, lang)})" for g, n in zip(df["group"], df["n"])]
        panels.append((title, df, labels))
        names = [labeller(g) for g in df["group"]]
        if len(df) == 2:
            res = welch_test(df["values"].iloc[0], df["values"].iloc[1])
            text = rep.t("welch", a=esc(names[0]), b=esc(names[1]), t=fmt_num(res["t"], 2, lang),
                         df=fmt_num(res["df"], 1, lang), p=fmt_p(res["p"], lang))
        else:
            res = kruskal_test(df["values"].tolist())
            text = rep.t("kruskal", h=fmt_num(res["h"], 2, lang), p=fmt_p(res["p"], lang))
        verdict = rep.t("significant") if res["p"] < ALPHA else rep.t("not_significant")
        verdict_html = f"<b>{esc(verdict)}</b>" if res["p"] < ALPHA else esc(verdict)
        tests.append(f"<li><b>{esc(title)}</b>: {text}, {verdict_html}</li>")
    if not panels:
        parts.append(_p(esc(rep.t("equal_too_few", field=rep.t("duration_field"), min=MIN_GROUP))))
        return parts
    n_calls = sum(_duration_value(m.get(duration_key)) is not None for m in rows["metadata"])
    parts.append(_p(rep.t("equal_duration_intro", key=esc(duration_key), n=fmt_int(n_calls, lang))))
    parts.append(figure_html(duration_figure(panels, lang), "equal-duration", rep.t("equal_duration_alt")))
    parts.append(f'<ul class="sp-tests">{"".join(tests)}</ul>')
    return parts


def _truncate(text: str, limit: int = QUOTE_MAX_CHARS) -> str:
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def section_quotes(rep: Report) -> list[str]:
    """Representative comments per topic and sentiment: redacted text, always HTML-escaped."""
    parts = [_h2(rep, "h_quotes", "quotes")]
    quotes = representative_comments(rep.con, rep.year, rep.code)
    if quotes.empty:
        return parts + [_p(esc(rep.t("quotes_none", year=rep.year)))]
    parts.append(_p(esc(rep.t("quotes_intro", year=rep.year))))
    for topic in [t for t in TOPICS if t in set(quotes["topic"])]:
        cols = []
        for sent in SENTIMENTS:
            q = quotes[(quotes["topic"] == topic) & (quotes["topic_sentiment"] == sent)]
            items = []
            for _, r in q.iterrows():
                raw = r["channel"] if isinstance(r["channel"], str) and r["channel"] else None
                channel = rep.s["channels"].get(raw, raw) if raw else None
                source = ""
                if rep.national:
                    source = rep.t("quote_source_national", municipality=r["municipality"],
                                   channel=(channel or rep.s["channels"][None]).lower())
                elif channel:
                    source = channel
                cite = f'<cite>{esc(source)}</cite>' if source else ""
                items.append(f'<blockquote class="sp-quote sp-{sent}"><p>{esc(_truncate(r["text"]))}</p>{cite}'
                             f'</blockquote>')
            if not items:
                items.append(f'<p class="sp-empty">{esc(rep.t("quotes_empty"))}</p>')
            cols.append(f'<div class="sp-quotecol"><h4 class="sp-{sent}">{esc(rep.s["sentiments"][sent])}</h4>'
                        f'{"".join(items)}</div>')
        parts.append(f'<section class="sp-quotes" data-topic="{esc(topic)}"><h3>{esc(rep.topic(topic))}</h3>'
                     f'<div class="sp-quotegrid">{"".join(cols)}</div></section>')
    return parts


def reproduce_command(rep: Report) -> str:
    """The exact `synpunkt report ...` command that makes this report again."""
    cmd = ["synpunkt", "report", "--year", str(rep.year)]
    if rep.code:
        cmd += ["--municipality", rep.code]
    if rep.lang != "sv":
        cmd += ["--lang", rep.lang]
    cmd += ["--warehouse", str(Path(rep.warehouse).resolve())]
    if rep.model_dir and Path(rep.model_dir).resolve() != config.model_dir().resolve():
        cmd += ["--model", str(Path(rep.model_dir).resolve())]
    return " ".join(_shell_quote(c) for c in cmd)


def _shell_quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def section_method(rep: Report) -> list[str]:
    """Model version and its evaluation, comment counts, quarantine and failed batches, how to reproduce."""
    parts = [_h2(rep, "h_method", "method"), _p(esc(rep.t("method_intro")))]
    lang = rep.lang
    version = current_model_version(rep.con)
    ev = model_evaluation(rep.model_dir, version)
    rows: list[tuple[str, str]] = [(rep.t("m_model"), f"<code>{esc(version)}</code>")]
    notes = []
    if ev.get("found"):
        def f1(value, ci, tgt):
            if value is None:
                return "–"
            ci_txt = ""
            if ci:
                label = "95&nbsp;%&nbsp;KI" if lang == "sv" else "95% CI"
                ci_txt = f" ({label} {fmt_num(ci[0], 2, lang)}–{fmt_num(ci[1], 2, lang)})"
            target = ""
            if tgt:
                met = rep.t("m_met") if tgt.get("met") else rep.t("m_not_met")
                target = f"; {esc(rep.t('m_target', target=fmt_num(tgt['target'], 2, lang), met=met))}"
            return f"<b>{fmt_num(value, 2, lang)}</b>{ci_txt}{target}"

        rows.append((rep.t("m_sentiment_f1"), f1(ev["sentiment_macro_f1"], ev["sentiment_macro_f1_ci"],
                                                 ev.get("sentiment_target"))))
        rows.append((rep.t("m_topic_f1"), f1(ev["topic_micro_f1"], ev["topic_micro_f1_ci"], ev.get("topic_target"))))
        notes.append(esc(rep.t("m_eval_note", n=ev.get("n"), date=ev.get("date"), path=ev["path"])))
        if ev.get("topic_micro_f1") is not None and ev.get("sentiment_macro_f1") is not None and \
                ev["topic_micro_f1"] < ev["sentiment_macro_f1"]:
            notes.append(esc(rep.t("m_topic_caveat")))
        if version and ev.get("eval_version") and ev["eval_version"] != version:
            notes.append(esc(rep.t("m_eval_other", eval_version=ev["eval_version"], version=version)))
    else:
        notes.append(esc(rep.t("m_no_eval", path=ev["path"])))
    shares = year_shares(rep.con, rep.year, rep.code)
    n_year = int(shares[shares["topic"] == "all"]["n"].sum()) if not shares.empty else 0
    q = quality_counts(rep.con, rep.code)
    reasons = ", ".join(f"{esc(rep.s['reasons'].get(code, code))} {fmt_int(n, lang)}" for code, n in q["reasons"])
    rows += [
        (rep.t("m_comments", year=rep.year), fmt_int(n_year, lang)),
        (rep.t("m_comments_all"), fmt_int(q["comments_all_years"], lang)),
        (rep.t("m_batches"), fmt_int(q["batches"], lang)),
        (rep.t("m_rows"), f"{fmt_int(q['rows_received'], lang)} / {fmt_int(q['rows_accepted'], lang)} / "
                          f"{fmt_int(q['rows_quarantined'], lang)}"),
        (rep.t("m_reasons"), reasons or rep.t("m_none")),
        (rep.t("m_failed"), fmt_int(q["failed_batches"], lang)),
        (rep.t("m_data_as_of"), esc(_fmt_time(q["data_as_of"]))),
        (rep.t("m_generated"), esc(_fmt_time(datetime.now()))),
        (rep.t("m_warehouse"), f"<code>{esc(Path(rep.warehouse).resolve())}</code>"),
    ]
    table = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in rows)
    parts.append(f'<table class="sp-table sp-kv" data-table="method"><tbody>{table}</tbody></table>')
    if notes:
        parts.append("<ul class=\"sp-notes\">" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>")
    parts.append(f"<h3>{esc(rep.t('m_reproduce'))}</h3>")
    parts.append(f'<pre class="sp-cmd"><code>{esc(reproduce_command(rep))}</code></pre>')
    note = rep.t("m_reproduce_all", year=rep.year) if rep.national else rep.t("m_reproduce_note")
    parts.append(_p(esc(note), "sp-note"))
    return parts


def _fmt_time(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(value)


SECTIONS = (section_title, section_year, section_trends, section_benchmark, section_channels,
            section_equal_treatment, section_quotes, section_method)


def keep_together(parts: list[str]) -> list[str]:
    """Group each figure with the heading and paragraphs just before it, so that print never strands a heading
    or an introduction at the foot of a page away from its figure."""
    out: list[str] = []
    for part in parts:
        if part.startswith("<figure"):
            lead: list[str] = []
            while out and len(lead) < 3 and out[-1].startswith(("<h2", "<h3", "<p")):
                lead.insert(0, out.pop())
            out.append('<div class="sp-keep">' + "".join(lead) + part + "</div>")
        else:
            out.append(part)
    return out


def show(parts: list[str]) -> None:
    """Display a section's HTML fragments in the notebook."""
    from IPython.display import HTML, display

    display(HTML("\n".join(keep_together(parts))))


# -- rendering: notebook -> HTML -> PDF, and the folder's index ----------------------------------------------------
CSS = """
:root { --fg: #1f1f1f; --muted: #555; --line: #d9d9d9; --pos: #005A8C; --skep: #8A5A00; --neg: #A33F00; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg);
       font: 16px/1.55 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
main.sp-report { max-width: 62rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
h1.sp-title { font-size: 2rem; line-height: 1.2; margin: 0 0 .4rem; }
h2 { font-size: 1.45rem; margin: 2.4rem 0 .6rem; padding-top: .8rem; border-top: 2px solid #222; }
h3 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
h4 { font-size: 1rem; margin: 0 0 .4rem; }
p { margin: .5rem 0 .8rem; }
.sp-subtitle { font-size: 1.1rem; color: var(--muted); margin-bottom: 1.2rem; }
.sp-keyfigures { font-size: 1.15rem; background: #f3f6f9; border-left: 5px solid #0072B2; padding: .9rem 1.1rem;
                 margin: 1rem 0; }
.sp-note { color: var(--muted); font-size: .92rem; }
.sp-absent { background: #f6f6f6; padding: .7rem 1rem; border-left: 4px solid #999; }
.sp-pos, h4.sp-positive { color: var(--pos); } .sp-skep, h4.sp-skeptical { color: var(--skep); }
.sp-neg, h4.sp-negative { color: var(--neg); }
.sp-up { color: var(--pos); } .sp-down { color: var(--neg); } .sp-nochange { color: #888; }
figure.sp-fig { margin: 1rem 0 1.4rem; }
figure.sp-fig img { display: block; max-width: 100%; height: auto; }
table.sp-table { border-collapse: collapse; margin: .8rem 0 1rem; font-size: .93rem; width: 100%; }
table.sp-table caption { text-align: left; font-weight: bold; padding-bottom: .4rem; }
table.sp-table th, table.sp-table td { border-bottom: 1px solid var(--line); padding: .35rem .55rem;
                                       text-align: left; vertical-align: top; }
table.sp-table thead th { border-bottom: 2px solid #444; font-size: .88rem; }
table.sp-table td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.sp-table td.mark { text-align: center; font-size: 1.05rem; }
table.sp-table tr.sp-sig td { background: #f4f7fb; }
table.sp-kv th { width: 38%; font-weight: normal; color: var(--muted); }
.sp-ci { color: var(--muted); font-size: .88em; }
td.sp-small { color: #8a8a8a; }
.sp-quotes h3 { border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.sp-quotegrid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1rem; }
blockquote.sp-quote { margin: 0 0 .7rem; padding: .5rem .75rem; background: #fafafa; border-left: 4px solid #999;
                      font-size: .93rem; }
blockquote.sp-quote p { margin: 0; }
blockquote.sp-positive { border-left-color: #0072B2; } blockquote.sp-skeptical { border-left-color: #E69F00; }
blockquote.sp-negative { border-left-color: #D55E00; }
blockquote.sp-quote cite { display: block; color: var(--muted); font-size: .82rem; font-style: normal;
                           margin-top: .3rem; }
.sp-empty { color: #888; font-style: italic; font-size: .9rem; }
pre.sp-cmd { background: #f3f3f3; padding: .7rem 1rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
ul.sp-tests li, ul.sp-notes li { margin-bottom: .3rem; }
.jp-Cell, .jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output { margin: 0; padding: 0; }
@media (max-width: 700px) { .sp-quotegrid { grid-template-columns: 1fr; } }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 11pt; }
  main.sp-report { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3, h4 { break-after: avoid; }
  figure.sp-fig, table.sp-table, blockquote.sp-quote, .sp-keyfigures, .sp-keep {
    break-inside: avoid; page-break-inside: avoid; }
  figure.sp-fig img { max-height: 255mm; width: auto; max-width: 100%; }
  .sp-quotes { break-inside: auto; }
}
"""

PDF_HINT = ("PDF not written: headless Chromium was not found. The HTML reports are complete; for PDFs install "
            "Debian's `chromium` package (sudo apt-get install chromium) and run the report again.")


def page_html(body: str, title: str, lang: str) -> str:
    """A complete, self-contained HTML page (no scripts, no external resources)."""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="Synpunkt">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f'<main class="sp-report">\n{body}\n</main>\n</body>\n</html>\n')


def notebook_to_html(notebook_path: Path, title: str, lang: str) -> str:
    """Render an executed report notebook to HTML with the code hidden (nbconvert HTMLExporter)."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    nb = nbformat.read(str(notebook_path), as_version=4)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                log.warning("report notebook wrote to stderr (left out of the report): %s",
                            str(out.get("text", ""))[:500])
                continue
            kept.append(out)
        cell["outputs"] = kept
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    exporter = HTMLExporter(config=c, template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True)
    body, _ = exporter.from_notebook_node(nb)
    return page_html(body, title, lang)


def find_chromium() -> str | None:
    """A headless-capable Chromium or Chrome on PATH (Debian: the `chromium` package)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_command(exe: str, profile: Path, *args: str) -> list[str]:
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            "--hide-scrollbars", f"--user-data-dir={profile}", *args]


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> bool:
    """Print an HTML file to PDF with headless Chromium; False (with a logged reason) when that is not possible."""
    exe = find_chromium()
    if not exe:
        log.warning(PDF_HINT)
        return False
    pdf_path = Path(pdf_path)
    tmp_pdf = pdf_path.with_name(f".{pdf_path.name}.tmp.pdf")
    tmp_pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="synpunkt-chromium-") as profile:
        cmd = chromium_command(exe, Path(profile), "--no-pdf-header-footer", f"--print-to-pdf={tmp_pdf}",
                               Path(html_path).resolve().as_uri())
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (subprocess.TimeoutExpired, OSError) as err:
            log.warning("PDF not written for %s: Chromium failed (%s)", html_path, err)
            tmp_pdf.unlink(missing_ok=True)
            return False
    if not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
        log.warning("PDF not written for %s: Chromium exited with %s: %s", html_path, proc.returncode,
                    (proc.stderr or "")[-400:])
        tmp_pdf.unlink(missing_ok=True)
        return False
    tmp_pdf.replace(pdf_path)
    return True


def screenshot(html_path: Path, png_path: Path, width: int = 1280, height: int = 4000, timeout: float = 120) -> bool:
    """A PNG screenshot of an HTML file with headless Chromium (for documentation)."""
    exe = find_chromium()
    if not exe:
        log.warning(PDF_HINT.replace("PDF", "Screenshot", 1))
        return False
    with tempfile.TemporaryDirectory(prefix="synpunkt-chromium-") as profile:
        cmd = chromium_command(exe, Path(profile), f"--screenshot={Path(png_path).resolve()}",
                               f"--window-size={width},{height}", Path(html_path).resolve().as_uri())
        subprocess.run(cmd, capture_output=True, timeout=timeout)
    return Path(png_path).exists()


def default_out_dir(year: int) -> Path:
    """Where a year's reports go by default: $SYNPUNKT_HOME/reports/<year>/."""
    return config.home() / "reports" / str(year)


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


def report_stem(year: int, code: str | None, name: str, lang: str) -> str:
    """File name stem: synpunkt-2025-0180-stockholm-sv, synpunkt-2025-national-en."""
    return f"synpunkt-{year}-{code}-{_slug(name)}-{lang}" if code else f"synpunkt-{year}-national-{lang}"


@dataclass
class RenderedReport:
    year: int
    municipality: str | None
    name: str
    lang: str
    html: str
    pdf: str | None
    notebook: str
    n: int
    net_score: float
    net_score_lo: float
    net_score_hi: float
    seconds: float


def render_report(year: int, municipality: str | None = None, lang: str = "sv", out_dir: Path | str | None = None,
                  warehouse: Path | str | None = None, model_dir: Path | str | None = None, pdf: bool = True,
                  notebook: Path | str = NOTEBOOK, timeout: int = 600) -> RenderedReport:
    """Execute the report notebook headless (papermill), render it to HTML (code hidden) and, if Chromium is
    available and pdf=True, to PDF. Returns where the files are."""
    import papermill

    started = time.monotonic()
    warehouse = Path(warehouse).resolve() if warehouse else config.published_path().resolve()
    rep = open_report(year, municipality, lang, warehouse, model_dir)  # validates before starting a kernel
    try:
        year, code, name, title = rep.year, rep.code, rep.name, page_title(rep)
        shares = year_shares(rep.con, year, code)
        head = shares[shares["topic"] == "all"].iloc[0]
    finally:
        rep.close()
    out = Path(out_dir) if out_dir else default_out_dir(year)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    stem = report_stem(year, code, name, lang)
    executed = out / "notebooks" / f"{stem}.ipynb"
    params = {"year": int(year), "municipality": code, "lang": lang, "warehouse": str(warehouse),
              "model_dir": str(Path(model_dir).resolve()) if model_dir else None}
    papermill.execute_notebook(str(notebook), str(executed), parameters=params, kernel_name="python3",
                               progress_bar=False, log_output=False, cwd=str(out), execution_timeout=timeout)
    html_path = out / f"{stem}.html"
    html_path.write_text(notebook_to_html(executed, title, lang), encoding="utf-8")
    pdf_path = None
    if pdf:
        target = out / f"{stem}.pdf"
        if print_pdf(html_path, target):
            pdf_path = str(target)
    return RenderedReport(year=year, municipality=code, name=name, lang=lang, html=str(html_path), pdf=pdf_path,
                          notebook=str(executed), n=int(head["n"]), net_score=float(head["net_score"]),
                          net_score_lo=float(head["net_score_lo"]), net_score_hi=float(head["net_score_hi"]),
                          seconds=round(time.monotonic() - started, 1))


def report_targets(warehouse: Path | str | None, year: int) -> list[tuple[str | None, str]]:
    """(code, name) for the national report (None) and every municipality with data in `year`."""
    from synpunkt.publish import open_published

    con = open_published(Path(warehouse) if warehouse else None)
    try:
        munis = municipalities_with_data(con, year)
    finally:
        con.close()
    return [(None, "national")] + list(zip(munis["code"], munis["name"]))


def write_index(out_dir: Path | str, year: int, reports: list[RenderedReport | dict], lang: str = "sv",
                warehouse: Path | str | None = None) -> Path:
    """index.html linking every report in the folder (merged with earlier runs via index.json)."""
    out = Path(out_dir)
    manifest_path = out / "index.json"
    entries: dict[str, dict] = {}
    if manifest_path.exists():
        try:
            entries = {e["html"]: e for e in json.loads(manifest_path.read_text(encoding="utf-8"))}
        except (ValueError, KeyError, TypeError):
            entries = {}
    for r in reports:
        d = asdict(r) if isinstance(r, RenderedReport) else dict(r)
        d["html"] = Path(d["html"]).name
        d["pdf"] = Path(d["pdf"]).name if d.get("pdf") else None
        d["notebook"] = str(Path(d["notebook"]).relative_to(out)) if d.get("notebook") and \
            Path(d["notebook"]).is_relative_to(out) else d.get("notebook")
        entries[d["html"]] = d
    entries = {k: v for k, v in entries.items() if (out / k).exists()}
    manifest_path.write_text(json.dumps(list(entries.values()), indent=1, ensure_ascii=False), encoding="utf-8")
    s = strings(lang)
    ordered = sorted(entries.values(), key=lambda e: (e["municipality"] is not None, e["name"], e["lang"]))
    rows = []
    for e in ordered:
        label = s["index_national"] if e["municipality"] is None else f"{e['name']} ({e['municipality']})"
        links = f'<a href="{esc(e["html"])}">HTML</a>'
        if e.get("pdf"):
            links += f' · <a href="{esc(e["pdf"])}">PDF</a>'
        interval = fmt_interval(e["net_score_lo"], e["net_score_hi"], lang)
        net = f'{fmt_signed(e["net_score"], lang)} <span class="sp-ci">({interval})</span>'
        rows.append(f"<tr><td>{esc(label)}</td><td>{esc(e['lang'])}</td><td class=\"num\">{fmt_int(e['n'], lang)}</td>"
                    f"<td class=\"num\">{net}</td><td>{links}</td></tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in (s["index_report"], s["index_lang"], s["col_n"], s["col_net"], ""))
    title = s["index_title"].format(year=year)
    intro = s["index_intro"].format(generated=_fmt_time(datetime.now()),
                                    warehouse=Path(warehouse).resolve() if warehouse else config.published_path())
    body = (f'<h1 class="sp-title">{esc(title)}</h1><p class="sp-note">{esc(intro)}</p>'
            f'<table class="sp-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p class="sp-note">{s["net_explained"]}</p>')
    index = out / "index.html"
    index.write_text(page_html(body, title, lang), encoding="utf-8")
    return index
