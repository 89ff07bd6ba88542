"""`synpunkt demo`: realistic sample submissions for eight municipalities over three years, then the pipeline.

The comments are the project's own written examples (data/comments/comments.jsonl), sampled with a different
sentiment mix per municipality and year so that there are trends to find, given dates and channels, and some
fictitious personal data (to show redaction) and bad rows (to show quarantine). Files come in every supported
format and encoding, the way real exports do, and one is corrupt (to show a failed batch).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from synpunkt.data import load_in_domain

DEMO_MUNICIPALITIES = {  # code -> (sentiment drift per year, base positive share)
    "0180": (+0.04, 0.58), "1480": (+0.08, 0.50), "1280": (-0.03, 0.55), "0380": (0.00, 0.62),
    "2480": (+0.02, 0.66), "0980": (-0.06, 0.60), "1880": (+0.05, 0.52), "2584": (-0.04, 0.57),
}
FICTITIOUS_PERSONAL_DATA = [  # appended to some comments; all invented (121212-1212 is Skatteverket's test number)
    " Ring mig gärna på 070-123 45 67.", " Mitt personnummer är 121212-1212.", " Svara till anna.berg@example.se.",
    " Handläggaren Karin Lindqvist var den som hjälpte mig.", " Jag bor på Storgatan 12B, 123 45 Exempelby.",
    " Kontakta mig på 08-123 456 78 efter kl 17.", " Jag pratade med Mohammed Ali i receptionen.",
]
CHANNELS = ["telefon", "telefon", "telefon", "e-post", "e-post", "chatt", "besök"]


@dataclass
class DemoFile:
    municipality: str
    year: int
    name: str
    data: bytes


def _mix(code: str, year_index: int) -> dict[str, float]:
    drift, base = DEMO_MUNICIPALITIES[code]
    positive = min(0.85, max(0.25, base + drift * year_index))
    skeptical = 0.12 + 0.02 * (year_index % 2)
    return {"positive": positive, "skeptical": skeptical, "negative": max(0.05, 1 - positive - skeptical)}


def sample_rows(code: str, year: int, year_index: int, n: int, pool: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """n comments for one municipality and year, with dates, channels, metadata, personal data and bad rows."""
    mix = _mix(code, year_index)
    by_sentiment = {s: pool[pool.sentiment == s]["text"].tolist() for s in mix}
    rows = []
    for i in range(n):
        sentiment = rng.choices(list(mix), weights=list(mix.values()))[0]
        text = rng.choice(by_sentiment[sentiment])
        if rng.random() < 0.06:
            text += rng.choice(FICTITIOUS_PERSONAL_DATA)
        day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        channel = rng.choice(CHANNELS)
        rows.append({"id": f"{code}-{year}-{i + 1:05d}", "datum": day.isoformat(), "kanal": channel,
                     "kommentar": text, "kön": rng.choice(["kvinna", "man", "kvinna", "man", "okänt"]),
                     "samtalstid_min": str(round(rng.lognormvariate(1.6, 0.5), 1)) if channel == "telefon" else ""})
    df = pd.DataFrame(rows)
    # bad rows, as real exports have them: empty comment, broken date, missing date, exact duplicate
    bad = df.sample(n=max(4, n // 30), random_state=rng.randrange(10**6)).index.tolist()
    for k, idx in enumerate(bad):
        if k % 4 == 0:
            df.at[idx, "kommentar"] = "   "
        elif k % 4 == 1:
            df.at[idx, "datum"] = f"{year}-13-{rng.randint(32, 40)}"
        elif k % 4 == 2:
            df.at[idx, "datum"] = ""
        else:
            df.loc[len(df)] = df.loc[idx].to_dict()
    return df


def encode_file(df: pd.DataFrame, code: str, year: int, style: int) -> tuple[str, bytes]:
    """The same table in one of the formats municipalities send (varied by style)."""
    base = f"synpunkter_{code}_{year}"
    if style == 0:
        return f"{base}.csv", df.to_csv(index=False).encode("utf-8")
    if style == 1:
        renamed = df.rename(columns={"kommentar": "Synpunkt", "datum": "Kontaktdatum", "kanal": "Kanal"})
        return f"{base}.csv", renamed.to_csv(index=False, sep=";").encode("cp1252", errors="replace")
    if style == 2:
        buf = io.BytesIO()
        df.to_excel(buf, index=False)
        return f"{base}.xlsx", buf.getvalue()
    if style == 3:
        return f"{base}.jsonl", df.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    if style == 4:
        return f"{base}.json", df.rename(columns={"kommentar": "fritext"}).to_json(
            orient="records", force_ascii=False).encode("utf-8")
    if style == 5:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return f"{base}.parquet", buf.getvalue()
    if style == 6:
        return f"{base}.tsv", df.to_csv(index=False, sep="\t").encode("utf-8")
    return f"{base}.csv", df.to_csv(index=False).encode("utf-8-sig")


def demo_files(years: tuple[int, ...], per_year: int = 120, seed: int = 2025) -> list[DemoFile]:
    """All demo submissions, plus one corrupt file that must come out as a failed batch."""
    rng = random.Random(seed)
    pool = load_in_domain()
    pool = pool[pool.text.str.len() > 0]
    files = []
    for style, code in enumerate(DEMO_MUNICIPALITIES):
        for year_index, year in enumerate(years):
            df = sample_rows(code, year, year_index, per_year + rng.randrange(-20, 40), pool, rng)
            name, data = encode_file(df, code, year, style)
            files.append(DemoFile(code, year, name, data))
    files.append(DemoFile("2584", years[-1], f"synpunkter_2584_{years[-1]}_tillagg.xlsx", b"PK\x03\x04 not a workbook"))
    return files


def land_files(files: list[DemoFile]) -> list:
    """Land the files as a municipality's submissions would be (origin "demo"); returns the receipts.

    Landed directly rather than through the folder inbox, which collects a file only once it has settled
    (SYNPUNKT_INBOX_SETTLE_SECONDS): the demo's files are complete when written.
    """
    from synpunkt.landing import land_bytes

    return [land_bytes(f.data, f.municipality, f.name, "demo") for f in files]


def summary_lines(con, year: int) -> list[str]:
    """'79 % positive, 4 % skeptical, 17 % negative' per municipality and topic, from the published views."""
    from synpunkt.labels import TOPIC_LABELS_EN

    rows = con.execute(
        "SELECT municipality_code, municipality, topic, n, share_positive, share_skeptical, share_negative, net_score "
        "FROM yearly_shares WHERE year = ? ORDER BY municipality_code, topic = 'all' DESC, topic", [year]).fetchall()
    lines, current = [], None
    for code, name, topic, n, pos, skep, neg, net in rows:
        if code != current:
            lines.append(f"\n{name} ({code}), {year}:")
            current = code
        label = "All comments" if topic == "all" else TOPIC_LABELS_EN.get(topic, topic)
        lines.append(f"  {label:<28} {pos:>4.0%} positive, {skep:>4.0%} skeptical, {neg:>4.0%} negative"
                     f"   (n={n}, net {net:+.0f})")
    return lines
