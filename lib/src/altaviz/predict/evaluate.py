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
    within ``horizon_hours`` of their clearing (or of the period's end while open)."""
    start, end = period
    found = events[events.event_type.isin(["failure", "corrective_repair"])]
    inside = episodes[(episodes.opened_at >= start) & (episodes.opened_at <= end)]
    horizon = pd.Timedelta(hours=horizon_hours)

    def followed(e) -> bool:
        until = (e.cleared_at if pd.notna(e.cleared_at) else end) + horizon
        mine = found[found.compressor_id == e.compressor_id]
        return bool(((mine.started_at >= e.opened_at) & (mine.started_at <= until)).any())

    return inside[[not followed(e) for e in inside.itertuples()]]


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
