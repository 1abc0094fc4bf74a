// Learning-rate schedules, the course text's Challenge 2 formulas with its parameter names.
// t counts optimizer steps from 0 (the rate for the first update is the value at t = 0).

import Glibc

public indirect enum LearningRateSchedule: Equatable {
    /// lr
    case constant
    /// lr · decay_rate^⌊t / decay_steps⌋
    case step(decayRate: Double, decaySteps: Int)
    /// lr · decay_rate^t
    case exponential(decayRate: Double)
    /// eta_min + (lr − eta_min)(1 + cos(π t / T_max))/2 for t ≤ T_max; for t > T_max the rate stays
    /// at eta_min (no restart, unlike the formula's periodic continuation).
    case cosine(tMax: Int, etaMin: Double)
    /// lr · t / warmup_steps for t < warmup_steps, then `then` evaluated at t − warmup_steps.
    /// (The course text's warmup is `.warmup(warmupSteps: n, then: .constant)`.)
    case warmup(warmupSteps: Int, then: LearningRateSchedule)

    /// The learning rate at optimizer step t (t ≥ 0) for base rate lr.
    public func learningRate(base lr: Double, step t: Int) -> Double {
        switch self {
        case .constant:
            return lr
        case let .step(decayRate, decaySteps):
            return lr * pow(decayRate, Double(t / Swift.max(decaySteps, 1)))
        case let .exponential(decayRate):
            return lr * pow(decayRate, Double(t))
        case let .cosine(tMax, etaMin):
            guard tMax > 0, t < tMax else { return etaMin }
            return etaMin + (lr - etaMin) * (1 + Glibc.cos(Double.pi * Double(t) / Double(tMax))) / 2
        case let .warmup(warmupSteps, then):
            if t < warmupSteps { return lr * Double(t) / Double(warmupSteps) }
            return then.learningRate(base: lr, step: t - warmupSteps)
        }
    }
}
