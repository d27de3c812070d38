"""Each review type's own section of the report: where a section's figure groups are
assembled.

The service tallies every review type's cases apart (`domain.reporting.tally`, one
`Tally` per workflow id) as well as together, and hands each type's figures here.
`figure_groups` is the one place that turns a type's figures into its headed groups:
one group per report section (`figures.SECTIONS`) that has a figure this type's
workflow measures, headed as the workflow's `[report.titles]` says (a SAR's "local
reviews" are safeguarding adults reviews) or with the section's own heading. Figures
added to `tally.FIGURES` under a section of `SECTIONS` join their type's groups with no
change here; a group made another way (a table rather than figures) is added to
`figure_groups` beside the loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from casereview.domain.reporting.figures import (
    SECTIONS,
    FigureGroup,
    LinkedReview,
    Report,
    ReviewType,
)


def figure_groups(figures: Report, titles: Mapping[str, str]) -> tuple[FigureGroup, ...]:
    """One review type's figure groups: its report's sections in `SECTIONS` order, those
    with no applicable figure left out (a DHR has no notifications to the Panel)."""
    groups = []
    for section_id, title in SECTIONS:
        shown = tuple(f for f in figures.section(section_id))
        if any(f.applicable for f in shown):
            groups.append(FigureGroup(section_id, titles.get(section_id, title), shown))
    return tuple(groups)


def review_type(
    workflow: str,
    label: str,
    title: str,
    figures: Report,
    titles: Mapping[str, str],
    linked: Sequence[LinkedReview] = (),
) -> ReviewType:
    """A review type's section: its figures grouped, and its cases linked to cases of
    other types."""
    return ReviewType(workflow, label, title, figure_groups(figures, titles), tuple(linked))
