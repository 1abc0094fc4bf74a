// Fully connected layer: z = x·W + b (course text 3.1/3.2: W is [inputs, outputs], row-major).

import NNParallel

public final class DenseLayer<T: EngineScalar> {
    public let inputs: Int
    public let outputs: Int
    /// W: [inputs, outputs]
    public let weight: EngineTensor<T>
    /// b: [outputs]
    public let bias: EngineTensor<T>
    public let weightGradient: EngineTensor<T>
    public let biasGradient: EngineTensor<T>
    let output: ScratchBuffer<T>
    let inputGradient: ScratchBuffer<T>

    public init(inputs: Int, outputs: Int) {
        self.inputs = inputs
        self.outputs = outputs
        weight = EngineTensor(name: "weight", shape: [inputs, outputs])
        bias = EngineTensor(name: "bias", shape: [outputs])
        weightGradient = EngineTensor(name: "weight", shape: [inputs, outputs])
        biasGradient = EngineTensor(name: "bias", shape: [outputs])
        output = ScratchBuffer(capacity: 0)
        inputGradient = ScratchBuffer(capacity: 0)
    }

    public func reserve(rows: Int) {
        output.reserve(rows * outputs)
        inputGradient.reserve(rows * inputs)
    }

    /// x: [rows, inputs] → z: [rows, outputs]
    public func forward(_ x: UnsafePointer<T>, rows: Int, pool: WorkerPool) -> UnsafePointer<T> {
        let z = output.pointer
        // The product adds b to every row as it writes z (no separate broadcast pass).
        T.gemm(transA: false, transB: false, m: rows, n: outputs, k: inputs,
               alpha: 1, a: x, lda: inputs, b: weight.pointer, ldb: outputs,
               beta: 0, c: z, ldc: outputs, bias: bias.pointer, pool: pool)
        return UnsafePointer(z)
    }

    /// dz: [rows, outputs] (already averaged over the batch by the loss) →
    ///   dW = xᵀ·dz: [inputs, outputs], db = Σ_rows dz: [outputs], dx = dz·Wᵀ: [rows, inputs].
    /// dx is skipped for the first layer (`needsInputGradient` false).
    public func backward(input x: UnsafePointer<T>, outputGradient dz: UnsafePointer<T>, rows: Int,
                  needsInputGradient: Bool, pool: WorkerPool) -> UnsafePointer<T>? {
        T.gemm(transA: true, transB: false, m: inputs, n: outputs, k: rows,
               alpha: 1, a: x, lda: inputs, b: dz, ldb: outputs,
               beta: 0, c: weightGradient.pointer, ldc: outputs, bias: nil, pool: pool)
        // Bias gradient: rows summed in order 0, 1, 2, … for every column (thread-count independent).
        let db = biasGradient.pointer
        db.update(repeating: 0, count: outputs)
        for r in 0..<rows {
            let row = dz + r * outputs
            for j in 0..<outputs { db[j] += row[j] }
        }
        guard needsInputGradient else { return nil }
        let dx = inputGradient.pointer
        T.gemm(transA: false, transB: true, m: rows, n: inputs, k: outputs,
               alpha: 1, a: dz, lda: outputs, b: weight.pointer, ldb: outputs,
               beta: 0, c: dx, ldc: inputs, bias: nil, pool: pool)
        return UnsafePointer(dx)
    }
}
