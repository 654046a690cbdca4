//! Numeric helpers shared by the figures: finiteness filters, range
//! sanitising, clipping, colours, and tick placement and labels.

use plotters::prelude::*;

/// Both coordinates finite.
pub(crate) fn finite2(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

/// Splits a polyline at non-finite points so that a gap is never bridged.
pub(crate) fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for p in points {
        if finite2(p) {
            cur.push(*p);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// A usable axis interval: finite, ordered and of non-zero width. Falls back
/// to `fallback` (or widens a degenerate interval) instead of failing.
pub(crate) fn sane_range(r: (f64, f64), fallback: (f64, f64)) -> (f64, f64) {
    let (a, b) = r;
    if !a.is_finite() || !b.is_finite() {
        return fallback;
    }
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if hi - lo > 1e-12 * (1.0 + lo.abs().max(hi.abs())) {
        (lo, hi)
    } else {
        let w = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - w, hi + w)
    }
}

/// Min and max of the finite values, if any.
pub(crate) fn finite_extent<I: IntoIterator<Item = f64>>(values: I) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widens an interval by `frac` of its width on each side.
pub(crate) fn pad(r: (f64, f64), frac: f64) -> (f64, f64) {
    let w = r.1 - r.0;
    (r.0 - frac * w, r.1 + frac * w)
}

/// Clips the segment `a`–`b` to the box `[x0,x1]×[y0,y1]` (Liang–Barsky).
/// Returns `None` if no part of it is inside.
pub(crate) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    xr: (f64, f64),
    yr: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0_f64;
    let mut t1 = 1.0_f64;
    for (p, q) in [
        (-dx, a.0 - xr.0),
        (dx, xr.1 - a.0),
        (-dy, a.1 - yr.0),
        (dy, yr.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// Clips a polyline to a box, returning the visible pieces. Non-finite points
/// break the line.
pub(crate) fn clip_polyline(
    points: &[(f64, f64)],
    xr: (f64, f64),
    yr: (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for run in finite_runs(points) {
        if run.len() == 1 {
            let p = run[0];
            if p.0 >= xr.0 && p.0 <= xr.1 && p.1 >= yr.0 && p.1 <= yr.1 {
                out.push(vec![p]);
            }
            continue;
        }
        let mut cur: Vec<(f64, f64)> = Vec::new();
        for w in run.windows(2) {
            match clip_segment(w[0], w[1], xr, yr) {
                Some((p, q)) => {
                    if cur.last() != Some(&p) {
                        if !cur.is_empty() {
                            out.push(std::mem::take(&mut cur));
                        }
                        cur.push(p);
                    }
                    cur.push(q);
                }
                None => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Viridis colour at `t ∈ [0, 1]` (clamped; NaN maps to 0).
pub(crate) fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ViridisRGB::get_color(t)
}

/// Blends `c` towards white by `w ∈ [0, 1]`.
pub(crate) fn lighten(c: RGBColor, w: f64) -> RGBColor {
    let f = |x: u8| (f64::from(x) + (255.0 - f64::from(x)) * w).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

// ---------------------------------------------------------------------------
// Axes with our own tick placement: plotters' automatic ticks are fine for
// linear axes but print log axes as raw floats, so both kinds go through
// `Axis`, which maps data to plot coordinates (log10 for log axes) and chooses
// the key points and their labels.

/// One axis: data interval, optional log scale, and tick placement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    /// Interval in plot coordinates (log10 of the data for a log axis).
    pub lo: f64,
    /// Upper end in plot coordinates.
    pub hi: f64,
    /// Whether plot coordinates are log10 of data.
    pub log: bool,
}

impl Axis {
    /// A linear axis over `r` (sanitised).
    pub fn linear(r: (f64, f64)) -> Self {
        let (lo, hi) = sane_range(r, (0.0, 1.0));
        Axis { lo, hi, log: false }
    }

    /// A log axis over the data interval `r` (both ends must be positive;
    /// otherwise a default decade range is used).
    pub fn log(r: (f64, f64)) -> Self {
        let (a, b) = r;
        let (lo, hi) = if a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() {
            sane_range((a.log10(), b.log10()), (0.0, 1.0))
        } else {
            (0.0, 1.0)
        };
        Axis { lo, hi, log: true }
    }

    /// Linear or log axis over data interval `r`.
    pub fn new(r: (f64, f64), log: bool) -> Self {
        if log { Self::log(r) } else { Self::linear(r) }
    }

    /// Data value to plot coordinate; `None` if it cannot be shown.
    pub fn fwd(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }

    /// The plot-coordinate interval.
    pub fn range(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Tick positions in plot coordinates.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let first = self.lo.ceil() as i64;
            let last = self.hi.floor() as i64;
            if !self.dense_log() {
                let decades = last - first + 1;
                let step = ((decades as f64) / 7.0).ceil().max(1.0) as i64;
                return (first..=last)
                    .filter(|e| (e - first) % step == 0)
                    .map(|e| e as f64)
                    .collect();
            }
            // Fewer than three powers of ten visible: label 2× and 5× too
            // (every integer multiple within a single decade).
            let mults: &[f64] = if self.hi - self.lo < 1.0 {
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
            } else {
                &[1.0, 2.0, 5.0]
            };
            let mut t = Vec::new();
            for e in (self.lo.floor() as i64)..=(self.hi.ceil() as i64) {
                for &m in mults {
                    let v = (m * 10f64.powi(e as i32)).log10();
                    if v >= self.lo - 1e-9 && v <= self.hi + 1e-9 {
                        t.push(v);
                    }
                }
            }
            if t.len() < 2 {
                // Well under a decade: fall back to linear-style ticks.
                t = nice_ticks(10f64.powf(self.lo), 10f64.powf(self.hi), 5)
                    .into_iter()
                    .filter(|v| *v > 0.0)
                    .map(f64::log10)
                    .collect();
            }
            t
        } else {
            nice_ticks(self.lo, self.hi, 7)
        }
    }

    /// A log axis showing fewer than three powers of ten, which gets ticks
    /// at 2× and 5× as well and plain-number labels.
    fn dense_log(&self) -> bool {
        self.log && (self.hi.floor() - self.lo.ceil()) < 2.0
    }

    /// Label for a tick at plot coordinate `t`.
    pub fn label(&self, t: f64) -> String {
        if self.log {
            let r = t.round();
            // Mixing "10⁻¹" with "0.2" reads badly, so dense axes use plain numbers.
            if (t - r).abs() < 1e-9 && !self.dense_log() {
                pow10_label(r as i32)
            } else {
                minus_sign(fmt_num(10f64.powf(t), 3))
            }
        } else {
            let step = nice_step(self.hi - self.lo, 7);
            minus_sign(fmt_tick(t, step))
        }
    }
}

/// Typographic minus (U+2212) instead of the hyphen, as in print.
pub(crate) fn minus_sign(s: String) -> String {
    if s.contains('-') {
        s.replace('-', "−")
    } else {
        s
    }
}

/// "10⁻³" style label with Unicode superscripts (present in DejaVu Sans).
pub(crate) fn pow10_label(e: i32) -> String {
    match e {
        0 => "1".to_string(),
        1 => "10".to_string(),
        _ => {
            const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
            let mut s = String::from("10");
            if e < 0 {
                s.push('⁻');
            }
            for d in e.unsigned_abs().to_string().chars() {
                s.push(SUP[d.to_digit(10).unwrap_or(0) as usize]);
            }
            s
        }
    }
}

/// A 1-2-5 step giving about `n` intervals over `span`.
pub(crate) fn nice_step(span: f64, n: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Multiples of a 1-2-5 step inside `[lo, hi]`.
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = nice_step(hi - lo, n);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    if last < first || last - first > 1000 {
        return vec![lo, hi];
    }
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // Avoid printing "-0".
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect()
}

/// Formats a tick value with just enough decimals for `step`.
pub(crate) fn fmt_tick(v: f64, step: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
    }
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    };
    format!("{v:.decimals$}")
}

/// Compact number: `sig` significant digits, scientific outside [1e-3, 1e5).
pub(crate) fn fmt_num(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.prec$e}", prec = sig.saturating_sub(1));
    }
    let decimals = (sig as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}
