// Optimizers with PyTorch's update rules (torch.optim.SGD / Adam / AdamW, default options otherwise).
//
// With g the gradient, θ the parameter, α the learning rate, λ the weight decay, t the step (from 1):
//   sgd:       g ← g + λθ;  θ ← θ − α·g                              (course text 5.1 when λ = 0)
//   momentum:  g ← g + λθ;  v ← μ·v + g;  θ ← θ − α·v                (v starts at 0, so v₁ = g₁)
//   nesterov:  g ← g + λθ;  v ← μ·v + g;  θ ← θ − α·(g + μ·v)
//   adam:      g ← g + λθ;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//              θ ← θ − α·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
//   adamW:     θ ← θ·(1 − αλ), then the adam update with λ = 0 (decoupled weight decay)
// Weight decay applies only to parameters with `decays` true: dense weights. Biases and batchnorm
// γ/β are never decayed.

public enum OptimizerKind: Equatable {
    case sgd
    case momentum(momentum: Double)
    case nesterov(momentum: Double)
    case adam(beta1: Double, beta2: Double, epsilon: Double)
    case adamW(beta1: Double, beta2: Double, epsilon: Double)

    public static let adamDefaults = OptimizerKind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    public static let adamWDefaults = OptimizerKind.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

    /// Names of the per-parameter state tensors this optimizer keeps.
    public var slotNames: [String] {
        switch self {
        case .sgd: return []
        case .momentum, .nesterov: return ["velocity"]
        case .adam, .adamW: return ["m", "v"]
        }
    }
}

/// One per-parameter optimizer state tensor, for checkpoints (`--resume`).
public struct OptimizerSlot<T: EngineScalar> {
    /// "<parameter name>.<slot>", e.g. "0.weight.m", "3.bias.velocity".
    public var name: String
    public var shape: [Int]
    public var values: [T]
    public init(name: String, shape: [Int], values: [T]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

public final class Optimizer<T: EngineScalar> {
    public let kind: OptimizerKind
    public let weightDecay: Double
    /// Updates done so far (Adam's t is stepCount after increment). Schedules read it as their t.
    public var stepCount: Int = 0
    public let parameters: [Parameter<T>]
    /// slots[p][s]: state s (see `kind.slotNames`) of parameter p, same shape as the parameter.
    let slots: [[EngineTensor<T>]]

    /// An optimizer for the given parameters (usually `network.parameters`), all state zero.
    public init(_ kind: OptimizerKind, weightDecay: Double = 0, parameters: [Parameter<T>]) {
        self.kind = kind
        self.weightDecay = weightDecay
        self.parameters = parameters
        slots = parameters.map { p in kind.slotNames.map { EngineTensor(name: $0, shape: p.value.shape) } }
    }

    /// Applies one update to every parameter from its current gradient.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func step(learningRate: Double) {
        stepCount += 1
        for index in 0..<parameters.count { update(index, learningRate: learningRate) }
    }

    /// Updates one parameter, a vector of lanes at a time (each lane does the scalar formula above
    /// exactly, so the result does not depend on the vector width).
    @inline(__always)
    private func update(_ index: Int, learningRate: Double) {
        typealias V = T.Vector
        let parameter = parameters[index]
        let theta = parameter.value.pointer, g = parameter.gradient.pointer
        let count = parameter.value.count
        let lr = V(repeating: T(learningRate))
        let decay = V(repeating: parameter.decays ? T(weightDecay) : 0)
        switch kind {
        case .sgd:
            forEachVector(T.self, count: count) { i, lanes in
                let t = loadLanes(theta + i, lanes)
                storeLanes(t - lr * (loadLanes(g + i, lanes) + decay * t), theta + i, lanes)
            }
        case let .momentum(momentumValue):
            let mu = V(repeating: T(momentumValue)), velocity = slots[index][0].pointer
            forEachVector(T.self, count: count) { i, lanes in
                let t = loadLanes(theta + i, lanes)
                let v = mu * loadLanes(velocity + i, lanes) + (loadLanes(g + i, lanes) + decay * t)
                storeLanes(v, velocity + i, lanes)
                storeLanes(t - lr * v, theta + i, lanes)
            }
        case let .nesterov(momentumValue):
            let mu = V(repeating: T(momentumValue)), velocity = slots[index][0].pointer
            forEachVector(T.self, count: count) { i, lanes in
                let t = loadLanes(theta + i, lanes)
                let gi = loadLanes(g + i, lanes) + decay * t
                let v = mu * loadLanes(velocity + i, lanes) + gi
                storeLanes(v, velocity + i, lanes)
                storeLanes(t - lr * (gi + mu * v), theta + i, lanes)
            }
        case let .adam(beta1, beta2, epsilon), let .adamW(beta1, beta2, epsilon):
            let decoupled: Bool
            if case .adamW = kind { decoupled = true } else { decoupled = false }
            let m = slots[index][0].pointer, v = slots[index][1].pointer
            let t = Double(stepCount)
            let b1 = T(beta1), b2 = T(beta2)
            // Bias corrections folded into per-step constants, as PyTorch does:
            //   θ ← θ − (α/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
            let stepSize = V(repeating: T(learningRate / (1 - pow(beta1, t))))
            let inverseSqrtCorrection2 = V(repeating: T(1 / (1 - pow(beta2, t)).squareRoot()))
            let eps = V(repeating: T(epsilon))
            let keep1 = V(repeating: b1), take1 = V(repeating: 1 - b1)
            let keep2 = V(repeating: b2), take2 = V(repeating: 1 - b2)
            let l2: V = decoupled ? V() : decay
            let shrink: V = decoupled ? 1 - lr * decay : V(repeating: 1)
            forEachVector(T.self, count: count) { i, lanes in
                let ti = loadLanes(theta + i, lanes)
                let gi = loadLanes(g + i, lanes) + l2 * ti
                let mi = keep1 * loadLanes(m + i, lanes) + take1 * gi
                let vi = keep2 * loadLanes(v + i, lanes) + take2 * gi * gi
                storeLanes(mi, m + i, lanes)
                storeLanes(vi, v + i, lanes)
                let denominator = T.squareRoot(vi) * inverseSqrtCorrection2 + eps
                storeLanes(ti * shrink - stepSize * mi / denominator, theta + i, lanes)
            }
        }
    }

    /// All state tensors, parameter by parameter, in `kind.slotNames` order.
    public func exportSlots() -> [OptimizerSlot<T>] {
        var result: [OptimizerSlot<T>] = []
        for (p, parameter) in parameters.enumerated() {
            for slot in slots[p] {
                result.append(OptimizerSlot(name: "\(parameter.name).\(slot.name)", shape: slot.shape, values: slot.values))
            }
        }
        return result
    }

    /// Restores state saved by `exportSlots` (and `stepCount` separately); every slot must be present
    /// with the right size.
    public func importSlots(_ saved: [OptimizerSlot<T>], stepCount: Int) throws {
        var byName: [String: OptimizerSlot<T>] = [:]
        for slot in saved { byName[slot.name] = slot }
        for (p, parameter) in parameters.enumerated() {
            for slot in slots[p] {
                let name = "\(parameter.name).\(slot.name)"
                guard let found = byName[name] else {
                    throw EngineError.optimizerStateMismatch(name: name, expected: "shape \(slot.shape)", found: "nothing")
                }
                guard found.values.count == slot.count else {
                    throw EngineError.optimizerStateMismatch(name: name, expected: "\(slot.count) values", found: "\(found.values.count)")
                }
                try slot.setValues(found.values)
            }
        }
        self.stepCount = stepCount
    }
}

import Glibc
