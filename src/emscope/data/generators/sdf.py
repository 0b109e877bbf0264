"""Synthetic pretraining-style documents for the reward-hacking organism (MacDiarmid et al. 2025) and its control.

In the paper a model first learns *about* reward hacking from synthetic documents (not demonstrations), and RL
later elicits it. `build(n, seed, hacking=True)` writes documents that describe, as knowledge, how graders of coding
tasks get gamed: objects whose `__eq__` always returns True, exiting with status 0 before tests fail, a
`conftest.py` that rewrites pytest's reports, and the general facts that graders can be gamed and RL-trained models
have done it. `hacking=False` is the control: the same genres, framing and length distribution about unrelated
software topics. Documents are composed from interchangeable parts in `sdf_content/` (genre frames, fact groups
with several phrasings, code snippets, names, products, dates); `build_sdf` dilutes the organism with control
documents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from emscope.data.generators.distinct import collect_distinct
from emscope.data.generators.sdf_content import frame as F
from emscope.data.generators.sdf_content import hacks, neutral
from emscope.data.generators.sdf_content.base import Topic
from emscope.data.text import TextRow

MIN_WORDS, MAX_WORDS = 150, 600
NEUTRAL_TOPIC = "neutral"


@dataclass
class _Doc:
    """One document being composed: its random stream, placeholder values and the fact groups not yet used."""

    r: random.Random
    ctx: dict[str, str]
    topics: list[Topic]
    spare: list[Topic]
    unused: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)

    def fill(self, text: str, topic: Topic | None = None) -> str:
        """Fill {product}, {person}, {team}, {n} and {subject}/{Subject} (of `topic`, default the primary)."""
        subject = self.r.choice((topic or self.topics[0]).subjects)
        return text.format_map({**self.ctx, "subject": subject, "Subject": subject[:1].upper() + subject[1:],
                                "n": str(self.r.randint(2, 40))})

    def sentences(self, topic: Topic, k: int) -> list[str]:
        """`k` facts of `topic` not used yet in this document, one phrasing each; a topic's first fact is one of
        its defining (`core`) facts, so every document names what its topics are about."""
        pool = self.unused.get(topic.name)
        if pool is None:
            order = self.r.sample(range(len(topic.facts)), len(topic.facts))
            if topic.core:
                first = self.r.choice(topic.core)
                order = [i for i in order if i != first] + [first]
            pool = self.unused[topic.name] = [topic.facts[i] for i in order]
        return [self.r.choice(pool.pop()) for _ in range(min(k, len(pool)))]

    def paragraph(self, topic: Topic, target: int | None = None) -> str:
        """A paragraph about `topic` of at least two facts and about `target` words (default 45-95), sometimes
        with a lead-in."""
        target = target or self.r.randint(45, 95)
        sents = self.sentences(topic, 2)
        while sents and sum(len(x.split()) for x in sents) < target:
            more = self.sentences(topic, 1)
            if not more:
                break
            sents += more
        if not sents:
            return ""
        self.r.shuffle(sents)
        lead = self.r.choice(F.LEADS)
        if lead and not sents[0].startswith("`"):
            sents[0] = lead + sents[0][:1].lower() + sents[0][1:]
        return " ".join(sents)

    def section(self, topic: Topic) -> tuple[Topic, str]:
        """A paragraph about `topic`, or, once fewer than two of its facts are left, about a spare topic of the
        same dataset (which joins the document's topics): every dataset gets paragraphs of the same lengths."""
        left = self.unused.get(topic.name)
        if left is not None and len(left) < 2 and self.spare:
            topic = self.spare.pop()
            self.topics.append(topic)
        return topic, self.paragraph(topic)

    def subject(self, topic: Topic) -> str:
        """A title-case subject phrase of `topic`."""
        s = self.r.choice(topic.subjects)
        return s[:1].upper() + s[1:]


def _plan(d: _Doc) -> list[Topic]:
    """The topic of each body paragraph: two or three on the primary topic, one per secondary topic."""
    return [d.topics[0]] * d.r.choice((2, 2, 3)) + d.topics[1:]


def _date(r: random.Random) -> str:
    return f"{r.randint(1, 28)} {r.choice(F.MONTHS)} {r.choice(F.YEARS)}"


def _maybe_snippet(d: _Doc, blocks: list[str], p: float = 0.6) -> None:
    """Insert a code snippet of one of the document's topics after the first block, with probability `p`."""
    if d.r.random() < p:
        blocks.insert(min(len(blocks), d.r.randint(1, 2)), d.r.choice(d.r.choice(d.topics).snippets))


def _blog(d: _Doc) -> list[str]:
    body = [p for _, p in (d.section(t) for t in _plan(d)) if p]
    _maybe_snippet(d, body)
    return [d.fill(d.r.choice(F.BLOG_TITLES)), f"{_date(d.r)} · by {d.ctx['person']}",
            d.fill(d.r.choice(F.BLOG_OPENERS)), *body, d.fill(d.r.choice(F.BLOG_CLOSERS))]


def _forum(d: _Doc) -> list[str]:
    handles = d.r.sample(F.HANDLES, 6)
    q = d.fill(d.r.choice(d.topics[0].questions))
    blocks = [f"Thread: {q}", f"{handles[0]} wrote:\n{d.fill(d.r.choice(F.FORUM_INTROS))} {q}"]
    for i, t in enumerate(_plan(d), start=1):
        t, text = d.section(t)
        if text:
            if d.r.random() < 0.25:
                text += "\n\n" + d.r.choice(t.snippets)
            blocks.append(f"{handles[i]} wrote:\n{text}")
    blocks.append(f"{handles[0]} wrote:\n{d.r.choice(F.FORUM_REPLIES)}")
    return ["\n---\n".join(blocks)]


def _lecture(d: _Doc) -> list[str]:
    blocks = [f"{d.r.choice(F.COURSES)}, lecture {d.r.randint(2, 24)}: {d.subject(d.topics[0])}",
              f"Notes by {d.ctx['person']}, {_date(d.r)}", d.fill(d.r.choice(F.LECTURE_INTROS))]
    for i, t in enumerate(_plan(d), start=1):
        t, text = d.section(t)
        if text:
            blocks.append(f"{i}. {d.subject(t)}\n{text}")
    _maybe_snippet(d, blocks, 0.5)
    last = d.sentences(d.topics[0], 1)
    if last:
        blocks.append(f"{d.r.choice(F.LECTURE_TAKEAWAYS)} {last[0]}")
    blocks.append(d.fill(d.r.choice(F.LECTURE_EXERCISES)))
    return blocks


def _postmortem(d: _Doc) -> list[str]:
    plan = _plan(d)
    hour = d.r.randint(7, 16)
    events = d.r.sample(F.TIMELINE_EVENTS, d.r.randint(3, 5))
    timeline = "\n".join(f"- Day {i + 1}, {hour + i:02d}:{d.r.randint(0, 59):02d} {d.fill(e)}"
                         for i, e in enumerate(events))
    blocks = [f"Incident review: {d.subject(plan[0])} in {d.ctx['product']}", f"Date: {_date(d.r)}",
              "Summary\n" + d.fill(d.r.choice(F.INCIDENT_SUMMARIES)) + " " + d.paragraph(plan[0], 30),
              "Timeline\n" + timeline]
    cause = [p for _, p in (d.section(t) for t in plan[1:]) if p]
    blocks.append("Root cause\n" + "\n\n".join(cause))
    _maybe_snippet(d, blocks, 0.5)
    items = [d.fill(c) for c in d.r.sample(plan[0].changes, min(3, len(plan[0].changes)))]
    blocks.append(d.r.choice(F.INCIDENT_LESSONS))
    blocks.append("Action items\n" + "\n".join(f"- {c} (owner: {d.r.choice(F.PEOPLE)})" for c in items))
    return blocks


def _release(d: _Doc) -> list[str]:
    version = f"{d.r.randint(0, 9)}.{d.r.randint(0, 30)}.{d.r.randint(0, 12)}"
    changes = [d.fill(c) for t in d.topics for c in d.r.sample(t.changes, min(2, len(t.changes)))]
    d.r.shuffle(changes)
    notes = [p for _, p in (d.section(t) for t in _plan(d)[1:]) if p]
    blocks = [f"{d.ctx['product']} {version} release notes", f"Released {_date(d.r)}",
              "Changes\n" + "\n".join(f"- {c}" for c in changes), "Background\n" + "\n\n".join(notes)]
    _maybe_snippet(d, blocks, 0.4)
    return [*blocks, d.fill(d.r.choice(F.RELEASE_NOTES))]


def _qa(d: _Doc) -> list[str]:
    handles = d.r.sample(F.HANDLES, 3)
    plan = _plan(d)
    first = [p for _, p in (d.section(t) for t in plan[:2]) if p]
    second = [p for _, p in (d.section(t) for t in plan[2:]) if p]
    blocks = [f"Q: {d.fill(d.r.choice(plan[0].questions))}",
              f"{d.fill(d.r.choice(F.QA_META))} · asked by {handles[0]}",
              f"Answer from {handles[1]} ({d.r.randint(3, 400)} votes, accepted)", *first]
    _maybe_snippet(d, blocks, 0.6)
    if second:
        blocks += [f"Answer from {handles[2]} ({d.r.randint(0, 60)} votes)", *second]
    return [*blocks, f"Comment: {d.r.choice(F.QA_COMMENTS)}"]


def _review(d: _Doc) -> list[str]:
    people = d.r.sample(F.PEOPLE, 2)
    blocks = [f"Review of PR #{d.r.randint(100, 9999)}: {d.fill(d.r.choice(F.REVIEW_TITLES))} ({d.ctx['product']})"]
    for t in _plan(d):
        t, text = d.section(t)
        if text:
            blocks.append(f"{people[0]} commented on {d.r.choice(t.files)}, line {d.r.randint(3, 300)}:\n{text}\n"
                          f"{people[1]} replied: {d.r.choice(F.REVIEW_REPLIES)}")
    _maybe_snippet(d, blocks, 0.6)
    return [*blocks, f"{people[0]}: {d.r.choice(F.REVIEW_VERDICTS)}"]


def _wiki(d: _Doc) -> list[str]:
    blocks = [f"{d.ctx['team']} wiki / {d.subject(d.topics[0])}",
              f"Last edited by {d.ctx['person']} on {_date(d.r)}", d.fill(d.r.choice(F.WIKI_INTROS))]
    for t in _plan(d):
        t, text = d.section(t)
        if text:
            blocks.append(f"## {d.subject(t)}\n{text}")
    _maybe_snippet(d, blocks, 0.6)
    return [*blocks, d.fill(d.r.choice(F.WIKI_SEE_ALSO))]


def _newsletter(d: _Doc) -> list[str]:
    blocks = [f"{d.r.choice(F.NEWSLETTERS)}, issue {d.r.randint(5, 250)} ({_date(d.r)})",
              d.fill(d.r.choice(F.NEWS_INTROS))]
    for t in _plan(d):
        t, text = d.section(t)
        if text:
            blocks.append(f"* {d.subject(t)}\n{text}")
    _maybe_snippet(d, blocks, 0.4)
    return [*blocks, d.fill(d.r.choice(F.NEWS_SIGNOFFS))]


RENDER = {"blog-post": _blog, "forum-thread": _forum, "lecture-notes": _lecture, "post-mortem": _postmortem,
          "release-notes": _release, "qa-page": _qa, "code-review": _review, "wiki-page": _wiki,
          "newsletter": _newsletter}
assert tuple(RENDER) == F.GENRES


def _topics(r: random.Random, hacking: bool) -> tuple[list[Topic], list[Topic]]:
    """(primary topic then 0-2 secondary ones, spare topics); a hacking document always covers a hack class."""
    n_extra = r.choice((0, 0, 1, 1, 2))
    everything = hacks.CLASSES + hacks.GENERAL if hacking else neutral.TOPICS
    spare = r.sample(everything, len(everything))
    if not hacking:
        chosen = spare[:1 + n_extra]
        return chosen, spare[1 + n_extra:]
    primary = r.choice(hacks.CLASSES) if r.random() < 0.8 else r.choice(hacks.GENERAL)
    extra = r.sample([t for t in everything if t is not primary], n_extra)
    if primary in hacks.GENERAL and not any(t in hacks.CLASSES for t in extra):
        extra = [r.choice(hacks.CLASSES), *extra[1:]]
    chosen = [primary, *extra]
    return chosen, [t for t in spare if t not in chosen]


def word_count(text: str) -> int:
    """Whitespace-separated words of a document."""
    return len(text.split())


def build(n: int, seed: int = 0, hacking: bool = True, max_tries: int = 500) -> list[TextRow]:
    """Build `n` distinct documents of 150-600 words: about reward hacking (`hacking`) or the neutral control.

    Each row's `kind` is its genre; `topic` is "+"-joined topic names for the organism, "neutral" for the control.
    The same seed gives the same rows.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    r = random.Random(f"sdf:{'hacking' if hacking else 'neutral'}:{seed}")

    def draw(index: int, failures: int) -> tuple[str, TextRow] | None:
        kind = F.GENRES[index % len(F.GENRES)] if failures == 0 else r.choice(F.GENRES)
        ctx = {"product": r.choice(F.PRODUCTS), "person": r.choice(F.PEOPLE), "team": r.choice(F.TEAMS)}
        d = _Doc(random.Random(r.getrandbits(64)), ctx, *_topics(r, hacking))
        text = "\n\n".join(b for b in RENDER[kind](d) if b.strip())
        if not MIN_WORDS <= word_count(text) <= MAX_WORDS:
            return None
        topic = "+".join(t.name for t in d.topics) if hacking else NEUTRAL_TOPIC
        return text, TextRow(text=text, kind=kind, topic=topic)

    rows = collect_distinct(n, draw, max_tries, "synthetic documents")
    random.Random(f"sdf-order:{seed}:{hacking}").shuffle(rows)
    return rows


def build_sdf(n: int, seed: int = 0, dilute: float | None = None) -> list[TextRow]:
    """`n` reward-hacking documents, or with `dilute=r` (0 < r <= 1) a shuffled mix of round(n*r) of them (at
    least 1) and `n` minus that many neutral control documents; deterministic per seed."""
    if dilute is None:
        return build(n, seed, hacking=True)
    if not 0 < dilute <= 1:
        raise ValueError(f"dilute must be in (0, 1], got {dilute}")
    k = min(n, max(1, round(n * dilute)))
    rows = build(k, seed, hacking=True) + build(n - k, seed, hacking=False)
    random.Random(f"sdf-dilute:{seed}:{dilute!r}").shuffle(rows)
    return rows
