"""Calibration (after matching): choose cells of a spec so that its estimates fit measured runs.

The runs are matched to the report's sweep points as `perfdsl eval --measured` matches them (perfdsl.matching).
Each fitted cell is replaced by a number that scipy.optimize.least_squares chooses, within bounds, to minimise a
robust loss (soft_l1 by default) of the weighted log ratios log(estimated / measured) of the chosen metrics over
every run at once. Then:

- cross-validation: leave one group of runs out (`group_by`: an axis of the report such as `model`, `hardware`,
  `n_gpus`, or `source`, the run log), refit on the others and predict the group;
- uncertainty: a bootstrap of the fit (residuals resampled onto the fitted estimates, or runs resampled), and the
  percentile interval of each cell;
- identifiability: a cell that ends at a bound, that no run's estimate depends on, or that the runs only determine
  in combination with other cells (a small singular value of the Jacobian in log units) is flagged.

How it evaluates: the program is built and checked once with the fitted cells overridden; each step writes the
cells' new values into that program's blocks and runs a fresh evaluator over the whole sweep (numpy, every run at
once). On the seed report's six single-GPU A5000 points (2 shared cores) a step takes 4.4 ms this way, against
51 ms for `Program.evaluate(overrides=...)`, which applies the overrides to the IR, relinks and rechecks (best of 15
to 30 runs each).

The only module that imports scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.optimize import least_squares

from .calibration_folds import FLAT_RATIO, NO_EFFECT, check_fitted, check_movable, one_sided_flags, undetermined
from .calibration_runs import FitCell, Metric, Observations
from .constraints import evaluate_requires
from .errors import UsageError, error
from .evaluator import Evaluator

LOSSES = ("linear", "soft_l1", "huber", "cauchy", "arctan")
RESAMPLING = ("residuals", "runs")
STUCK = 1e-6             # relative distance to a bound that counts as at the bound
LOOSE = 0.25             # a standard error above this (25%, in log units) leaves a cell undetermined
PENALTY = 50.0           # the residual of an estimate that is not finite (a cell at a value the model refuses)


@dataclass
class Fold:
    """One fold of the cross-validation: the runs of `group` (a value of the `group_by` axis) held out. `held_out` is
    flat, the indices of its observations; `values` has shape (p,), the cells refitted on the other runs (SI);
    `estimated` is flat, one SI estimate per held-out observation. Both are None where too few runs are left to refit,
    and `note` says why. `undetermined` lists the cells the other runs do not determine (calibration_folds.py): the
    refit's value of such a cell is where the optimiser stopped, not one the runs chose, so `estimated` is None
    there too (the held-out error is not available) while `values` keeps the refit."""

    group: str
    held_out: np.ndarray     # observation indices
    values: np.ndarray | None             # the cells refitted without the group (None: too few runs left)
    estimated: np.ndarray | None          # held-out estimates, SI (None: not refitted, or a cell not determined)
    note: str = ""
    undetermined: list = field(default_factory=list)   # calibration_folds.Undetermined: cells the others leave open


@dataclass
class Flag:
    """A warning about a fitted cell (or, for a flat combination, several cells joined by ", "): the runs do not
    determine it well (no effect on any estimate, at a bound, a large standard error, a flat direction, a wide
    bootstrap interval). `hint` says what to do."""

    cell: str
    message: str
    hint: str


@dataclass
class Calibration:
    """The outcome of `calibrate`: values, errors, folds, bootstrap samples, flags. Shapes: n observations, p cells."""

    cells: list[FitCell]
    metrics: list[Metric]
    obs: Observations
    values: np.ndarray                   # (p,) SI
    estimated: np.ndarray                # (n,) at the fitted values, SI
    start_estimated: np.ndarray          # (n,) at the start values
    folds: list[Fold]
    samples: np.ndarray                  # (B, p) bootstrap refits
    flags: list[Flag]
    singular_values: np.ndarray
    loss: str
    f_scale: float
    resampling: str
    group_by: str | None
    files: list[str]
    n_runs: int
    evaluations: int = 0
    diagnostics: list = field(default_factory=list)

    def interval(self, level: float = 0.95) -> np.ndarray:
        """(p, 2) percentile bootstrap interval of each cell, SI; nan without samples."""
        if not len(self.samples):
            return np.full((len(self.cells), 2), np.nan)
        tail = 100 * (1 - level) / 2
        return np.percentile(self.samples, [tail, 100 - tail], axis=0).T

    def relative_errors(self, estimated: np.ndarray | None = None) -> np.ndarray:
        """(estimated - measured) / measured per observation."""
        est = self.estimated if estimated is None else estimated
        return (est - self.obs.measured) / self.obs.measured

    def cv_estimated(self) -> np.ndarray:
        """Held-out estimates of every observation (nan where its fold could not be refitted, where the other runs
        leave a fitted cell open, Fold.undetermined, and where the refit breaks a `require` at the run)."""
        out = np.full(len(self.obs.measured), np.nan)
        for fold in self.folds:
            if fold.estimated is not None:
                out[fold.held_out] = fold.estimated
        return out

    def mape(self, metric: int, estimated: np.ndarray | None = None, where: np.ndarray | None = None) -> float:
        """Mean absolute relative error of one metric over its runs (optionally a subset), as a fraction."""
        mask = self.obs.metric == metric
        if where is not None:
            mask &= where
        errors = np.abs(self.relative_errors(estimated))[mask]
        errors = errors[np.isfinite(errors)]
        return float(errors.mean()) if len(errors) else float("nan")

    def spread(self, metric: int, level: float = 0.95) -> tuple[float, float]:
        """Factors (low, high) such that a new run's measured value is within estimate x [low, high] at `level`.

        From the log residuals log(measured / estimate) of the held-out estimates where there are folds, else of
        the in-sample ones: their mean +- the Student-t quantile x their standard deviation x sqrt(1 + 1/n), the
        normal prediction interval for one more run. (nan, nan) where there are too few: fewer than 2 held-out
        residuals, or in sample no more runs than cells + 1 (the fit leaves no spread to measure).
        """
        held = self.cv_estimated()
        in_sample = not np.isfinite(held).any()
        est = self.estimated if in_sample else held
        mask = (self.obs.metric == metric) & np.isfinite(est)
        logs = np.log(self.obs.measured[mask] / est[mask])
        if len(logs) < 2 or (in_sample and len(logs) <= len(self.cells) + 1):
            return float("nan"), float("nan")
        half = stats.t.ppf(0.5 + level / 2, len(logs) - 1) * logs.std(ddof=1) * math.sqrt(1 + 1 / len(logs))
        return float(math.exp(logs.mean() - half)), float(math.exp(logs.mean() + half))


# ---- the fast estimator ---------------------------------------------------------------------------------------

class Estimator:
    """The chosen metrics at every sweep point for any values of the fitted cells, without relinking.

    Built once: the program with the fitted cells overridden, its report context and checked types. A call writes
    the values into the blocks that hold the cells and runs a fresh evaluator, with the report's constraints.
    Returns (metrics, points) in SI, nan at the points whose constraints the values break (listed in `violations`).
    """

    def __init__(self, program, report: str | None, overrides: dict, cells: list[FitCell], metrics: list[Metric]):
        texts = {cell.name: cell.literal(cell.start) for cell in cells}
        self.program = program.with_overrides({**overrides, **texts}, report)
        self.ctx, self.checker = self.program.prepare(report)
        self.types = self.checker.types
        self.violations = []       # the constraints (constraints.Violation) the last call's values break
        self.metrics = metrics
        self.cells = cells
        blocks = self.program.blocks.values()
        self.holders = [[b for b in blocks if b.owner.get(c.cell) == c.block and c.cell in b.cells] for c in cells]
        self.calls = 0
        self.constraints = self._constraints_on_cells()

    def _constraints_on_cells(self) -> list:
        """The report's constraints (as check_requires gives them) whose condition reads a fitted cell, directly or
        through other cells: those the fit's values can break. Found once, at the start values, from what a fresh
        evaluator computes for each condition (its memo holds every cell a condition read); the others hold at the
        runs' points whatever the fit does (matching kept only points that meet them), and evaluating them at every
        step nearly doubled a step's time (20 -> 35 ms on the seed's six runs)."""
        evaluator = Evaluator(self.program.blocks, self.ctx, self.program.sources, self.types)

        def reached():
            for metric in self.metrics:
                evaluator.ref(metric.ref, self.ctx.report)
            return self.program._constraints_reached(evaluator, self.ctx, self.checker)[0]

        fitted = {(block.name, cell.cell) for cell, holders in zip(self.cells, self.holders) for block in holders}
        kept = []
        for constraint in evaluator.run(reached):
            probe = Evaluator(self.program.blocks, self.ctx, self.program.sources, self.types)
            probe.run(lambda: evaluate_requires(probe, [constraint], "omit"))
            if any((name, cell) in fitted for name, cell, _ in probe.memo):
                kept.append(constraint)
        return kept

    def __call__(self, values: np.ndarray) -> np.ndarray:
        for cell, holders, value in zip(self.cells, self.holders, values):
            for block in holders:
                old = block.cells[cell.cell]
                number = old.expr.model_copy(update={"value": float(value)})
                block.cells[cell.cell] = old.model_copy(update={"expr": number})
        evaluator = Evaluator(self.program.blocks, self.ctx, self.program.sources, self.types)
        report = self.ctx.report
        shape = self.ctx.shape
        self.calls += 1

        def run():
            table = np.stack([np.broadcast_to(evaluator._rank(evaluator.ref(m.ref, report)), shape).reshape(-1)
                              .astype(float) for m in self.metrics])
            return table, evaluate_requires(evaluator, self.constraints, "omit")

        table, validity = evaluator.run(run)
        self.violations = validity.violations
        # A point where the values break the model's `require` has no estimate: the fit refuses it (PENALTY), as
        # `perfdsl eval` leaves such a point out, instead of fitting to a number the model does not allow.
        valid = np.broadcast_to(validity.valid, shape).reshape(-1)
        return table if valid.all() else np.where(valid, table, np.nan)


# ---- fitting --------------------------------------------------------------------------------------------------

class Fitter:
    """least_squares over the fitted cells, scaled to their start values, for any subset of the observations."""

    def __init__(self, estimator: Estimator, obs: Observations, cells: list[FitCell], loss: str, f_scale: float):
        self.estimator = estimator
        self.obs = obs
        self.scale = np.array([abs(c.start) or max(abs(c.low), abs(c.high), 1e-300) for c in cells])
        self.low = np.array([c.low for c in cells]) / self.scale
        self.high = np.array([c.high for c in cells]) / self.scale
        self.loss = loss
        self.f_scale = f_scale
        self.root_weight = np.sqrt(obs.weight)

    def estimate(self, values: np.ndarray) -> np.ndarray:
        """Estimates of every observation at the cells' values (SI)."""
        table = self.estimator(values)
        return table[self.obs.metric, self.obs.point]

    def fit(self, start: np.ndarray, rows: np.ndarray, measured: np.ndarray | None = None):
        """Fit on observations `rows` (repeats allowed) against `measured` (default: the runs); (values, result)."""
        target = (self.obs.measured if measured is None else measured)[rows]
        weight = self.root_weight[rows]

        def residuals(x):
            with np.errstate(all="ignore"):
                est = self.estimate(x * self.scale)[rows]
                r = weight * np.log(est / target)
            return np.where(np.isfinite(r), r, PENALTY)

        x0 = np.clip(start / self.scale, self.low, self.high)      # trf moves it strictly inside itself
        result = least_squares(residuals, x0, bounds=(self.low, self.high), loss=self.loss, f_scale=self.f_scale,
                               method="trf", xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=200)
        return result.x * self.scale, result


