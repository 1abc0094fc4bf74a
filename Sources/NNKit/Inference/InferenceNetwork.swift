// The forward pass as nninfer runs it: the trained network rewritten, once at load time, into a
// chain of dense steps with nothing else between them.
//
// - Batchnorm in inference mode is the affine map y = x·s + t per feature (s = γ/√(var + ε),
//   t = β − mean·s, as BatchNormLayer computes them). It is folded into a neighbouring dense
//   layer: into the one before it when they touch (W' = W·diag(s), b' = b·s + t), otherwise into
//   the one after it (W' = diag(s)·W, b' = t·W + b). Same function, different float rounding.
// - Dropout is the identity at inference and disappears.
// - An activation right after a dense step runs on the step's output while it is in cache (the
//   GEMM's epilogue adds the bias, and applies a ReLU itself, so neither takes a separate pass).
// - Rows are split into a few contiguous blocks per thread (taken dynamically, so a thread slowed
//   by the CSV parser's thread leaves its share to the others), and the whole chain runs on a
//   block in chunks of `chunkRows` (intermediates stay in L2; one synchronization per call, not
//   one per layer). Every row's result depends on its own values only — the GEMM's summation
//   order is fixed by k, whatever the rows around it — so outputs do not depend on the thread
//   count or the batch size.
// Networks this cannot express (a batchnorm with no dense layer to fold into, an activation that
// is not right after a dense layer) are run by `Network.predict` instead (`init` returns nil).

import NNEngine
import NNParallel

final class InferenceNetwork {
    /// One dense layer with what follows it: y = f(x·weight + bias), as `init` assembles it.
    private struct Step {
        let inputs: Int
        let outputs: Int
        /// [inputs, outputs], row-major.
        let weight: [Float]
        /// [outputs]
        let bias: [Float]
        let activation: Activation
    }

    /// A step as it runs: its weight packed once for the GEMM (packing it again for every chunk of
    /// rows took about 3% of nninfer's time on the W2 model) and not kept as an array besides.
    private struct PackedStep {
        let inputs: Int
        let outputs: Int
        let weight: GemmPackedMatrix
        let bias: [Float]
        let activation: Activation

        init(_ step: Step) {
            inputs = step.inputs
            outputs = step.outputs
            weight = step.weight.withUnsafeBufferPointer {
                GemmPackedMatrix(k: step.inputs, n: step.outputs, b: $0.baseAddress!, ldb: step.outputs)
            }
            bias = step.bias
            activation = step.activation
        }
    }

    private let steps: [PackedStep]
    let inputFeatures: Int
    let outputFeatures: Int
    /// Rows run through the chain at a time by one thread: enough that packing the weights is paid
    /// rarely (at 128 rows the extra packing outweighs the saved passes), few enough for L2, and a
    /// multiple of the GEMM's row tile (252 = 42 × 6), so no chunk but the last has a partial tile.
    static let chunkRows = 42 * Gemm.rowTile
    /// Blocks of rows per call: one on a single thread, else `blocksPerThread` per thread.
    private let maxBlocks: Int
    static let blocksPerThread = 4
    /// Two ping-pong buffers per block, [chunkRows, widest step] each.
    private let scratch: [UnsafeMutablePointer<Float>]

