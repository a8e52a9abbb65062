"""How often QA agrees with each analyst: percent agreement and Cohen's kappa, for the
category (under the decision's law) and the age band, overall and per category."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from openhotline.assessment.models import MediaGrade, Review, ReviewState, Stage
from openhotline.assessment.review import compared_label


def kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels; None with no pairs. When chance agreement is
    total (both raters used one and the same label throughout) it is 1."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def percent(pairs: Sequence[tuple[str, str]]) -> float | None:
    if not pairs:
        return None
    return 100.0 * sum(a == b for a, b in pairs) / len(pairs)


@dataclass
class Figures:
    n: int
    percent: float | None
    kappa: float | None


def figures(pairs: Sequence[tuple[str, str]]) -> Figures:
    return Figures(len(pairs), percent(pairs), kappa(pairs))


@dataclass
class AnalystAgreement:
    analyst: str
    reviews: int = 0
    verdicts: list[tuple[str, str]] = field(default_factory=list)
    categories: list[tuple[str, str]] = field(default_factory=list)
    age_bands: list[tuple[str, str]] = field(default_factory=list)

    @property
    def verdict(self) -> Figures:
        return figures(self.verdicts)

    @property
    def category(self) -> Figures:
        return figures(self.categories)

    @property
    def age_band(self) -> Figures:
        return figures(self.age_bands)

    def per_category(self) -> list[tuple[str, Figures]]:
        """For each category the analyst gave: how often QA gave the same, and kappa of
        that category against the rest."""
        rows = []
        for label in sorted({a for a, _ in self.categories}):
            given = [(a, b) for a, b in self.categories if a == label]
            one_vs_rest = [(str(a == label), str(b == label)) for a, b in self.categories]
            rows.append((label, Figures(len(given), percent(given), kappa(one_vs_rest))))
        return rows


def by_analyst() -> list[AnalystAgreement]:
    """Agreement figures for every analyst with at least one completed review."""
    done = (
        Review.objects.filter(
            state__in=[ReviewState.AGREED, ReviewState.DISPUTED, ReviewState.RESOLVED]
        )
        .select_related("decision__analyst")
        .order_by("decision__analyst__username", "pk")
    )
    results: dict[int, AnalystAgreement] = {}
    reviews = list(done)
    grades = MediaGrade.objects.filter(
        decision__review__in=reviews, stage__in=[Stage.FIRST, Stage.QA]
    )
    by_decision: dict[int, dict[str, dict[int, MediaGrade]]] = {}
    for g in grades:
        by_decision.setdefault(g.decision_id or 0, {}).setdefault(g.stage, {})[g.media_id] = g
    for review in reviews:
        decision = review.decision
        row = results.setdefault(
            decision.analyst_id, AnalystAgreement(decision.analyst.get_username())
        )
        row.reviews += 1
        row.verdicts.append((str(decision.criminal), str(review.criminal)))
        stages = by_decision.get(decision.pk, {})
        first, second = stages.get(Stage.FIRST, {}), stages.get(Stage.QA, {})
        for media_id, a in first.items():
            b = second.get(media_id)
            if b is None:
                continue
            row.categories.append(
                (
                    compared_label(a, decision.mapping, "category"),
                    compared_label(b, decision.mapping, "category"),
                )
            )
            if a.is_csam and b.is_csam:
                row.age_bands.append((a.age_band, b.age_band))
    return list(results.values())