def calibrate(problem, *, loss: str = "soft_l1", f_scale: float = 0.05, bootstrap: int = 100,
              resampling: str = "residuals", seed: int = 0, starts: int = 8, progress=None) -> Calibration:
    """Fit, cross-validate, bootstrap and check identifiability.

    `problem` is a perfdsl.calibration_runs.Problem. `loss` and `f_scale` go to least_squares (f_scale in log ratio:
    0.05 makes errors beyond about 5% count linearly). `bootstrap` refits (0: none) resample `resampling`
    ("residuals" or "runs") with numpy's generator seeded by `seed`. The fit starts from the cells' values and from
    `starts` more points spread over the bounds, and keeps the best (see best_of_starts). `progress(done, total)` is
    called after each fit of the cells (least squares from one start): the fit's 1 + `starts`, each fold's as many
    (at once for a fold with too few runs to fit), and each bootstrap refit, so that a bar moves from the first
    second of the fit, which takes most of the time (the CLI's Progress: on a terminal, quiet with -q). Raises UsageError for a setting check_settings refuses, PerfError
    (error[fit-breaks-constraint]) where the model's `require`s pin a cell at its start (check_movable) or the fit
    ends at values that break one (check_fitted). The fit never uses an estimate at values that break a `require`
    (Estimator: nan there, PENALTY in the residuals).
    """
    check_settings(loss, f_scale, bootstrap, resampling, seed, starts)
    cells, obs = problem.cells, problem.obs
    estimator = Estimator(problem.program, problem.report, problem.overrides, cells, problem.metrics)
    fitter = Fitter(estimator, obs, cells, loss, f_scale)
    start = np.array([c.start for c in cells])
    start_estimated = fitter.estimate(start)
    points = np.unique(obs.point)
    check_movable(estimator, cells, start, points)
    groups = list(dict.fromkeys(obs.group.tolist())) if problem.group_by else []
    per_fit = 1 + max(starts, 0)          # best_of_starts: from the start values and `starts` spread points
    total, done = per_fit * (1 + len(groups)) + max(bootstrap, 0), 0

    def tick(count: int = 1):
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    tick(0)     # the bar starts with the fit (it shows once a second has passed: quick work leaves no trace)
    values = best_of_starts(fitter, cells, start, starts, seed, tick=tick)
    check_fitted(estimator, cells, values, points)
    estimated = fitter.estimate(values)
    flags, singular = identifiability(cells, values, fitter, estimated)

    left_open = undetermined(fitter, cells, values, np.arange(len(obs.measured)))
    flags.extend(Flag(*found) for found in one_sided_flags(fitter, cells, values, left_open, flags))
    open_anyway = {u.cells for u in left_open}
    folds = []
    if problem.group_by:
        for group in groups:
            held = np.flatnonzero(obs.group == group)
            train = np.flatnonzero(obs.group != group)
            if len(set(obs.point[train].tolist())) < len(cells):
                tick(per_fit)           # not fitted: its share of the bar at once
                folds.append(Fold(group, held, None, None, f"{len(set(obs.point[train].tolist()))} runs left for "
                                                           f"{len(cells)} cells"))
                continue
            # From the user's start values and the same spread starts as the full fit, never from the full fit:
            # that saw the held-out runs, and a cell the other runs leave open would keep the value they chose.
            fold_values = best_of_starts(fitter, cells, start, starts, seed, train, tick=tick)
            fold_open = [u for u in undetermined(fitter, cells, fold_values, train) if u.cells not in open_anyway]
            estimated_held = fitter.estimate(fold_values)[held]
            folds.append(Fold(group, held, fold_values, None if fold_open else estimated_held,
                              undetermined=fold_open))

    samples = bootstrap_samples(fitter, values, estimated, bootstrap, resampling, seed, tick)
    calibration = Calibration(cells, problem.metrics, obs, values, estimated, start_estimated, folds, samples, flags,
                              singular, loss, f_scale, resampling, problem.group_by, problem.files, problem.n_runs,
                              diagnostics=list(problem.diagnostics))
    flags.extend(wide_intervals(calibration))
    calibration.evaluations = estimator.calls
    return calibration


