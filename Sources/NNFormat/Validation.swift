// Consistency rules shared by the reader (before inflating anything) and the writer (before writing).

/// What validation needs to know of a tensor without its values.
struct TensorDescriptor {
    var dtype: DType
    var shape: [Int]
}

extension Checkpoint {
    /// Checks every consistency rule of the format (section 2 of formats/nnck-v1.md): unique names,
    /// widths chaining from the feature count through the layers to the output, every referenced
    /// tensor present with the right shape and dtype, value ranges, and normalization scales
    /// finite and non-zero. Throws `CheckpointError.inconsistent` (or `.duplicateTensor`).
    public func validate(source: String = "checkpoint") throws {
        var descriptors: [String: TensorDescriptor] = [:]
        for tensor in tensors {
            guard !tensor.name.isEmpty else {
                throw CheckpointError.inconsistent(file: source, field: "tensors", found: "a tensor with an empty name", expected: "non-empty tensor names")
            }
            guard let count = tensor.elementCount else {
                throw CheckpointError.shapeOverflow(file: source, tensor: tensor.name, shape: tensor.shape)
            }
            guard count == tensor.values.count else {
                throw CheckpointError.inconsistent(file: source, field: "tensor \"\(tensor.name)\"",
                                                   found: "\(tensor.values.count) values",
                                                   expected: "\(count) for shape \(Shape.text(tensor.shape))")
            }
            guard descriptors.updateValue(TensorDescriptor(dtype: tensor.dtype, shape: tensor.shape), forKey: tensor.name) == nil else {
                throw CheckpointError.duplicateTensor(file: source, tensor: tensor.name)
            }
        }
        try validateStructure(tensors: descriptors, source: source)
        try validateValues(source: source)
    }

