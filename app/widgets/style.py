"""Application style sheet (QSS). Verdict colours live here and nowhere else."""

from __future__ import annotations

VERDICT_COLOURS = {
    # verdict: (background, text)
    "OK": ("#1e8e3e", "#ffffff"),
    "REVIEW": ("#f29900", "#1a1a1a"),
    "NG": ("#c5221f", "#ffffff"),
    "": ("#3c4043", "#e8eaed"),  # no result yet / stopped
}


def _verdict_rules() -> str:
    rules = []
    for verdict, (bg, fg) in VERDICT_COLOURS.items():
        rules.append(f'VerdictTile[verdict="{verdict}"] {{ background-color: {bg}; }}\n'
                     f'VerdictTile[verdict="{verdict}"] QLabel {{ color: {fg}; }}')
    return "\n".join(rules)


APP_QSS = """
QMainWindow, QWidget { font-size: 10pt; }
VerdictTile { border-radius: 8px; }
VerdictTile QLabel#verdictText { font-size: 44pt; font-weight: bold; }
VerdictTile QLabel#scoreText { font-size: 16pt; font-weight: bold; }
VerdictTile QLabel#thresholdText { font-size: 9pt; }
VerdictTile[state="frozen"], VerdictTile[state="preview"], VerdictTile[state="frozen+preview"] {
    border: 6px dashed #fdd663; }
VerdictTile QLabel#tileBanner { color: #1a1a1a; background-color: #fdd663; font-size: 12pt;
    font-weight: bold; padding: 2px 4px; border-radius: 3px; }
CountersPanel QLabel[role="value"] { font-size: 15pt; font-weight: bold; }
CountersPanel QLabel[role="name"] { color: #5f6368; }
QLabel#faultText { color: #ffffff; background-color: #c5221f; padding: 1px 6px; border-radius: 3px; }
QLabel#previewBadge { color: #1a1a1a; background-color: #fdd663; padding: 1px 6px; border-radius: 3px; }
""" + _verdict_rules()