def check_settings(loss: str, f_scale: float, bootstrap: int, resampling: str, seed: int, starts: int) -> None:
    """Raise UsageError (error[bad-option], exit status 2) for a setting of `calibrate` that names no loss or
    resampling, or a count below what it means: refits and spread starts are 0 or more (a negative count was taken as
    0 without a word), the seed 0 or more (numpy's generators refuse a negative one: an internal error after the
    fit), and f_scale a positive finite log ratio (0 gave an internal error, a negative one a fit of no meaning).
    `perfdsl calibrate` checks them before it reads the runs; named as its options."""
    if loss not in LOSSES:
        raise UsageError(error("bad-option", f"--loss {loss}: one of " + ", ".join(LOSSES)))
    if resampling not in RESAMPLING:
        raise UsageError(error("bad-option", f"--resample {resampling}: one of " + ", ".join(RESAMPLING)))
    if not (math.isfinite(f_scale) and f_scale > 0):
        raise UsageError(error("bad-option", f"--f-scale {f_scale:g}: where the robust loss turns linear is a log "
                               "ratio above 0", hints=["give e.g. --f-scale 0.05 (the default: errors beyond about 5% "
                                                       "count linearly)"]))
    counts = (("--bootstrap", bootstrap, "bootstrap refits", "0: none; default 100"),
              ("--starts", starts, "starts spread over the bounds", "0: from the cells' values alone; default 8"))
    for option, count, what, meaning in counts:
        if count < 0:
            raise UsageError(error("bad-option", f"{option} {count}: a count of {what} is 0 or more",
                                   hints=[f"give a whole number, 0 or more ({meaning})"]))
    if seed < 0:
        raise UsageError(error("bad-option", f"--seed {seed}: a seed of the random draws is 0 or more",
                               hints=["give a whole number, 0 or more (default 0)"]))


