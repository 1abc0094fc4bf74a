// Losses, each reported as a mean over the batch, and the gradient they send back (already divided
// by the batch size, so layer gradients are sums over rows, like PyTorch's mean-reduced losses).

/// The training loss.
public enum Loss: String, Equatable, CaseIterable {
    /// −Σₖ yₖ log softmax(z)ₖ per sample, computed from logits via log-softmax (max subtracted).
    /// Fused with a final softmax layer: training bypasses it and sends ∂L/∂z = (softmax(z) − y)/batch
    /// to the layer before. Without a final softmax the network's outputs are taken as logits.
    case softmaxCrossEntropy = "cross_entropy"
    /// −[y log σ(z) + (1 − y) log(1 − σ(z))] per output, from logits as max(z, 0) − z·y + log(1 + e^(−|z|)).
    /// Fused with a final sigmoid layer in the same way; averaged over batch × outputs.
    case binaryCrossEntropy = "binary_cross_entropy"
    /// (ŷ − y)² averaged over batch × outputs (PyTorch's MSELoss(reduction: mean)).
    case meanSquaredError = "mse"
}

/// What a batch is trained towards.
public enum Targets<T: EngineScalar> {
    /// One class index per row: [rows]. For cross-entropy (0..<outputs) and binary cross-entropy (0 or 1).
    case classes(UnsafeBufferPointer<Int32>)
    /// Target values: [rows, outputs] row-major. For MSE, binary cross-entropy (in [0, 1]) and
    /// cross-entropy with one-hot or probability targets (each row summing to 1).
    case values(UnsafeBufferPointer<T>)
}

/// Computes the mean loss over `rows` and writes ∂L/∂(outputs) into `gradient`: [rows, width].
/// `outputs` are logits for the two cross-entropies and predictions for MSE.
func lossAndGradient<T: EngineScalar>(
    _ loss: Loss, outputs z: UnsafePointer<T>, rows: Int, width: Int, targets: Targets<T>,
    gradient g: UnsafeMutablePointer<T>
) throws -> Double {
    var total = 0.0  // accumulated in Double, rows in order
    switch (loss, targets) {
    case let (.softmaxCrossEntropy, .classes(labels)):
        guard labels.count >= rows else {
            throw EngineError.targetsSizeMismatch(loss: loss.rawValue, expected: rows, found: labels.count)
        }
        let inverseRows = 1 / T(rows)
        for r in 0..<rows {
            let label = Int(labels[r])
            guard label >= 0 && label < width else {
                throw EngineError.labelOutOfRange(row: r, label: label, classes: width)
            }
            let zr = z + r * width, gr = g + r * width
            let logSum = logSumExpShifted(zr, width: width, exps: gr)  // gr ← e^(z − max)
            // −log softmax(z)_y = −(z_y − max − log Σ e^(z − max))
            total += Double(-(zr[label] - logSum.max - logSum.log))
            let scale = inverseRows / logSum.sum
            for j in 0..<width { gr[j] *= scale }
            gr[label] -= inverseRows
        }
        return total / Double(rows)

    case let (.softmaxCrossEntropy, .values(y)):
        guard y.count >= rows * width else {
            throw EngineError.targetsSizeMismatch(loss: loss.rawValue, expected: rows * width, found: y.count)
        }
        let inverseRows = 1 / T(rows)
        for r in 0..<rows {
            let zr = z + r * width, gr = g + r * width
            let yr = y.baseAddress! + r * width
            let logSum = logSumExpShifted(zr, width: width, exps: gr)
            var targetSum: T = 0
            for j in 0..<width {
                targetSum += yr[j]
                if yr[j] != 0 { total -= Double(yr[j] * (zr[j] - logSum.max - logSum.log)) }
            }
            // ∂/∂zⱼ of −Σ yₖ log pₖ = pⱼ·Σy − yⱼ (= p − y for rows summing to 1).
            for j in 0..<width { gr[j] = (gr[j] / logSum.sum * targetSum - yr[j]) * inverseRows }
        }
        return total / Double(rows)

    case (.binaryCrossEntropy, _):
        let count = rows * width
        let inverseCount = 1 / T(count)
        if case let .classes(labels) = targets {
            guard width == 1 else {
                throw EngineError.lossNeedsOutputs(loss: loss.rawValue, outputs: width, expected: "1 output for class labels")
            }
            guard labels.count >= rows else {
                throw EngineError.targetsSizeMismatch(loss: loss.rawValue, expected: rows, found: labels.count)
            }
            for r in 0..<rows where labels[r] != 0 && labels[r] != 1 {
                throw EngineError.labelOutOfRange(row: r, label: Int(labels[r]), classes: 2)
            }
        }
        if case let .values(y) = targets, y.count < count {
            throw EngineError.targetsSizeMismatch(loss: loss.rawValue, expected: count, found: y.count)
        }
        for i in 0..<count {
            let target: T
            switch targets {
            case let .classes(labels): target = T(labels[i])
            case let .values(y): target = y[i]
            }
            let zi = z[i]
            let absolute = zi < 0 ? -zi : zi
            total += Double((zi > 0 ? zi : 0) - zi * target + T.log1p(T.exp(-absolute)))
            g[i] = (sigmoid(zi) - target) * inverseCount
        }
        return total / Double(count)

    case let (.meanSquaredError, .values(y)):
        let count = rows * width
        guard y.count >= count else {
            throw EngineError.targetsSizeMismatch(loss: loss.rawValue, expected: count, found: y.count)
        }
        let scale = 2 / T(count)
        for i in 0..<count {
            let d = z[i] - y[i]
            total += Double(d * d)
            g[i] = scale * d
        }
        return total / Double(count)

    case (.meanSquaredError, .classes):
        throw EngineError.targetsSizeMismatch(loss: loss.rawValue, expected: rows * width, found: 0)
    }
}

/// For one row of logits: max, Σ e^(z − max) and its log; writes e^(z − max) into `exps`.
@inline(__always)
private func logSumExpShifted<T: EngineScalar>(_ z: UnsafePointer<T>, width: Int, exps: UnsafeMutablePointer<T>)
    -> (max: T, sum: T, log: T) {
    var largest = z[0]
    for j in 0..<width where z[j] > largest { largest = z[j] }
    var sum: T = 0
    for j in 0..<width {
        let e = T.exp(z[j] - largest)
        exps[j] = e
        sum += e
    }
    return (largest, sum, T.log(sum))
}
