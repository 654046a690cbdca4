#!/usr/bin/env python3
"""Reference values for `redqueen metrics` from other people's implementations.

Writes tests/fixtures/metrics/: point sets (CSV, one point a row) and reference.json with
  - precision, recall, density, coverage from `prdc` (clovaai/generative-evaluation-prdc,
    the code of Naeem et al. 2020; its precision/recall are Kynkaanniemi et al. 2019's),
  - the Frechet distance of Gaussian fits by the pytorch-fid formula (numpy.cov and
    scipy.linalg.sqrtm of the product),
  - the 1-D Wasserstein distances W1 (scipy.stats.wasserstein_distance) and W2 (POT's
    ot.wasserstein_1d), which the sliced distances equal in one dimension (the only
    directions are +1 and -1).
tests/metrics_reference.rs scores the same files through the code path of `redqueen metrics`
and compares. Regenerate with:
    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install numpy scipy prdc pot
    /tmp/refvenv/bin/python scripts/metrics_reference.py
"""
import json
import os
from importlib.metadata import version

import numpy as np
import ot
import prdc
import scipy
import scipy.linalg
import scipy.stats

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "metrics")
SEED = 20261201


def ring(rng, n, modes, std, radius=1.0):
    k = rng.integers(0, modes, n)
    a = 2 * np.pi * k / modes
    return np.c_[radius * np.cos(a), radius * np.sin(a)] + std * rng.standard_normal((n, 2))


def cases(rng):
    # 2-D: a generator that covers 6 of the 8 ring modes, a little wide, against the ring.
    g = ring(rng, 400, 8, 0.03)
    g = g[np.arctan2(g[:, 1], g[:, 0]) < 2.2]
    yield "ring2d", g, ring(rng, 350, 8, 0.02)
    # 5-D Gaussians with different means and covariances (unequal sizes).
    a = rng.standard_normal((5, 5))
    b = rng.standard_normal((5, 5)) * 0.5
    yield "gauss5d", rng.standard_normal((220, 5)) @ a + 0.3, rng.standard_normal((260, 5)) @ b
    # 1-D: a two-bump mixture against a skewed unimodal law.
    g1 = np.r_[rng.normal(-2, 0.5, 150), rng.normal(2, 0.5, 130)][:, None]
    yield "mix1d", g1, rng.gamma(2.0, 1.0, 300)[:, None] - 1.0


def frechet(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    ref = {
        "generated_by": "scripts/metrics_reference.py",
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pot": ot.__version__,
            "prdc": version("prdc"),
        },
        "seed": SEED,
        "cases": {},
    }
    for name, g, r in cases(rng):
        for tag, x in (("samples", g), ("target", r)):
            header = ",".join(f"x{j}" for j in range(x.shape[1]))
            np.savetxt(
                os.path.join(OUT, f"{name}_{tag}.csv"),
                x,
                delimiter=",",
                header=header,
                comments="",
                fmt="%.17g",
            )
        c = {"n_samples": len(g), "n_target": len(r)}
        for k in (3, 5):
            m = prdc.compute_prdc(real_features=r, fake_features=g, nearest_k=k)
            c[f"k{k}"] = {key: float(v) for key, v in m.items()}
        c["frechet"] = frechet(g, r)
        if g.shape[1] == 1:
            c["w1"] = float(scipy.stats.wasserstein_distance(g[:, 0], r[:, 0]))
            c["w2"] = float(ot.wasserstein_1d(g[:, 0], r[:, 0], p=2) ** 0.5)
        ref["cases"][name] = c
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