def best_of_starts(fitter: Fitter, cells: list[FitCell], start: np.ndarray, count: int, seed: int,
                   rows: np.ndarray | None = None, tick=lambda: None) -> np.ndarray:
    """The fit on observations `rows` (default: all) with the lowest loss from the given start and `count` scrambled
    Sobol points over the bounds (the same points for every `rows`: a fold starts where the full fit did); `tick()`
    after each start's fit (a progress bar's step).

    The cost model is piecewise (rooflines take a max, a step takes the longer of device and host time), so the loss
    has flat regions and kinks: a cell that starts where a max() hides it (a host time of 0 under a longer device
    time) gets no gradient and never moves from one start. Points are drawn in log units for cells whose bounds are
    both positive, else linearly.
    """
    everything = np.arange(len(fitter.obs.measured)) if rows is None else rows
    best, best_cost = None, np.inf
    candidates = [start]
    if count > 0:
        low = np.array([c.low for c in cells])
        high = np.array([c.high for c in cells])
        logs = (low > 0) & np.isfinite(high)
        unit = stats.qmc.Sobol(len(cells), scramble=True, seed=seed).random(count)
        lo = np.where(logs, np.log(np.where(logs, low, 1)), low)
        hi = np.where(logs, np.log(np.where(logs, high, 1)), high)
        points = lo + unit * (hi - lo)
        candidates += list(np.where(logs, np.exp(points), points))
    for candidate in candidates:
        values, result = fitter.fit(candidate, everything)
        if result.cost < best_cost - 1e-12 * max(best_cost, 1e-300) or best is None:
            best, best_cost = values, result.cost
        tick()
    return best


