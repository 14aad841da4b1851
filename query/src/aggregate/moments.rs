//! VARIANCE, SKEW and KURTOSIS (R-OP-MOMENTS): central moment sums kept with a one-pass update
//! and the pairwise merge of Chan et al. / Pébay, extended to the fourth moment.

/// Count, mean and the central moment sums M2, M3, M4.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    pub m2: f64,
    pub m3: f64,
    pub m4: f64,
}

/// Which moment a part finalizes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Variance,
    Skew,
    Kurtosis,
}

impl Moments {
    pub fn of(x: f64) -> Self {
        Moments {
            n: 1.0,
            mean: x,
            m2: 0.0,
            m3: 0.0,
            m4: 0.0,
        }
    }

    /// Folds one input (the merge with a single-element state, simplified).
    pub fn update(&mut self, x: f64) {
        let n1 = self.n;
        let n = n1 + 1.0;
        let delta = x - self.mean;
        let delta_n = delta / n;
        let delta_n2 = delta_n * delta_n;
        let term1 = delta * delta_n * n1;
        self.mean += delta_n;
        self.m4 += term1 * delta_n2 * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n2 * self.m2
            - 4.0 * delta_n * self.m3;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
        self.n = n;
    }

    /// Combines two states (Pébay 2008, eq. 2.1–2.3).
    pub fn merge(&mut self, b: &Moments) {
        if b.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = *b;
            return;
        }
        let (na, nb) = (self.n, b.n);
        let n = na + nb;
        let delta = b.mean - self.mean;
        let delta2 = delta * delta;
        let m2 = self.m2 + b.m2 + delta2 * na * nb / n;
        let m3 = self.m3
            + b.m3
            + delta2 * delta * na * nb * (na - nb) / (n * n)
            + 3.0 * delta * (na * b.m2 - nb * self.m2) / n;
        let m4 = self.m4
            + b.m4
            + delta2 * delta2 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
            + 6.0 * delta2 * (na * na * b.m2 + nb * nb * self.m2) / (n * n)
            + 4.0 * delta * (na * b.m3 - nb * self.m3) / n;
        self.mean += delta * nb / n;
        self.m2 = m2;
        self.m3 = m3;
        self.m4 = m4;
        self.n = n;
    }

    /// The finalized moment; NaN where undefined (the NaN rule R-AGG-3 then makes a direct
    /// output null, while inside buckets it stays, E-10).
    pub fn finalize(&self, moment: Moment) -> f64 {
        let n = self.n;
        match moment {
            Moment::Variance => self.m2 / n,
            Moment::Skew if n < 3.0 || self.m2 == 0.0 => f64::NAN,
            Moment::Skew => n.sqrt() * self.m3 / self.m2.powf(1.5),
            Moment::Kurtosis if n < 4.0 || self.m2 == 0.0 => f64::NAN,
            Moment::Kurtosis => n * self.m4 / (self.m2 * self.m2) - 3.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// R-OP-MOMENTS worked example: [1,2,3,10] has M2 = 50, M3 = 180, M4 = 1394.
    #[test]
    fn worked_example_r_op_moments() {
        let mut m = Moments::default();
        for x in [1.0, 2.0, 3.0, 10.0] {
            m.update(x);
        }
        assert!(
            close(m.m2, 50.0) && close(m.m3, 180.0) && close(m.m4, 1394.0),
            "{m:?}"
        );
        assert!(close(m.finalize(Moment::Variance), 12.5));
        assert!(close(m.finalize(Moment::Skew), 1.0182337649086284));
        assert!(close(m.finalize(Moment::Kurtosis), -0.7696));
    }

    #[test]
    fn merge_equals_one_pass() {
        let xs = [3.5, -1.0, 7.25, 0.0, 2.0, 9.0, -4.5];
        let mut whole = Moments::default();
        xs.iter().for_each(|x| whole.update(*x));
        let (mut a, mut b) = (Moments::default(), Moments::default());
        xs[..3].iter().for_each(|x| a.update(*x));
        xs[3..].iter().for_each(|x| b.update(*x));
        a.merge(&b);
        for (x, y) in [
            (a.m2, whole.m2),
            (a.m3, whole.m3),
            (a.m4, whole.m4),
            (a.mean, whole.mean),
        ] {
            assert!(close(x, y), "{x} vs {y}");
        }
    }

    #[test]
    fn small_counts() {
        let m = Moments::of(4.0);
        assert_eq!(m.finalize(Moment::Variance), 0.0);
        assert!(m.finalize(Moment::Skew).is_nan());
        let mut two = Moments::of(1.0);
        two.update(2.0);
        assert!(two.finalize(Moment::Skew).is_nan(), "SKEW needs n >= 3");
    }
}