    /// The rules that need only names, dtypes and shapes.
    func validateStructure(tensors: [String: TensorDescriptor], source: String) throws {
        func fail(_ field: String, _ found: String, _ expected: String) -> CheckpointError {
            .inconsistent(file: source, field: field, found: found, expected: expected)
        }
        func requireTensor(_ name: String, shape: [Int], field: String, dtype: DType? = nil) throws {
            guard let descriptor = tensors[name] else {
                throw fail(field, "tensor \"\(name)\" which is not in the tensor table", "the name of a stored tensor")
            }
            guard descriptor.shape == shape else {
                throw fail(field, "tensor \"\(name)\" of shape \(Shape.text(descriptor.shape))", "shape \(Shape.text(shape))")
            }
            if let dtype, descriptor.dtype != dtype {
                throw fail(field, "tensor \"\(name)\" of dtype \(descriptor.dtype.rawValue)", "dtype \(dtype.rawValue) like the layer's other tensors")
            }
        }
        func requireUnique(_ names: [String], field: String) throws {
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted {
                throw fail(field, "\"\(name)\" twice", "unique names")
            }
        }
        func requireFinite(_ value: Double, _ field: String, _ range: ClosedRange<Double>? = nil, openUpper: Bool = false, positive: Bool = false) throws {
            guard value.isFinite else { throw fail(field, "\(value)", "a finite number") }
            if positive, value <= 0 { throw fail(field, "\(value)", "a number > 0") }
            if let range {
                let inside = range.contains(value) && !(openUpper && value == range.upperBound)
                guard inside else {
                    throw fail(field, "\(value)", "a number in [\(range.lowerBound), \(range.upperBound)\(openUpper ? ")" : "]")")
                }
            }
        }

        let featureCount = input.features.count
        guard featureCount >= 1 else { throw fail("model.input.features", "no features", "at least one feature name") }
        try requireUnique(input.features, field: "model.input.features")
        switch input.normalization.kind {
        case .none:
            guard input.normalization.offset == nil, input.normalization.scale == nil else {
                throw fail("model.input.normalization", "offset/scale tensors with kind none", "no tensors for kind none")
            }
        case .standard, .minmax:
            guard let offset = input.normalization.offset, let scale = input.normalization.scale else {
                throw fail("model.input.normalization", "kind \(input.normalization.kind.rawValue) without offset and scale", "offset and scale tensor names")
            }
            try requireTensor(offset, shape: [featureCount], field: "model.input.normalization.offset")
            try requireTensor(scale, shape: [featureCount], field: "model.input.normalization.scale")
        }

        var width = featureCount
        for (index, layer) in layers.enumerated() {
            let field = "model.layers[\(index)]"
            switch layer {
            case .dense(let dense):
                guard dense.inputs == width else {
                    throw fail("\(field).inputs", "\(dense.inputs)", "\(width), the width of the previous layer's output")
                }
                guard dense.outputs >= 1 else { throw fail("\(field).outputs", "\(dense.outputs)", "at least 1") }
                try requireTensor(dense.weight, shape: [dense.inputs, dense.outputs], field: "\(field).weight")
                try requireTensor(dense.bias, shape: [dense.outputs], field: "\(field).bias", dtype: tensors[dense.weight]!.dtype)
                width = dense.outputs
            case .activation(let function):
                if case .leakyRelu(let slope) = function { try requireFinite(slope, "\(field).slope") }
            case .batchNorm(let norm):
                guard norm.features == width else {
                    throw fail("\(field).features", "\(norm.features)", "\(width), the width of the previous layer's output")
                }
                try requireFinite(norm.epsilon, "\(field).epsilon", positive: true)
                try requireFinite(norm.momentum, "\(field).momentum", 0...1)
                try requireTensor(norm.gamma, shape: [width], field: "\(field).gamma")
                let dtype = tensors[norm.gamma]!.dtype
                try requireTensor(norm.beta, shape: [width], field: "\(field).beta", dtype: dtype)
                try requireTensor(norm.runningMean, shape: [width], field: "\(field).running_mean", dtype: dtype)
                try requireTensor(norm.runningVar, shape: [width], field: "\(field).running_var", dtype: dtype)
            case .dropout(let rate):
                try requireFinite(rate, "\(field).rate", 0...1, openUpper: true)
            }
        }

        switch output {
        case .classification(_, let classes):
            guard classes.count >= 2 else { throw fail("model.output.classes", "\(classes.count) classes", "at least 2") }
            try requireUnique(classes, field: "model.output.classes")
        case .regression(let targets):
            guard targets.count >= 1 else { throw fail("model.output.targets", "no targets", "at least 1 target name") }
            try requireUnique(targets, field: "model.output.targets")
        }
        guard width == output.width else {
            let what: String
            if case .classification = output { what = "the \(output.width) classes" } else { what = "the \(output.width) targets" }
            throw fail("model.layers", "a final width of \(width)", "\(output.width), one output per entry of \(what)")
        }

        if let verification {
            guard let inputs = tensors[verification.inputs] else {
                throw fail("verification.inputs", "tensor \"\(verification.inputs)\" which is not in the tensor table", "the name of a stored tensor")
            }
            guard inputs.shape.count == 2, inputs.shape[0] >= 1 else {
                throw fail("verification.inputs", "shape \(Shape.text(inputs.shape))", "[rows ≥ 1, \(featureCount)]")
            }
            try requireTensor(verification.inputs, shape: [inputs.shape[0], featureCount], field: "verification.inputs")
            try requireTensor(verification.outputs, shape: [inputs.shape[0], output.width], field: "verification.outputs")
            try requireFinite(verification.absTolerance, "verification.abs_tolerance", 0...Double.greatestFiniteMagnitude)
            try requireFinite(verification.relTolerance, "verification.rel_tolerance", 0...Double.greatestFiniteMagnitude)
        }

        if let optimizer {
            guard optimizer.step >= 0 else { throw fail("optimizer.step", "\(optimizer.step)", "an integer ≥ 0") }
            for (name, value) in optimizer.hyperparameters { try requireFinite(value, "optimizer.hyperparameters.\(name)") }
            for (parameter, slots) in optimizer.slots {
                guard let descriptor = tensors[parameter] else {
                    throw fail("optimizer.slots", "parameter \"\(parameter)\" which is not in the tensor table", "the name of a stored tensor")
                }
                for (slot, tensorName) in slots {
                    try requireTensor(tensorName, shape: descriptor.shape, field: "optimizer.slots.\(parameter).\(slot)")
                }
            }
        }

        if let training {
            if let seed = training.seed, seed > UInt64(Int64.max) { throw fail("training.seed", "\(seed)", "at most 2^63 − 1") }
            if let epochs = training.epochs, epochs < 0 { throw fail("training.epochs", "\(epochs)", "an integer ≥ 0") }
            if let rows = training.dataset?.rows, rows < 0 { throw fail("training.dataset.rows", "\(rows)", "an integer ≥ 0") }
            if let sha = training.dataset?.sha256 {
                guard sha.utf8.count == 64, sha.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                    throw fail("training.dataset.sha256", "\"\(sha)\"", "64 lowercase hexadecimal digits")
                }
            }
            for (name, value) in training.finalMetrics { try requireFinite(value, "training.final_metrics.\(name)") }
            for (epoch, entry) in training.history.enumerated() {
                for (name, value) in entry { try requireFinite(value, "training.history[\(epoch)].\(name)") }
            }
        }
    }

    /// The rules on stored values: normalization offsets finite, scales finite and non-zero.
    func validateValues(source: String) throws {
        guard input.normalization.kind != .none,
              let offsetName = input.normalization.offset, let scaleName = input.normalization.scale,
              let offset = tensor(named: offsetName), let scale = tensor(named: scaleName) else { return }
        for (index, value) in offset.values.doubles.enumerated() where !value.isFinite {
            throw CheckpointError.inconsistent(file: source, field: "model.input.normalization.offset[\(index)] (tensor \"\(offsetName)\")",
                                               found: "\(value)", expected: "a finite number")
        }
        for (index, value) in scale.values.doubles.enumerated() where !value.isFinite || value == 0 {
            throw CheckpointError.inconsistent(file: source, field: "model.input.normalization.scale[\(index)] (tensor \"\(scaleName)\")",
                                               found: "\(value)", expected: "a finite, non-zero number")
        }
    }
}
