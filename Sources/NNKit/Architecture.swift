/// The hidden part of a network as a user writes it with `--layers`, e.g.
/// `128:relu,batchnorm,dropout:0.2,64:relu`. The output layer is not written: it follows from the
/// task (a dense layer to the class count with softmax, or to the targets with a linear output).
///
/// Grammar (items separated by commas, white space around items ignored):
///   UNITS[:ACTIVATION[:SLOPE]]   a dense layer of UNITS outputs, then the activation (default relu;
///                                SLOPE only for leaky_relu, default 0.01)
///   ACTIVATION[:SLOPE]           an activation on its own: relu, leaky_relu, sigmoid, tanh, linear
///   batchnorm[:MOMENTUM]         batch normalization (PyTorch momentum convention, default 0.1)
///   bn[:MOMENTUM]                the same
///   dropout:RATE                 inverted dropout with drop probability RATE in [0, 1)
public enum HiddenLayer: Equatable, CustomStringConvertible {
    case dense(units: Int)
    case activation(ActivationName, slope: Double?)
    case batchnorm(momentum: Double?)
    case dropout(rate: Double)

    public var description: String {
        switch self {
        case .dense(let units): return "dense(\(units))"
        case .activation(let name, let slope): return slope.map { "\(name.rawValue)(\($0))" } ?? name.rawValue
        case .batchnorm(let m): return m.map { "batchnorm(momentum \($0))" } ?? "batchnorm"
        case .dropout(let rate): return "dropout(\(rate))"
        }
    }
}

/// Activation functions a user can name; `softmax` is reserved for the output layer.
public enum ActivationName: String, CaseIterable, Equatable {
    case relu, leakyRelu = "leaky_relu", sigmoid, tanh, linear, softmax
}

public enum ArchitectureError: Error, CustomStringConvertible, Equatable {
    case empty
    case badItem(index: Int, item: String, reason: String)

    public var description: String {
        switch self {
        case .empty:
            return "--layers: no layers given (expected e.g. 64:relu,32:relu)"
        case .badItem(let index, let item, let reason):
            return "--layers: item \(index) '\(item)': \(reason)"
        }
    }
}

public enum Architecture {
    /// Largest width a dense layer may have; guards against typos like 10000000.
    public static let maxUnits = 1 << 20
    /// Largest number of items in a spec.
    public static let maxItems = 1024

    /// Parses a `--layers` spec (grammar above) into hidden layers.
    public static func parse(_ spec: String) throws -> [HiddenLayer] {
        let items = spec.split(separator: ",", omittingEmptySubsequences: false).map { trim(String($0)) }
        if items.count == 1 && items[0].isEmpty { throw ArchitectureError.empty }
        guard items.count <= maxItems else {
            throw ArchitectureError.badItem(index: maxItems + 1, item: items[maxItems], reason: "more than \(maxItems) items")
        }
        var layers: [HiddenLayer] = []
        for (i, item) in items.enumerated() {
            let index = i + 1
            func bad(_ reason: String) -> ArchitectureError { .badItem(index: index, item: item, reason: reason) }
            guard !item.isEmpty else { throw bad("empty item (two commas in a row, or a trailing comma?)") }
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map { trim(String($0)) }
            let head = parts[0].lowercased()
            if let first = head.first, first.isNumber {
                guard let units = Int(head), units >= 1, units <= maxUnits else {
                    throw bad("layer width must be a whole number from 1 to \(maxUnits)")
                }
                layers.append(.dense(units: units))
                guard parts.count <= 3 else { throw bad("expected UNITS[:ACTIVATION[:SLOPE]]") }
                let activation = parts.count >= 2 ? parts[1].lowercased() : "relu"
                layers.append(try parseActivation(activation, slope: parts.count == 3 ? parts[2] : nil, bad: bad))
                continue
            }
            switch head {
            case "batchnorm", "bn", "batch_norm":
                guard parts.count <= 2 else { throw bad("expected batchnorm[:MOMENTUM]") }
                var momentum: Double?
                if parts.count == 2 {
                    guard let m = Double(parts[1]), m > 0, m < 1 else { throw bad("batchnorm momentum must be a number in (0, 1)") }
                    momentum = m
                }
                layers.append(.batchnorm(momentum: momentum))
            case "dropout":
                guard parts.count == 2, let rate = Double(parts[1]) else { throw bad("expected dropout:RATE, e.g. dropout:0.2") }
                guard rate >= 0, rate < 1 else { throw bad("dropout rate must be in [0, 1), got \(parts[1])") }
                layers.append(.dropout(rate: rate))
            default:
                guard parts.count <= 2 else { throw bad("expected ACTIVATION[:SLOPE]") }
                layers.append(try parseActivation(head, slope: parts.count == 2 ? parts[1] : nil, bad: bad))
            }
        }
        return layers
    }

    private static func parseActivation(_ name: String, slope: String?, bad: (String) -> ArchitectureError) throws -> HiddenLayer {
        let known = ActivationName.allCases.filter { $0 != .softmax }.map(\.rawValue)
        guard let activation = ActivationName(rawValue: name), activation != .softmax else {
            if name == "softmax" { throw bad("softmax is the output layer's activation; it is added for classification") }
            throw bad("unknown activation '\(name)' (expected one of \(known.joined(separator: ", ")))")
        }
        guard let slopeText = slope else {
            return .activation(activation, slope: activation == .leakyRelu ? 0.01 : nil)
        }
        guard activation == .leakyRelu else { throw bad("only leaky_relu takes a slope") }
        guard let s = Double(slopeText), s.isFinite, s >= 0, s < 1 else { throw bad("leaky_relu slope must be a number in [0, 1)") }
        return .activation(activation, slope: s)
    }

    private static func trim(_ s: String) -> String {
        var t = Substring(s)
        while let c = t.first, c == " " || c == "\t" { t = t.dropFirst() }
        while let c = t.last, c == " " || c == "\t" { t = t.dropLast() }
        return String(t)
    }
}
