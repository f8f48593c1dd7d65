//! Comparing the times of kinds of failure that must take as long.
//!
//! The kinds are timed in interleaved rounds, so that each round's samples
//! were taken moments apart. The server's floor follows the work it sees,
//! and the machine's load comes and goes: both move every kind at once,
//! but a step between two rounds splits each kind's samples into a slow
//! and a fast half, so comparing each kind's median alone can fail on a
//! step that every kind took. Comparing within rounds cannot: a step
//! falls inside one round at most, and the median over rounds of each
//! round's slowest-to-fastest ratio leaves that round out. A kind that
//! is always faster stays faster in every round.

use std::time::Duration;

/// `times[kind][round]`: the median over rounds of (slowest kind ÷
/// fastest kind) within the round.
pub(crate) fn spread_within_rounds(times: &[Vec<Duration>]) -> f64 {
    let rounds = times.iter().map(Vec::len).min().unwrap_or(0);
    assert!(rounds > 0, "no rounds timed");
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|round| {
            let of_round = times.iter().map(|kind| kind[round].as_secs_f64());
            let high = of_round.clone().fold(f64::MIN, f64::max);
            let low = of_round.fold(f64::MAX, f64::min);
            high / low
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

#[test]
fn a_step_every_kind_took_is_no_spread_and_a_faster_kind_is() {
    let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect();
    // The CI run that failed on comparing medians: a step from ~50 to
    // ~85 ms in the fourth round, taken by each kind.
    let step: Vec<Vec<Duration>> = vec![
        ms(&[49, 49, 53, 53, 85, 85, 85]),
        ms(&[49, 54, 53, 53, 86, 84, 85]),
        ms(&[49, 54, 52, 84, 85, 86, 85]),
    ];
    assert!(spread_within_rounds(&step) < 1.15);
    let leak: Vec<Vec<Duration>> = vec![
        ms(&[35, 36, 35, 60, 61, 60, 60]),
        ms(&[49, 54, 53, 85, 86, 84, 85]),
    ];
    assert!(spread_within_rounds(&leak) > 1.25);
}