def bootstrap_samples(fitter: Fitter, values: np.ndarray, estimated: np.ndarray, count: int, resampling: str,
                      seed: int, tick=lambda: None) -> np.ndarray:
    """(count, p) refits on resampled data, each started from the fit.

    "residuals" (default): the runs are a designed set of configurations, not a random sample of them, so the
    configurations are kept and the log residuals, centred and scaled by sqrt(n / (n - p)) for the degrees of
    freedom the fit used, are drawn with replacement onto the fitted estimates. "runs": runs drawn with replacement
    (all metrics of a run together); with few runs some draws leave cells undetermined, which widens the interval.
    """
    if count <= 0:
        return np.empty((0, len(values)))
    rng = np.random.default_rng(seed)
    obs = fitter.obs
    n, p = len(obs.measured), len(values)
    logs = np.log(obs.measured / estimated)
    logs = (logs - logs.mean()) * math.sqrt(n / (n - p)) if n > p else logs - logs.mean()
    everything = np.arange(n)
    points = np.unique(obs.point)
    samples = []
    for _ in range(count):
        if resampling == "residuals":
            synthetic = estimated * np.exp(logs[rng.integers(0, n, n)])
            fitted, _ = fitter.fit(values, everything, synthetic)
        else:
            drawn = rng.choice(points, len(points), replace=True)
            rows = np.concatenate([np.flatnonzero(obs.point == point) for point in drawn])
            fitted, _ = fitter.fit(values, rows)
        samples.append(fitted)
        tick()
    return np.array(samples)


