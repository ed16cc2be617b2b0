"""Optimization through Pyomo with a second, independent MILP solver (CBC)."""

import shutil

import numpy as np
import pytest

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.datasets import make_peaks

# .ci/run installs CBC (Debian package coinor-cbc); elsewhere these tests need it on PATH.
requires_cbc = pytest.mark.skipif(shutil.which("cbc") is None, reason="cbc is not on PATH")


@pytest.fixture(scope="module")
def peaks_model():
    X, y = make_peaks(300, random_state=0)
    return TractableMLPRegressor(hidden_layer_sizes=(10, 10), max_epochs=15, random_state=0).fit(X, y)


@requires_cbc
@pytest.mark.parametrize("sense", ["min", "max"])
def test_cbc_matches_highs(peaks_model, sense):
    highs = peaks_model.optimize(sense=sense)
    cbc = peaks_model.optimize(sense=sense, solver="cbc", time_limit=60)
    assert highs.status == "optimal"
    assert cbc.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective, abs=1e-5)
    assert cbc.predicted == pytest.approx(cbc.objective, abs=1e-5)
    assert cbc.predicted == pytest.approx(float(peaks_model.predict(cbc.x[None, :])[0]))


@requires_cbc
def test_cbc_reports_infeasible(peaks_model):
    result = peaks_model.optimize(solver="cbc", output_bounds=[[1e3, 2e3]])
    assert result.status == "infeasible"
    assert result.x is None
