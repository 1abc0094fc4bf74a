// Gradient checking (course text 4.4): central differences in Double for every parameter of every
// layer, compared with backpropagation, one relative error per tensor.

/// The outcome for one parameter tensor.
public struct GradientCheckResult: CustomStringConvertible {
    /// Parameter name, e.g. "0.weight".
    public let name: String
    public let count: Int
    /// ‖numerical − analytical‖ / (‖numerical‖ + ‖analytical‖ + 1e-10)
    public let relativeError: Double
    public let maxAbsoluteDifference: Double
    /// ‖numerical‖ and ‖analytical‖: a tensor whose true gradient is 0 (e.g. a dense bias right before
    /// batchnorm) has both tiny, and its relative error is then noise over noise, not a failure.
    public let numericalNorm: Double
    public let analyticalNorm: Double

    /// Passes when the relative error is below `tolerance`, or both norms are below `zeroNorm`.
    public func passes(tolerance: Double = 1e-6, zeroNorm: Double = 1e-7) -> Bool {
        relativeError < tolerance || (numericalNorm < zeroNorm && analyticalNorm < zeroNorm)
    }

    public var description: String {
        "\(name) (\(count) values): relative error \(relativeError), max |difference| \(maxAbsoluteDifference)"
    }
}

extension Network where T == Double {
    /// Checks every parameter's backpropagated gradient against (L(θ + ε) − L(θ − ε))/(2ε) on one
    /// batch. Batchnorm runs in training mode (batch statistics; running statistics untouched);
    /// dropout masks are drawn once and frozen for all perturbed passes. Parameters are restored.
    /// Cost: two forward passes per parameter value, so use small networks and batches.
    public func gradientCheck(inputs: [Double], rows: Int, targets: Targets<Double>, loss: Loss,
                              epsilon: Double = 1e-5) throws -> [GradientCheckResult] {
        var results: [GradientCheckResult] = []
        try inputs.withUnsafeBufferPointer { x in
            let wasFrozen = layers.map { layer -> Bool in
                if case let .dropout(d) = layer { return d.maskFrozen } else { return false }
            }
            defer {
                for (layer, frozen) in zip(layers, wasFrozen) { if case let .dropout(d) = layer { d.maskFrozen = frozen } }
            }
            _ = try computeGradients(inputs: x, rows: rows, targets: targets, loss: loss, updateRunningStatistics: false)
            setDropoutMasksFrozen(true)
            let analytical = parameters.map { $0.gradient.values }
            for (p, parameter) in parameters.enumerated() {
                let theta = parameter.value.pointer
                var squaredDifference = 0.0, squaredNumerical = 0.0, squaredAnalytical = 0.0, maxDifference = 0.0
                for i in 0..<parameter.value.count {
                    let saved = theta[i]
                    theta[i] = saved + epsilon
                    let plus = try computeGradients(inputs: x, rows: rows, targets: targets, loss: loss, updateRunningStatistics: false)
                    theta[i] = saved - epsilon
                    let minus = try computeGradients(inputs: x, rows: rows, targets: targets, loss: loss, updateRunningStatistics: false)
                    theta[i] = saved
                    let numerical = (plus - minus) / (2 * epsilon)
                    let difference = numerical - analytical[p][i]
                    squaredDifference += difference * difference
                    squaredNumerical += numerical * numerical
                    squaredAnalytical += analytical[p][i] * analytical[p][i]
                    maxDifference = Swift.max(maxDifference, Swift.abs(difference))
                }
                let relative = squaredDifference.squareRoot()
                    / (squaredNumerical.squareRoot() + squaredAnalytical.squareRoot() + 1e-10)
                results.append(GradientCheckResult(name: parameter.name, count: parameter.value.count,
                                                   relativeError: relative, maxAbsoluteDifference: maxDifference,
                                                   numericalNorm: squaredNumerical.squareRoot(),
                                                   analyticalNorm: squaredAnalytical.squareRoot()))
            }
            // Leave the analytical gradients in place, as after computeGradients.
            _ = try computeGradients(inputs: x, rows: rows, targets: targets, loss: loss, updateRunningStatistics: false)
        }
        return results
    }
}
