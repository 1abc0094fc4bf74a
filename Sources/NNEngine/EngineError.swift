// Errors for things that come from outside the engine (checkpoint specs, data, saved optimizer state).

public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// A layer list that does not chain, e.g. dense(inputs: 3) after a layer producing 4 features.
    case layerShapeMismatch(layer: Int, kind: String, expectedInputs: Int, found: Int)
    /// A layer parameter out of range, e.g. dropout rate 1.5 or batchnorm epsilon ≤ 0.
    case invalidLayerParameter(layer: Int, kind: String, parameter: String, value: String, expected: String)
    /// The network has no layers or no dense layer to fix the input width.
    case emptyNetwork
    case tensorSizeMismatch(name: String, shape: [Int], found: Int)
    case inputSizeMismatch(expected: Int, found: Int)
    case labelOutOfRange(row: Int, label: Int, classes: Int)
    case lossNeedsOutputs(loss: String, outputs: Int, expected: String)
    case targetsSizeMismatch(loss: String, expected: Int, found: Int)
    case unknownTensor(name: String)
    case optimizerStateMismatch(name: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .layerShapeMismatch(layer, kind, expected, found):
            return "layer \(layer) (\(kind)): expects \(expected) input features but the previous layer produces \(found)"
        case let .invalidLayerParameter(layer, kind, parameter, value, expected):
            return "layer \(layer) (\(kind)): \(parameter) = \(value), expected \(expected)"
        case .emptyNetwork:
            return "network: no layers, or no dense or batchnorm layer to fix the number of input features"
        case let .tensorSizeMismatch(name, shape, found):
            return "tensor \(name): shape \(shape) needs \(shape.reduce(1, *)) values, found \(found)"
        case let .inputSizeMismatch(expected, found):
            return "inputs: expected a multiple of \(expected) values (rows × features), found \(found)"
        case let .labelOutOfRange(row, label, classes):
            return "labels: row \(row) has class \(label), expected 0..<\(classes)"
        case let .lossNeedsOutputs(loss, outputs, expected):
            return "loss \(loss): the network has \(outputs) outputs, expected \(expected)"
        case let .targetsSizeMismatch(loss, expected, found):
            return "loss \(loss): expected \(expected) target values, found \(found)"
        case let .unknownTensor(name):
            return "no tensor named \(name) in this network"
        case let .optimizerStateMismatch(name, expected, found):
            return "optimizer state \(name): expected \(expected), found \(found)"
        }
    }
}
