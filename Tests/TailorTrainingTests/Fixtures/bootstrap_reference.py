"""Reference percentile bootstrap intervals for Tailor's Bootstrap, from numpy.

Values (a 0/1 column, as exact match gives, and a graded one), 1000 resamples of indices drawn
with numpy's generator, the mean of each, and np.percentile's 2.5th and 97.5th (linear
interpolation). Tailor reads the same indices and must give the same interval.

    python3 bootstrap_reference.py > bootstrap.json
"""
import json

import numpy as np

rng = np.random.default_rng(11)
cases = []
for values in [rng.integers(0, 2, size=37).astype(float), rng.random(23).round(3)]:
    indices = rng.integers(0, len(values), size=(1000, len(values)))
    means = values[indices].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    cases.append({"values": values.tolist(), "indices": indices.tolist(), "low": float(low), "high": float(high)})
print(json.dumps(cases))
