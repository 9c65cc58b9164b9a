"""Judging warnings as an operator does, for the model and the threshold alerts alike: per failure
the lead time of the first warning, the share of failures warned 24 h and 48 h ahead, and false-alarm
episodes per healthy unit-month (an episode no failure or corrective repair follows). Pure pandas on
small frames (one row per unit-hour or per episode).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOURS_PER_MONTH = 730.0
EPISODE_COLUMNS = ["compressor_id", "opened_at", "cleared_at"]


def lead_times(episodes: pd.DataFrame, events: pd.DataFrame, *, lookback_hours: float, period: tuple) -> pd.DataFrame:
    """Per failure work order in ``period``: the lead time (hours) of the first warning in its run-up
    (since the unit's previous work order ended, at most ``lookback_hours``); NaN if none."""
    start, end = period
    failures = events[(events.event_type == "failure") & (events.started_at > start) & (events.started_at <= end)]
    out = []
    for f in failures.itertuples():
        earlier = events[(events.compressor_id == f.compressor_id) & (events.started_at < f.started_at)]
        ended = earlier.ended_at.dropna()
        boundary = max([f.started_at - pd.Timedelta(hours=lookback_hours), *ended[ended < f.started_at]])
        mine = episodes[episodes.compressor_id == f.compressor_id]
        active = mine[(mine.opened_at < f.started_at) & (mine.cleared_at.isna() | (mine.cleared_at > boundary))]
        first = active.opened_at.clip(lower=boundary).min() if len(active) else pd.NaT
        lead = (f.started_at - first) / pd.Timedelta(hours=1) if pd.notna(first) else np.nan
        out.append((f.compressor_id, f.started_at, f.failure_mode, lead))
    return pd.DataFrame(out, columns=["compressor_id", "failed_at", "failure_mode", "lead_hours"])


def false_alarms(episodes: pd.DataFrame, events: pd.DataFrame, *, horizon_hours: float, period: tuple) -> pd.DataFrame:
    """The episodes opened in ``period`` that no failure or corrective repair of their unit follows
    within ``horizon_hours`` of their clearing. An episode still open, or cleared less than the
    horizon before the period ends, is not judged: what follows it is not observed yet (censored,
    as the labels are)."""
    start, end = period
    found = events[events.event_type.isin(["failure", "corrective_repair"])]
    horizon = pd.Timedelta(hours=horizon_hours)
    judged = episodes[
        (episodes.opened_at >= start) & episodes.cleared_at.notna() & (episodes.cleared_at + horizon <= end)
    ]

    def followed(e) -> bool:
        mine = found[found.compressor_id == e.compressor_id]
        return bool(((mine.started_at >= e.opened_at) & (mine.started_at <= e.cleared_at + horizon)).any())

    # A boolean array, not a list: an empty list would select no columns rather than no rows.
    return judged[np.array([not followed(e) for e in judged.itertuples()], dtype=bool)]


def summarize(
    name: str,
    episodes: pd.DataFrame,
    events: pd.DataFrame,
    *,
    healthy_hours: float,
    healthy_units: set[str],
    horizon_hours: float,
    lookback_hours: float,
    period: tuple,
) -> tuple[dict, pd.DataFrame]:
    """One row of the comparison table for one warning source, and its per-failure lead times."""
    leads = lead_times(episodes, events, lookback_hours=lookback_hours, period=period)
    wrong = false_alarms(episodes, events, horizon_hours=horizon_hours, period=period)
    lead = leads.lead_hours.fillna(0.0)
    n = len(leads)
    row = {
        "source": name,
        "failures": n,
        "warned_before_failure": int((lead > 0).sum()),
        "median_lead_hours": float(lead.median()) if n else np.nan,
        "share_warned_24h": float((lead >= 24).mean()) if n else np.nan,
        "share_warned_48h": float((lead >= 48).mean()) if n else np.nan,
        "false_alarm_episodes": len(wrong),
        "false_alarms_per_healthy_unit_month": len(wrong) / (healthy_hours / HOURS_PER_MONTH)
        if healthy_hours
        else np.nan,
        "false_alarms_on_healthy_units": int(wrong.compressor_id.isin(healthy_units).sum()),
    }
    return row, leads.assign(source=name)


def rul_errors(frame: pd.DataFrame, *, label: str = "rul_hours", predicted: str = "rul_hours_predicted") -> dict:
    rows = frame[frame[label].notna()]
    error = rows[predicted] - rows[label]
    return {"rul_mae_hours": float(error.abs().mean()), "rul_rmse_hours": float(np.sqrt((error**2).mean()))}


def slow_failures_warned(
    leads: pd.DataFrame, truth: pd.DataFrame, *, min_degradation_hours: float = 48.0, lead_hours: float = 24.0
) -> dict[str, float]:
    """Per warning source: of the failures that degraded for ``min_degradation_hours`` or more, the
    share warned at least ``lead_hours`` ahead. How long a failure degraded is known only from a
    simulated fleet's answer key (``ground_truth``): it judges, it never labels. A failure matches
    its answer-key row by unit and a trip within the hour."""
    truth = truth.assign(**{c: _naive_utc(truth[c]) for c in ("degradation_start", "failure_at")})
    slow = truth[(truth.failure_at - truth.degradation_start) >= pd.Timedelta(hours=min_degradation_hours)]
    leads = leads.assign(failed_at=_naive_utc(leads.failed_at))
    matched = leads.merge(slow.loc[:, ["compressor_id", "failure_at"]], on="compressor_id")
    matched = matched[(matched.failed_at - matched.failure_at).abs() <= pd.Timedelta(hours=1)]
    return {
        source: float((group.lead_hours.fillna(0.0) >= lead_hours).mean())
        for source, group in matched.groupby("source")
    }


def _naive_utc(times: pd.Series) -> pd.Series:
    """Spark hands timestamps to pandas as naive UTC; Parquet written by pandas may carry a zone."""
    times = pd.to_datetime(times)
    return times.dt.tz_convert("UTC").dt.tz_localize(None) if times.dt.tz is not None else times


def alarms_while_healthy(episodes: pd.DataFrame, truth: pd.DataFrame) -> dict[str, int]:
    """Per warning source (``episodes`` with a ``source`` column): the episodes that opened while
    their unit was healthy by the answer key, outside every degradation of the unit (from its start
    to its repair). A sensor fault on a healthy unit is such an alarm; a warning of a degradation that
    only a work order after the data's end would reveal is not (the work orders alone count it false)."""
    truth = truth.assign(**{c: _naive_utc(truth[c]) for c in ("degradation_start", "repaired_at")})
    opened = episodes.assign(opened_at=_naive_utc(episodes.opened_at)).reset_index(drop=True)
    spans = opened.reset_index().merge(
        truth.loc[:, ["compressor_id", "degradation_start", "repaired_at"]], on="compressor_id"
    )
    during = (spans.opened_at >= spans.degradation_start) & (
        spans.repaired_at.isna() | (spans.opened_at <= spans.repaired_at)
    )
    healthy = opened.drop(index=spans.loc[during, "index"].unique())
    return {str(k): int(v) for k, v in healthy.groupby("source").size().items()}
