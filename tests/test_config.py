from importlib import resources

import pytest
import yaml
from pydantic import ValidationError

from altaviz.config import load_config


def _write(tmp_path, mutate):
    data = yaml.safe_load(resources.files("altaviz").joinpath("conf/altaviz.yaml").read_text())
    mutate(data)
    path = tmp_path / "altaviz.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_environment_variable_points_at_another_config(tmp_path, monkeypatch):
    path = _write(tmp_path, lambda d: d["simulation"].update(n_compressors=25))
    monkeypatch.setenv("ALTAVIZ_CONFIG", str(path))
    assert load_config().simulation.n_compressors == 25


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["thresholds"]["vibration_mms"].update(critical=3.0), "critical .* must lie beyond warning"),
        (
            lambda d: d["thresholds"].update(oil_level={"direction": "high", "warning": 1, "critical": 2, "unit": "%"}),
            "unknown sensors",
        ),
        (lambda d: d["validation"]["ranges"].pop("horsepower"), "lacks sensors \\['horsepower'\\]"),
        (lambda d: d["simulation"].update(interval_minutes=0), "interval_minutes"),
        (lambda d: d["fleet"]["stations"][0].update(latitude=51.5), "latitude"),
        (lambda d: d["alerts"].update(clear_margin=0.1), "clear_margin"),
    ],
)
def test_invalid_configuration_fails_with_the_field_named(tmp_path, mutate, message):
    with pytest.raises(ValidationError, match=message):
        load_config(_write(tmp_path, mutate))
