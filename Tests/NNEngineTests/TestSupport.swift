import XCTest
import NNEngine

func assertClose<T: BinaryFloatingPoint>(_ actual: [T], _ expected: [Double], accuracy: Double,
                                         _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(Double(a), e, accuracy: accuracy, "\(message) [\(i)]: \(actual)", file: file, line: line)
    }
}

/// The course text's 3.1 network: 2 → 3 relu → 2, with its W1, b1, W2, b2 (plus optional final layers).
func courseNetwork<T: EngineScalar>(_: T.Type, extra: [LayerSpec] = []) throws -> Network<T> {
    let network = try Network<T>(specs: [.dense(inputs: 2, outputs: 3), .activation(.relu), .dense(inputs: 3, outputs: 2)] + extra)
    try network.tensor(named: "0.weight")!.setValues([0.1, 0.2, -0.1, 0.3, -0.2, 0.4])
    try network.tensor(named: "0.bias")!.setValues([0.1, 0.0, -0.1])
    try network.tensor(named: "2.weight")!.setValues([0.5, -0.3, 0.2, 0.4, -0.1, 0.2])
    try network.tensor(named: "2.bias")!.setValues([0.1, -0.1])
    return network
}

extension Network {
    func gradients(inputs: [T], rows: Int, labels: [Int32], loss: Loss = .softmaxCrossEntropy) throws -> Double {
        try inputs.withUnsafeBufferPointer { x in
            try labels.withUnsafeBufferPointer { y in
                try computeGradients(inputs: x, rows: rows, targets: .classes(y), loss: loss)
            }
        }
    }
    func gradients(inputs: [T], rows: Int, values: [T], loss: Loss) throws -> Double {
        try inputs.withUnsafeBufferPointer { x in
            try values.withUnsafeBufferPointer { y in
                try computeGradients(inputs: x, rows: rows, targets: .values(y), loss: loss)
            }
        }
    }
    func train(inputs: [T], rows: Int, labels: [Int32], loss: Loss = .softmaxCrossEntropy,
               optimizer: Optimizer<T>, learningRate: Double) throws -> Double {
        try inputs.withUnsafeBufferPointer { x in
            try labels.withUnsafeBufferPointer { y in
                try trainStep(inputs: x, rows: rows, targets: .classes(y), loss: loss, optimizer: optimizer, learningRate: learningRate)
            }
        }
    }
    func gradient(_ name: String) -> [T] { parameters.first { $0.name == name }!.gradient.values }
}