    /// The chain equivalent to `network` in inference mode, or nil when its layers do not fit the
    /// pattern (dense, then optional batchnorm / activation / dropout, with batchnorm foldable).
    init?(network: Network<Float>, threads: Int) {
        var steps: [Step] = []
        // A batchnorm waiting for the next dense layer: x ↦ x·scale + shift on its input.
        var pendingScale: [Double]?, pendingShift: [Double]?
        // Whether the last step may still absorb a batchnorm or an activation.
        var lastStepOpen = false
        for (index, layer) in network.layers.enumerated() {
            switch layer {
            case let .dense(dense):
                let inputs = dense.inputs, outputs = dense.outputs
                var weight = (0..<(inputs * outputs)).map { Double(dense.weight.pointer[$0]) }
                var bias = (0..<outputs).map { Double(dense.bias.pointer[$0]) }
                if let scale = pendingScale, let shift = pendingShift {
                    // (x·s + t)·W + b = x·(diag(s)·W) + (t·W + b)
                    for i in 0..<inputs {
                        for j in 0..<outputs {
                            bias[j] += shift[i] * weight[i * outputs + j]
                            weight[i * outputs + j] *= scale[i]
                        }
                    }
                    pendingScale = nil
                    pendingShift = nil
                }
                steps.append(Step(inputs: inputs, outputs: outputs, weight: weight.map { Float($0) },
                                  bias: bias.map { Float($0) }, activation: .linear))
                lastStepOpen = true
            case let .batchNorm(norm):
                guard case let .batchNorm(_, config) = network.specs[index], pendingScale == nil else { return nil }
                // The same per-feature scale and shift as BatchNormLayer's inference forward, in Float.
                let features = norm.features
                var scale = [Double](repeating: 0, count: features), shift = scale
                for j in 0..<features {
                    let s = norm.gamma.pointer[j] / (norm.runningVariance.pointer[j] + Float(config.epsilon)).squareRoot()
                    scale[j] = Double(s)
                    shift[j] = Double(norm.beta.pointer[j] - norm.runningMean.pointer[j] * s)
                }
                if lastStepOpen, steps.last!.activation == .linear {
                    // (x·W + b)·s + t = x·(W·diag(s)) + (b·s + t)
                    let last = steps.removeLast()
                    var weight = last.weight, bias = last.bias
                    for i in 0..<last.inputs {
                        for j in 0..<last.outputs { weight[i * last.outputs + j] = Float(Double(weight[i * last.outputs + j]) * scale[j]) }
                    }
                    for j in 0..<last.outputs { bias[j] = Float(Double(bias[j]) * scale[j] + shift[j]) }
                    steps.append(Step(inputs: last.inputs, outputs: last.outputs, weight: weight, bias: bias, activation: .linear))
                } else {
                    pendingScale = scale
                    pendingShift = shift
                    lastStepOpen = false
                }
            case let .activation(activation):
                guard lastStepOpen, pendingScale == nil, let last = steps.last, last.activation == .linear else { return nil }
                steps[steps.count - 1] = Step(inputs: last.inputs, outputs: last.outputs, weight: last.weight,
                                              bias: last.bias, activation: activation.activation)
            case .dropout:
                break
            }
        }
        guard let first = steps.first, pendingScale == nil else { return nil }
        self.steps = steps.map(PackedStep.init)
        inputFeatures = first.inputs
        outputFeatures = steps.last!.outputs
        maxBlocks = threads > 1 ? threads * Self.blocksPerThread : 1
        let widest = steps.map(\.outputs).max()!
        scratch = (0..<(2 * maxBlocks)).map { _ in .allocate(capacity: Self.chunkRows * widest) }
    }

    deinit { for buffer in scratch { buffer.deallocate() } }

    /// x: [rows, inputFeatures] → output: [rows, outputFeatures], on the threads of `pool`.
    func predict(_ x: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let parts = max(1, min(maxBlocks, (rows + Self.chunkRows - 1) / Self.chunkRows))
        pool.parallelFor(parts) { part in
            let base = rows / parts, extra = rows % parts
            let start = part * base + min(part, extra)
            let end = start + base + (part < extra ? 1 : 0)
            var chunk = start
            while chunk < end {
                let count = min(Self.chunkRows, end - chunk)
                run(x + chunk * inputFeatures, rows: count, into: output + chunk * outputFeatures,
                    buffers: (scratch[2 * part], scratch[2 * part + 1]))
                chunk += count
            }
        }
    }

    /// The whole chain on `rows` ≤ chunkRows rows, intermediates in the two buffers.
    private func run(_ x: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>,
                     buffers: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        var input = x
        for (index, step) in steps.enumerated() {
            let isLast = index == steps.count - 1
            let z = isLast ? output : (index % 2 == 0 ? buffers.0 : buffers.1)
            let n = step.outputs
            // z = x·W + b, the bias (and a ReLU) applied by the product's epilogue (no separate pass).
            let reluInEpilogue = step.activation == .relu
            step.bias.withUnsafeBufferPointer { bias in
                Gemm.sgemm(m: rows, a: input, lda: step.inputs, packedB: step.weight,
                           c: z, ldc: n, bias: bias.baseAddress!, relu: reluInEpilogue)
            }
            if !reluInEpilogue { step.activation.applyInPlace(z, rows: rows, width: n) }
            input = UnsafePointer(z)
        }
    }
}