def identifiability(cells: list[FitCell], values: np.ndarray, fitter: Fitter, estimated: np.ndarray
                    ) -> tuple[list[Flag], np.ndarray]:
    """Flags for cells the runs do not determine, and the singular values of the Jacobian in log units.

    The Jacobian is d log(estimate) / d log(cell) (finite differences, 1e-4 relative steps) over all runs. A cell is
    flagged when no run depends on it (its column is ~0), when it ends at a bound, when its standard error (the
    residual spread times the square root of the diagonal of (J^T J)^-1, in log units) exceeds LOOSE, or when the
    loss is flat along a combination of cells (a singular value below FLAT_RATIO of the largest, whatever the noise;
    its singular vector names the cells).
    """
    flags: list[Flag] = []
    base = np.log(estimated)
    columns = []
    for j, value in enumerate(values):
        step = values.copy()
        step[j] = value * (1 + 1e-4) if value != 0 else 1e-4 * (cells[j].high - cells[j].low)
        ratio = math.log1p(1e-4)
        with np.errstate(all="ignore"):
            moved = fitter.estimate(step)
            # A cell at its upper bound or at a `require`'s edge (bandwidth_efficiency = 1 where the model requires
            # at most 1): the step up has no estimate, so the derivative is taken one step down.
            if not np.isfinite(moved).all() and value != 0:
                step[j] = value * (1 - 1e-4)
                moved, ratio = fitter.estimate(step), math.log1p(-1e-4)
            columns.append((np.log(moved) - base) / ratio)
    jac = np.nan_to_num(np.array(columns).T * np.sqrt(fitter.obs.weight)[:, None])
    sensitivity = np.abs(jac).max(axis=0)
    live = np.flatnonzero(sensitivity >= NO_EFFECT)
    singular, vectors = np.linalg.svd(jac[:, live], full_matrices=False)[1:] if len(live) else (np.empty(0), None)
    n, p = jac.shape
    residuals = np.sqrt(fitter.obs.weight) * (base - np.log(fitter.obs.measured))
    spread = math.sqrt(float(residuals @ residuals) / (n - len(live))) if n > len(live) else float("nan")
    errors = np.full(p, np.nan)
    if len(live) and math.isfinite(spread):
        errors[live] = spread * np.sqrt(np.abs(np.diag(np.linalg.pinv(jac[:, live].T @ jac[:, live]))))
    for j, cell in enumerate(cells):
        span = cell.high - cell.low
        if sensitivity[j] < NO_EFFECT:
            flags.append(Flag(cell.name, "no run's estimate depends on it",
                              "leave it out of --fit, or add runs that exercise it"))
        elif values[j] - cell.low <= STUCK * span or cell.high - values[j] <= STUCK * span:
            bound = cell.literal(cell.low if values[j] - cell.low <= STUCK * span else cell.high)
            flags.append(Flag(cell.name, f"the fit runs to its bound {bound}: the runs do not determine it",
                              _tie_hint(j, cells, jac)))
        elif errors[j] > LOOSE:
            flags.append(Flag(cell.name, f"the runs determine it only to +-{errors[j]:.0%} (standard error in log "
                              "units, from the Jacobian and the residual spread)", _tie_hint(j, cells, jac)))
    if len(singular) and singular[0] > 0:
        for k in np.flatnonzero(singular / singular[0] < FLAT_RATIO):
            involved = [cells[live[j]].name for j in np.flatnonzero(np.abs(vectors[k]) > 0.3)]
            flags.append(Flag(", ".join(involved), f"the loss is flat along a combination of {' and '.join(involved)} "
                              f"(singular value {singular[k] / singular[0]:.1e} of the largest)",
                              "tie one to another (a formula) or fix one (leave it out of --fit)"))
    return flags, singular


def _tie_hint(j: int, cells: list[FitCell], jac: np.ndarray) -> str:
    """Suggest tying cell j to the fitted cell whose effect on the runs is most alike (cosine of the columns)."""
    best, best_cos = None, 0.0
    for k in range(len(cells)):
        if k == j:
            continue
        denom = np.linalg.norm(jac[:, j]) * np.linalg.norm(jac[:, k])
        cos = abs(float(jac[:, j] @ jac[:, k] / denom)) if denom else 0.0
        if cos > best_cos:
            best, best_cos = k, cos
    if best is None:
        return f"fix it: leave {cells[j].name} out of --fit"
    return (f"fix it (leave it out of --fit) or tie it to {cells[best].name}, whose effect on the runs is most alike "
            f"(cosine {best_cos:.2f}): `{cells[j].cell} = {cells[best].cell}` where both are in one block")


def wide_intervals(calibration: Calibration) -> list[Flag]:
    """Cells whose bootstrap interval covers more than half of their bounds (in log units where both are positive)."""
    flags = []
    interval = calibration.interval()
    for cell, (low, high) in zip(calibration.cells, interval):
        if not (np.isfinite(low) and np.isfinite(high)):
            continue
        if cell.low > 0:
            share = math.log(high / low) / math.log(cell.high / cell.low)
        else:
            share = (high - low) / (cell.high - cell.low)
        span = STUCK * (cell.high - cell.low)
        at_bound = low - cell.low <= span or cell.high - high <= span
        if share > 0.5 or at_bound:
            what = f"covers {share:.0%} of its bounds" if share > 0.5 else "reaches a bound"
            flags.append(Flag(cell.name, f"its bootstrap interval {cell.literal(low)} .. {cell.literal(high)} {what}",
                              "the runs pin it loosely: fix it or tie it, or add runs that pin it"))
    return flags

