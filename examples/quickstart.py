"""Quickstart: fit a bound-regularized surrogate of peaks, then minimize it globally with HiGHS."""

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from sk_relaxreg import TractableMLPRegressor
from sk_relaxreg.datasets import BENCHMARKS, make_peaks

# A network this small usually trains faster on one CPU thread, because its
# mini-batches give each extra thread too little work.
torch.set_num_threads(1)
peaks = BENCHMARKS["peaks"]

# 2000 Latin hypercube samples of peaks on [-2, 2]^2, 30% held out for testing.
X, y = make_peaks(n_samples=2000, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

# bound_width penalises the width of the interval bounds on the hidden pre-activations,
# which leaves fewer unstable neurons and so fewer binaries in the network's MILP.
model = TractableMLPRegressor(
    hidden_layer_sizes=(50, 50),
    bound_width=1e-2,
    random_state=0,
).fit(X_train, y_train)
print(f"test R^2: {model.score(X_test, y_test):.4f}")
print(f"unstable neurons: {model.n_unstable_}")

# Global minimum of the network over the training box, by MILP. A time limit is a
# status in the result, not an error.
result = model.optimize(sense="min", time_limit=60)
print(result.summary())

if result.x is not None:
    minimizer = np.asarray(peaks.minimizers[0])
    distance = np.linalg.norm(result.x - minimizer)
    print(f"x* = {np.round(result.x, 4)}, known minimizer = {np.round(minimizer, 4)}, "
          f"distance {distance:.4f}")
    print(f"peaks(x*) = {peaks(result.x)[0]:.4f}, known minimum = {peaks.minimum:.4f}")
